// Backups and restores as the controller sees them: status.backup, the
// BackupHealthy condition, on-demand backups, the restore state machine and the
// bootstrap from a dump. The decision part (plan_backup) is a pure function of
// what the caches show, so unit tests drive it with hand-made Jobs; the plan
// stage (stages/plan.cpp) gathers its inputs from the caches and hands the
// Jobs and the backend hold to the builders; the status stage writes the rest
// and emits Events and metrics through the functions at the end.
//
// Where the facts come from (all observable without a kubelet in tests):
//  - a run's outcome: the Job's Complete/Failed condition and completionTime
//    (scheduled runs are the CronJob's Jobs; they carry our labels from the
//    jobTemplate, so the Job informer sees them and requeues the resource);
//  - lastBackup: the termination message of the run's pod (backup.sh writes the
//    file name to /dev/termination-log), read once when a new success appears.
//    Without a pod (already deleted) the time is still recorded, the name is "".
//  - status.backup keeps the latest times it has seen (max of old and new), so
//    Jobs removed by the CronJob's history limit do not make status go back.
//
// Restore, per spec.restore.id, recorded in status.restore:
//   ScalingDown: backend replicas 0 (its HPA removed) until no backend pod runs
//   Running:     the Job N-restore-<hash(id)> (safety dump, restore, verify)
//   Succeeded:   backend back to its replicas
//   Failed:      backend stays at 0, Stalled=True with what to do
// The id is done once its phase is Succeeded or Failed: the Job is never made
// again for that id, even if someone deletes it.
//
// Bootstrap (spec.postgres.bootstrap.fromBackup), recorded in status.bootstrap:
// the backend stays at 0 until the Job N-bootstrap succeeded (restore.sh in
// bootstrap mode loads only into an empty database, so a repeat is harmless).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stillontime/spec.h"
#include "stillontime/status.h"

namespace prometheus {
class Registry;
}
namespace sot::runtime {
class Context;
}

namespace sot::stillontime {

struct BackupInputs {
  const StillOnTime* resource = nullptr;  // defaulted and valid
  nlohmann::json cr;                      // the CR as cached (annotations, status, creationTimestamp)
  std::vector<nlohmann::json> jobs;       // this instance's Jobs
  nlohmann::json backend;                 // the live backend Deployment, null when absent
  nlohmann::json cronjob;                 // the live CronJob, null when absent
  std::int64_t now = 0;                   // seconds since the epoch
  // The termination message of a Job's pod ("" when unknown).
  std::function<std::string(const std::string& job)> pod_message;
};

struct PlannedEvent {
  bool warning = false;
  std::string reason;
  std::string message;
};

struct BackupPlan {
  std::vector<nlohmann::json> jobs;         // Jobs to create when missing (and keep while they exist)
  bool hold_backend = false;                // backend at 0 replicas, no backend HPA
  nlohmann::json backup_status;             // status.backup; null: leave it
  nlohmann::json restore_status;            // status.restore; null: leave it
  nlohmann::json bootstrap_status;          // status.bootstrap; null: leave it
  std::optional<ConditionInput> healthy;    // BackupHealthy
  std::optional<ConditionInput> stalled;    // a failed restore or bootstrap
  std::optional<ConditionInput> not_ready;  // a restore or bootstrap in progress
  std::vector<PlannedEvent> events;
  std::vector<std::string> new_failures;     // Jobs of failed runs newer than status.backup.lastFailedTime
  std::optional<std::int64_t> last_success;  // for the gauge
};

BackupPlan plan_backup(const BackupInputs& in);

// The newest fire time of `schedule` whose run should have finished by `now`
// (the starting deadline plus the active deadline), nullopt when none.
std::optional<std::int64_t> backup_due(const std::string& schedule, std::int64_t now);

// ---- for the status stage (stages/status.cpp)

// Per-instance metrics: stillontime_backup_last_success_timestamp_seconds and
// stillontime_backup_failures_total, labelled namespace and name.
class BackupMetrics {
 public:
  explicit BackupMetrics(prometheus::Registry& registry);
  ~BackupMetrics();
  void observe(const std::string& ns, const std::string& name, const BackupPlan& plan);

 private:
  struct Families;
  std::unique_ptr<Families> families_;  // also remembers the failed Jobs already counted
};

// BackupHealthy and the restore's Stalled/Ready into the status input.
void add_backup_conditions(const BackupPlan& plan, StatusInput& in);
// status.backup, status.restore, status.bootstrap into the status object.
void add_backup_status(const BackupPlan& plan, nlohmann::json& status);
// Events on the CR and the metrics.
void report_backup(const BackupPlan& plan, runtime::Context& ctx, const nlohmann::json& cr, BackupMetrics* metrics);

}  // namespace sot::stillontime
