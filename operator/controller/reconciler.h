// The StillOnTime reconciler: one level-based pass per key, in named stages,
// each a function of explicit inputs to explicit outputs (controller/stages/):
//
//   resource ─► being deleted? finalize            stages/finalize.cpp
//            ─► spec: parse, default, validate      stages/spec.cpp
//            ─► claims: tenancy, namespace claim,   stages/claims.cpp
//               finalizer
//            ─► credentials: generated, user's      stages/credentials.cpp
//            ─► plan: backups, restore, bootstrap   stages/plan.cpp
//            ─► builders: desired_state()           stillontime/desired_state.cpp
//            ─► apply and prune (unless paused)     stages/apply.cpp
//            ─► status                              stages/status.cpp
//
// A refused spec (invalid; a target namespace that is missing, not permitted
// or claimed) stops before any child is touched, and before anything in the
// target namespace is read, and reports Stalled=True naming the field.
#pragma once

#include <memory>
#include <vector>

#include "controller/apply_memory.h"
#include "controller/stages/credentials.h"
#include "kube/resource.h"
#include "runtime/controller.h"
#include "runtime/manager.h"
#include "stillontime/api_versions.h"
#include "stillontime/kinds.h"
#include "stillontime/tenancy.h"

namespace prometheus {
class Registry;
}

namespace sot::stillontime {

class BackupMetrics;

inline constexpr const char* kControllerName = "stillontime";

class StillOnTimeReconciler final : public runtime::Reconciler {
 public:
  // `registry`: where the backup metrics go (backup_status.h); null: none.
  // `tenancy`: which target namespaces a resource may use (tenancy.h).
  explicit StillOnTimeReconciler(ApiVersions api, RandomSource random = secure_random,
                                 prometheus::Registry* registry = nullptr, TenancyPolicy tenancy = {});
  ~StillOnTimeReconciler() override;
  runtime::ReconcileResult reconcile(const kube::ObjectKey& key, runtime::Context& ctx) override;

 private:
  const ApiVersions api_;
  const RandomSource random_;
  const TenancyPolicy tenancy_;
  // Across passes: our recent applies and the server's refusals (apply_memory.h),
  // handed to the apply and status stages explicitly.
  ApplyMemory memory_;
  std::unique_ptr<BackupMetrics> backup_metrics_;
};

// The controller registration for the manager: the CR plus every child kind,
// watched across namespaces by the managed-by label, and, while cross-namespace
// targets are allowed, the Namespaces (their consent annotation), each mapped
// to the resources that target it.
runtime::ControllerSpec controller_spec(const ApiVersions& api, const TenancyPolicy& tenancy = {});

}  // namespace sot::stillontime
