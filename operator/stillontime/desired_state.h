// The whole desired set of children for one StillOnTime, in apply order
// (identity and credentials first, then storage, services, workloads, scaling,
// policies, routing, monitoring, backup). A pure function: the reconciler
// applies it, `render` prints it, tests inspect it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/resource.h"
#include "stillontime/context.h"
#include "stillontime/spec.h"

namespace sot::stillontime {

struct DesiredObject {
  kube::ResourceRef ref;
  nlohmann::json object;
  // Generated credential Secrets: create when missing, never apply over an
  // existing one (its random values must survive every reconcile).
  bool create_only = false;

  kube::ObjectKey key() const;
};

// Checksums stamped on the pod templates, from the content each component's
// pods read: generated Secrets and the embedded stack's ConfigMaps (and, for
// the backend, the user's secretRef fingerprint and the external database
// reference). desired_state() hashes the objects it has built, the same way.
std::map<std::string, std::string> compute_checksums(const StillOnTime& resource, const BuildContext& ctx);

// `resource` must be defaulted (apply_defaults) and valid (validate() empty).
// ctx.checksums is computed here, from the Secrets and ConfigMaps of this very
// set, when the caller left it empty. ctx.plan is already decided: its Jobs
// come last (create-only) and a held backend is built at 0 replicas without
// its HPA; nobody edits the set afterwards.
std::vector<DesiredObject> desired_state(const StillOnTime& resource, const BuildContext& ctx);

// The kinds whose children the reconciler may prune: list by label, delete
// what desired_state() no longer produces. Secrets and PVCs are left out (see
// the .cpp): they hold credentials and data.
std::vector<kube::ResourceRef> managed_kinds(const ApiVersions& api);

}  // namespace sot::stillontime
