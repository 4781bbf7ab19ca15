// Stage "plan": decides, before any builder runs, what the cluster's state
// asks of this pass beyond the spec:
//   - backups: status.backup and BackupHealthy from the Jobs, one on-demand
//     backup Job per request id (the stillontime.app/backup-request annotation);
//   - restore (spec.restore.id): ScalingDown → Running → Succeeded | Failed;
//   - bootstrap (spec.postgres.bootstrap.fromBackup) before the backend starts.
// Reads the Job, backend Deployment and backup CronJob caches (and, for a run
// that just finished, its pod's termination message). The decisions themselves
// are plan_backup() (controller/backup_status.h), a pure function. The result
// goes to the builders through BuildContext::plan (the Jobs to run, the backend
// held at zero) and to the status stage (conditions, status fields, Events).
#pragma once

#include <nlohmann/json.hpp>

#include "controller/backup_status.h"
#include "runtime/controller.h"
#include "stillontime/api_versions.h"
#include "stillontime/context.h"
#include "stillontime/spec.h"

namespace sot::stillontime::stages {

struct PlanInput {
  const nlohmann::json& cr;
  const StillOnTime& resource;  // defaulted and valid
  const ApiVersions& api;
};

struct PlanOutput {
  RunPlan run;        // for the builders (BuildContext::plan)
  BackupPlan backup;  // for the status stage
};

PlanOutput plan(const PlanInput& in, runtime::Context& ctx);

}  // namespace sot::stillontime::stages
