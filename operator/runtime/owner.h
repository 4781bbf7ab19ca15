// Which custom resource a child object belongs to. Children in the CR's own
// namespace carry a controller ownerReference; Kubernetes forbids owner
// references across namespaces, so children elsewhere carry an owner label
// (its key is the controller's to choose) with the value
// `<cr-namespace>.<cr-name>` instead. The reference wins when both are present
// (it is what the garbage collector acts on).
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kube/resource.h"

namespace sot::runtime {

// The owner's key, from a controller ownerReference whose kind is `owner_kind`
// and whose apiVersion is in `owner_group` ("" matches any group), else from
// the label `owner_label` ("": references only). nullopt when neither names an
// owner.
std::optional<kube::ObjectKey> owner_key(const nlohmann::json& child, std::string_view owner_kind,
                                         std::string_view owner_group = {}, std::string_view owner_label = {});

// "<namespace>.<name>" for the owner label, and back (namespace names cannot
// contain a dot, so the first dot splits them).
std::string owner_label_value(const kube::ObjectKey& owner);
std::optional<kube::ObjectKey> parse_owner_label(std::string_view value);

}  // namespace sot::runtime
