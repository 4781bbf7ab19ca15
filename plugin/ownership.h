// Who set which field, from metadata.managedFields (server-side apply's field
// ownership). Two questions use it:
//   - deploy/rollback: does a GitOps controller hold spec.version? Then a
//     change here would be undone at its next sync, and the plugin refuses
//     unless --force.
//   - status: did anyone but the operator (and the cluster's own controllers)
//     set fields of a child's spec? That is drift the operator has not put back.
// Pure functions of the object as the API server returned it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace sot::plugin {

struct FieldOwner {
  std::string manager;
  std::string operation;  // Apply | Update
  std::string time;       // RFC 3339, "" when the server did not record it
};

// Managers that hold the field at `path` (e.g. {"spec", "version"}).
std::vector<FieldOwner> owners_of(const nlohmann::json& object, const std::vector<std::string>& path);

// "kustomize-controller (Flux; server-side apply at 2024-05-15T02:00:12Z)",
// "kubectl-edit (update)": who holds a field, for messages.
std::string describe_owner(const FieldOwner& owner);

// The owner of spec.version that makes deploy refuse: any manager but ours
// that is not a person's kubectl (kubectl, kubectl-edit, kubectl-patch,
// kubectl-client-side-apply, ...). GitOps controllers (Argo CD, Flux, Helm,
// Fleet, ...) and other controllers write from a source of truth elsewhere.
std::optional<FieldOwner> blocking_owner(const std::vector<FieldOwner>& owners, std::string_view ours);

// Fields under spec/data that managers other than `ignored` ones set, as
// dotted paths ("spec.replicas", "spec.template.spec.containers[name=backend].image").
struct ForeignFields {
  FieldOwner owner;
  std::vector<std::string> paths;  // at most `limit` per manager
};
std::vector<ForeignFields> foreign_fields(const nlohmann::json& object, const std::vector<std::string>& ignored,
                                          std::size_t limit = 3);

}  // namespace sot::plugin
