// What several stages share (see common.h).
#include "controller/common.h"

#include <chrono>

#include "stillontime/builders/common.h"
#include "stillontime/spec.h"
#include "stillontime/status.h"

namespace sot::stillontime {

using Json = nlohmann::json;

const Json& spec_of(const Json& cr) {
  static const Json kEmpty = Json::object();
  auto it = cr.find("spec");
  return it != cr.end() && it->is_object() ? *it : kEmpty;
}

Json current_status(const Json& cr) {
  auto it = cr.find("status");
  return it != cr.end() && it->is_object() ? *it : Json::object();
}

std::string now_rfc3339() {
  return rfc3339(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

std::string owner_selector_text(const kube::ObjectKey& key) {
  return std::string(kLabelOwner) + "=" + key.ns + "." + key.name;
}

bool owned_by_other_controller(const Json& object) {
  for (const auto& ref : object["metadata"].value("ownerReferences", Json::array())) {
    if (ref.value("controller", false) && ref.value("kind", "") != kKind) return true;
  }
  return false;
}

bool too_large(const kube::Error& e) {
  return e.http_status == 413 || e.reason == "RequestEntityTooLarge" ||
         e.message.find("request is too large") != std::string::npos ||
         (e.message.find("ResourceExhausted") != std::string::npos &&
          e.message.find("larger than max") != std::string::npos);
}

std::string largest_field(const Json& spec) {
  auto bytes = [](const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace).size(); };
  std::string path = "spec";
  const Json* at = &spec;
  std::size_t size = bytes(spec);
  while (at->is_structured() && !at->empty()) {
    const Json* best = nullptr;
    std::string step;
    std::size_t best_size = 0;
    if (at->is_object()) {
      for (const auto& [key, value] : at->items()) {
        if (const std::size_t n = bytes(value); n > best_size) best = &value, step = "." + key, best_size = n;
      }
    } else {
      for (std::size_t i = 0; i < at->size(); ++i) {
        if (const std::size_t n = bytes((*at)[i]); n > best_size)
          best = &(*at)[i], step = "[" + std::to_string(i) + "]", best_size = n;
      }
    }
    if (best == nullptr || best_size * 2 < size) break;  // no single part holds most of it
    path += step;
    at = best;
    size = best_size;
  }
  return path;
}

void report_resource_too_large(runtime::Context& ctx, const Json& cr, const kube::Error& error) {
  const std::string field = largest_field(spec_of(cr));
  const std::string message =
      field + ": this StillOnTime (" + std::to_string(cr.dump(-1, ' ', false, Json::error_handler_t::replace).size()) +
      " bytes of JSON) is as large as the API server stores; its status and finalizer do not fit (" + error.message +
      "); make " + field + " smaller";
  ctx.log().warn("resource too large", {{"field", field}, {"error", error.to_string()}});
  if (ctx.events() != nullptr) ctx.events()->warning(cr, "ResourceTooLarge", message);
}

}  // namespace sot::stillontime
