#include "plugin/resource.h"

#include "kube/json_fields.h"
#include "stillontime/defaults.h"
#include "stillontime/validate.h"

namespace sot::plugin {

kube::Result<stillontime::StillOnTime> defaulted_resource(const nlohmann::json& cr) {
  auto parsed = stillontime::parse(cr);
  if (!parsed.ok()) return kube::make_error(kube::Code::kInvalid, stillontime::join_errors(parsed.errors));
  stillontime::StillOnTime r = stillontime::apply_defaults(std::move(parsed.resource));
  if (auto errors = stillontime::validate(r); !errors.empty()) {
    return kube::make_error(kube::Code::kInvalid, stillontime::join_errors(errors));
  }
  return r;
}

const nlohmann::json& condition(const nlohmann::json& cr, const std::string& type) {
  static const nlohmann::json kNone = nlohmann::json::object();
  for (const auto& c : kube::array_field(kube::object_field(cr, "status"), "conditions")) {
    if (kube::string_field(c, "type") == type) return c;
  }
  return kNone;
}

std::string condition_status(const nlohmann::json& cr, const std::string& type) {
  return kube::string_field(condition(cr, type), "status");
}

std::string image_tag(const std::string& image) {
  if (const auto at = image.find('@'); at != std::string::npos) return image.substr(at + 1);
  const auto slash = image.rfind('/');
  const auto colon = image.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) return image.substr(colon + 1);
  return image.empty() ? "" : "latest";
}

}  // namespace sot::plugin
