#include "runtime/owner.h"

namespace sot::runtime {

std::string owner_label_value(const kube::ObjectKey& owner) {
  return owner.ns + "." + owner.name;
}

std::optional<kube::ObjectKey> parse_owner_label(std::string_view value) {
  const auto dot = value.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= value.size()) return std::nullopt;
  return kube::ObjectKey{std::string(value.substr(0, dot)), std::string(value.substr(dot + 1))};
}

std::optional<kube::ObjectKey> owner_key(const nlohmann::json& child, std::string_view owner_kind,
                                         std::string_view owner_group, std::string_view owner_label) {
  const auto meta = child.find("metadata");
  if (meta == child.end() || !meta->is_object()) return std::nullopt;
  const std::string ns = meta->value("namespace", std::string{});
  if (auto refs = meta->find("ownerReferences"); refs != meta->end() && refs->is_array()) {
    for (const auto& ref : *refs) {
      if (!ref.is_object() || !ref.value("controller", false)) continue;
      if (ref.value("kind", std::string{}) != owner_kind) continue;
      if (!owner_group.empty()) {
        const std::string api_version = ref.value("apiVersion", std::string{});
        const auto slash = api_version.find('/');
        const std::string group = slash == std::string::npos ? std::string{} : api_version.substr(0, slash);
        if (group != owner_group) continue;
      }
      const std::string name = ref.value("name", std::string{});
      if (!name.empty()) return kube::ObjectKey{ns, name};
    }
  }
  if (owner_label.empty()) return std::nullopt;
  if (auto labels = meta->find("labels"); labels != meta->end() && labels->is_object()) {
    if (auto it = labels->find(owner_label); it != labels->end() && it->is_string()) {
      return parse_owner_label(it->get<std::string>());
    }
  }
  return std::nullopt;
}

}  // namespace sot::runtime
