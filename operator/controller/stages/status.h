// Stage "status": what the pass saw and did, written to the resource's
// status subresource only when it changed (model: stillontime/status.h builds
// the document; this stage reads the workloads' caches, writes, and emits the
// Events that go with a change).
//
//   stall()          a pass that cannot go on (invalid spec, a claimed or
//                    missing target namespace, a missing Secret): Stalled=True
//                    naming the cause, components as they were; nothing else.
//   report_status()  the end of every other pass: components from the caches,
//                    Ready/Reconciling/Stalled from the apply's outcome, the
//                    backup conditions and status.backup/restore/bootstrap
//                    from the plan; the pass's result (requeue, error).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/apply_memory.h"
#include "controller/backup_status.h"
#include "controller/stages/apply.h"
#include "runtime/controller.h"
#include "stillontime/desired_state.h"
#include "stillontime/spec.h"

namespace sot::stillontime::stages {

struct StallInput {
  const nlohmann::json& cr;
  std::string reason;   // the Stalled condition's reason (InvalidSpec, TargetNamespaceClaimed, ...)
  std::string message;  // names the field or what to do
  // Look again after this long (a namespace or Secret that may appear); nullopt: only on a change.
  std::optional<runtime::Duration> recheck;
};
runtime::ReconcileResult stall(const StallInput& in, runtime::Context& ctx);

struct ReportInput {
  const nlohmann::json& cr;
  const StillOnTime& resource;
  const std::vector<DesiredObject>& desired;
  const ApplyOutput& applied;  // default (nothing done) while paused
  const BackupPlan& backup;
  BackupMetrics* metrics;  // null: no backup metrics
  ApplyMemory& memory;     // a status refused for its size is not sent again
};
runtime::ReconcileResult report_status(const ReportInput& in, runtime::Context& ctx);

// Components and their readiness, from the workloads we want and their cached state.
std::map<std::string, ComponentStatus> observe_components(const std::vector<DesiredObject>& desired,
                                                          runtime::Context& ctx);

}  // namespace sot::stillontime::stages
