// The StillOnTime kind itself and the kinds of its children, as the
// controller, the plugin and the tests name them. Pure: names only.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/resource.h"
#include "stillontime/api_versions.h"

namespace sot::stillontime {

// On a resource whose children outlive owner references (another target
// namespace, or data that goes with deletionPolicy Delete).
inline constexpr const char* kFinalizer = "stillontime.app/finalizer";

// stillontime.app/v1alpha1 stillontimes.
kube::ResourceRef stillontime_resource();

// Every child kind the controller writes or reads from a cache: the kinds it
// prunes (managed_kinds, desired_state.h) plus Secrets and PVCs.
std::vector<kube::ResourceRef> child_kinds(const ApiVersions& api);

// The namespace a resource's children go to, read from the raw object (it
// need not parse): spec.targetNamespace, else the resource's own namespace.
std::string claimed_namespace(const nlohmann::json& cr);

}  // namespace sot::stillontime
