// The StillOnTime kind and its children's kinds (see kinds.h).
#include "stillontime/kinds.h"

#include "stillontime/desired_state.h"
#include "stillontime/spec.h"

namespace sot::stillontime {

kube::ResourceRef stillontime_resource() {
  return {kGroup, kVersion, kPlural, kKind, true};
}

std::vector<kube::ResourceRef> child_kinds(const ApiVersions& api) {
  auto kinds = managed_kinds(api);
  kinds.push_back(resource_ref("v1", "Secret"));
  kinds.push_back(resource_ref("v1", "PersistentVolumeClaim"));
  return kinds;
}

std::string claimed_namespace(const nlohmann::json& cr) {
  const auto meta = cr.find("metadata");
  const std::string own = meta != cr.end() && meta->is_object() ? meta->value("namespace", "") : "";
  const auto spec = cr.find("spec");
  if (spec == cr.end() || !spec->is_object()) return own;
  const auto target = spec->find("targetNamespace");
  return target != spec->end() && target->is_string() && !target->get_ref<const std::string&>().empty()
             ? target->get<std::string>()
             : own;
}

}  // namespace sot::stillontime
