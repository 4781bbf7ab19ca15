#include "stillontime/drift.h"

#include <cmath>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/digest.h"
#include "stillontime/validate.h"

namespace sot::stillontime {
namespace {

bool is_zero(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null:
      return true;
    case nlohmann::json::value_t::string:
      return v.get_ref<const std::string&>().empty();
    case nlohmann::json::value_t::boolean:
      return !v.get<bool>();
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return v.get<double>() == 0.0;
    case nlohmann::json::value_t::object:
    case nlohmann::json::value_t::array:
      return v.empty();
    default:
      return false;
  }
}

bool scalar_equal(const nlohmann::json& live, const nlohmann::json& desired) {
  if (live == desired) return true;
  if (live.is_number() && desired.is_number()) return live.get<double>() == desired.get<double>();
  if (live.is_string() && desired.is_string()) {
    auto a = quantity_value(live.get_ref<const std::string&>());
    auto b = quantity_value(desired.get_ref<const std::string&>());
    if (a && b && std::isfinite(*a) && std::isfinite(*b))
      return std::fabs(static_cast<double>(*a - *b)) <= 1e-9 * std::max(1.0, std::fabs(static_cast<double>(*b)));
  }
  // int-or-string fields (targetPort, maxUnavailable) may come back as the other form.
  if (live.is_number() && desired.is_string()) return live.dump() == desired.get_ref<const std::string&>();
  if (live.is_string() && desired.is_number()) return live.get_ref<const std::string&>() == desired.dump();
  return false;
}

}  // namespace

std::string content_hash(const nlohmann::json& object) {
  return common::sha256_hex(object.dump());
}

nlohmann::json stamp_applied_hash(nlohmann::json desired) {
  if (desired.contains("metadata") && desired["metadata"].contains("annotations")) {
    desired["metadata"]["annotations"].erase(kAppliedHashAnnotation);
    if (desired["metadata"]["annotations"].empty()) desired["metadata"].erase("annotations");
  }
  const std::string hash = content_hash(desired);
  desired["metadata"]["annotations"][kAppliedHashAnnotation] = hash;
  return desired;
}

namespace {

// Lists the API server merges by key (patchMergeKey / x-kubernetes-list-map-keys)
// in the kinds we write. With server-side apply, an element another manager put
// there (an env var from `kubectl set env`, a sidecar container, an extra Service
// port) is theirs: our apply can neither own nor remove it, so it is not drift.
// Re-applying because of it never converges (the operator wrote once a second,
// forever, after one `kubectl set env`).
// The key of `element` in the list `list`, or nullopt when `list` is not merged
// by key (an atomic list: compared whole) or the element has no key.
bool merged_by_name(std::string_view list) {
  return list == "containers" || list == "initContainers" || list == "env" || list == "volumes" ||
         list == "imagePullSecrets" || list == "volumeMounts" || list == "ownerReferences";
}

std::optional<std::string> merge_key(std::string_view list, const nlohmann::json& element) {
  if (!element.is_object()) return std::nullopt;
  auto field = [&](const char* name) -> std::optional<std::string> {
    auto it = element.find(name);
    if (it == element.end() || it->is_null()) return std::nullopt;
    return it->is_string() ? it->get<std::string>() : it->dump();
  };
  if (list == "containers" || list == "initContainers" || list == "env" || list == "volumes" ||
      list == "imagePullSecrets") {
    return field("name");
  }
  if (list == "volumeMounts") return field("mountPath");
  if (list == "ownerReferences") return field("uid");
  if (list == "ports") {
    // A container's ports (containerPort, protocol) and a Service's (port,
    // protocol) are merged by key; a NetworkPolicy rule's ports are atomic.
    const char* number = element.contains("containerPort") ? "containerPort"
                         : element.contains("targetPort")  ? "port"
                                                           : nullptr;
    if (number == nullptr) return std::nullopt;
    auto port = field(number);
    if (!port) return std::nullopt;
    return *port + "/" + field("protocol").value_or("TCP");
  }
  return std::nullopt;
}

// Atomic lists longer than this must match in order: the unordered match is
// quadratic, and the only list the server reorders (HPA metrics) has two.
constexpr std::size_t kUnorderedMatchLimit = 64;

bool contains(const nlohmann::json& live, const nlohmann::json& desired, std::string_view list_name);

bool contains_list(const nlohmann::json& live, const nlohmann::json& desired, std::string_view name) {
  if (!live.is_array()) return desired.empty() && live.is_null();
  if (desired.empty() && merged_by_name(name)) return true;
  // Merged by key: each of our elements must be there (matched by key, in any
  // position) with our values; elements of other managers do not count.
  std::vector<std::string> keys;
  keys.reserve(desired.size());
  for (const auto& want : desired) {
    auto key = merge_key(name, want);
    if (!key) break;
    keys.push_back(std::move(*key));
  }
  if (!desired.empty() && keys.size() == desired.size()) {
    std::unordered_map<std::string_view, const nlohmann::json*> by_key;
    std::vector<std::string> live_keys;
    live_keys.reserve(live.size());
    for (const auto& have : live) {
      if (auto key = merge_key(name, have))
        live_keys.push_back(std::move(*key));
      else
        live_keys.emplace_back();
    }
    for (std::size_t j = 0; j < live.size(); ++j) {
      if (!live_keys[j].empty()) by_key.emplace(live_keys[j], &live[j]);
    }
    for (std::size_t i = 0; i < desired.size(); ++i) {
      auto it = by_key.find(keys[i]);
      if (it == by_key.end() || !contains(*it->second, desired[i], {})) return false;
    }
    return true;
  }
  if (live.size() != desired.size()) return false;
  bool in_order = true;
  for (std::size_t i = 0; i < desired.size() && in_order; ++i) in_order = contains(live[i], desired[i], {});
  if (in_order) return true;
  if (desired.size() > kUnorderedMatchLimit) return false;
  // The same elements in another order: the 1.20 server hands autoscaling/v2beta2
  // metrics back in a different order than they were applied (its storage
  // form is autoscaling/v1 plus an annotation).
  std::vector<bool> used(live.size(), false);
  for (const auto& want : desired) {
    bool found = false;
    for (std::size_t j = 0; j < live.size() && !found; ++j) {
      if (!used[j] && contains(live[j], want, {})) used[j] = found = true;
    }
    if (!found) return false;
  }
  return true;
}

bool contains(const nlohmann::json& live, const nlohmann::json& desired, std::string_view list_name) {
  if (desired.is_object()) {
    if (!live.is_object()) return is_zero(desired) && (live.is_null() || is_zero(live));
    for (const auto& [key, value] : desired.items()) {
      auto it = live.find(key);
      if (it == live.end()) {
        if (!is_zero(value)) return false;
        continue;
      }
      if (!contains(*it, value, key)) return false;
    }
    return true;
  }
  if (desired.is_array()) return contains_list(live, desired, list_name);
  if (desired.is_null()) return true;
  return scalar_equal(live, desired);
}

}  // namespace

bool contains_desired(const nlohmann::json& live, const nlohmann::json& desired) {
  return contains(live, desired, {});
}

bool up_to_date(const nlohmann::json* live, const nlohmann::json& stamped_desired) {
  if (live == nullptr) return false;
  const auto& meta = live->value("metadata", nlohmann::json::object());
  const auto& annotations = meta.value("annotations", nlohmann::json::object());
  const std::string want = stamped_desired["metadata"]["annotations"].value(kAppliedHashAnnotation, "");
  if (annotations.value(kAppliedHashAnnotation, "") != want) return false;
  return contains_desired(*live, stamped_desired);
}

}  // namespace sot::stillontime
