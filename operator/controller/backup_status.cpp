// Backups and restores for the controller (see backup_status.h).
#include "controller/backup_status.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <set>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "runtime/clock.h"
#include "runtime/controller.h"
#include "stillontime/builders/backup.h"
#include "stillontime/builders/common.h"
#include "stillontime/cron.h"

namespace sot::stillontime {
namespace {

using Json = nlohmann::json;

std::optional<std::int64_t> epoch_of(const Json& v) {
  if (!v.is_string()) return std::nullopt;
  auto t = runtime::parse_time(v.get<std::string>());
  if (!t) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count();
}

std::optional<std::int64_t> later(std::optional<std::int64_t> a, std::optional<std::int64_t> b) {
  if (!a) return b;
  if (!b) return a;
  return std::max(*a, *b);
}

std::string label(const Json& obj, const char* key) {
  const Json& labels = obj["metadata"].value("labels", Json::object());
  return labels.value(key, "");
}

std::string annotation(const Json& obj, const char* key) {
  const Json& a = obj["metadata"].value("annotations", Json::object());
  return a.value(key, "");
}

std::string name_of(const Json& obj) {
  return obj["metadata"].value("name", "");
}

struct Outcome {
  enum State { kActive, kSucceeded, kFailed } state = kActive;
  std::int64_t at = 0;  // finish time
  std::string message;  // the Failed condition's message or reason
};

Outcome outcome_of(const Json& job) {
  Outcome o;
  const Json& st = job.value("status", Json::object());
  for (const auto& c : st.value("conditions", Json::array())) {
    if (c.value("status", "") != "True") continue;
    const std::string type = c.value("type", "");
    if (type == "Complete") {
      o.state = Outcome::kSucceeded;
      o.at = later(epoch_of(st.value("completionTime", Json())), std::nullopt)
                 .value_or(epoch_of(c.value("lastTransitionTime", Json())).value_or(0));
    } else if (type == "Failed") {
      o.state = Outcome::kFailed;
      o.at = epoch_of(c.value("lastTransitionTime", Json())).value_or(0);
      o.message = c.value("message", c.value("reason", "failed"));
      if (o.message.empty()) o.message = c.value("reason", "failed");
    }
  }
  return o;
}

Json find_job(const std::vector<Json>& jobs, const std::string& name) {
  for (const auto& j : jobs) {
    if (name_of(j) == name) return j;
  }
  return nullptr;
}

std::string time_text(std::optional<std::int64_t> t) {
  return t ? rfc3339(*t) : "never";
}

bool terminal(const std::string& phase) {
  return phase == "Succeeded" || phase == "Failed";
}

// True when the backend Deployment runs no pod at the 0 replicas we asked for.
bool backend_down(const Json& backend) {
  if (!backend.is_object()) return true;  // not there: nothing serves
  if (backend["spec"].value("replicas", 1) != 0) return false;
  const Json& st = backend.value("status", Json::object());
  const bool observed =
      st.value("observedGeneration", std::int64_t{0}) >= backend["metadata"].value("generation", std::int64_t{0});
  return observed && st.value("replicas", 0) == 0;
}

// ---- status.backup and BackupHealthy
void plan_backups(const BackupInputs& in, BackupPlan& plan) {
  const StillOnTime& r = *in.resource;
  const Json old = in.cr.value("status", Json::object()).value("backup", Json::object());
  Json out = old.is_object() ? old : Json::object();

  std::optional<std::int64_t> last_schedule = epoch_of(old.value("lastScheduleTime", Json()));
  last_schedule =
      later(last_schedule, epoch_of(in.cronjob.is_object()
                                        ? in.cronjob.value("status", Json::object()).value("lastScheduleTime", Json())
                                        : Json()));
  const auto old_success = epoch_of(old.value("lastSuccessfulTime", Json()));
  const auto old_failed = epoch_of(old.value("lastFailedTime", Json()));
  std::optional<std::int64_t> newest_success;
  std::string newest_success_job;
  std::optional<std::int64_t> newest_failure;
  std::vector<std::pair<std::int64_t, PlannedEvent>> failures;
  std::vector<std::string> failed_jobs;
  for (const auto& job : in.jobs) {
    if (label(job, kTaskLabel) != kTaskBackup) continue;
    if (label(job, kTriggerLabel) == "schedule") {
      last_schedule = later(last_schedule, epoch_of(job["metadata"].value("creationTimestamp", Json())));
    }
    const Outcome o = outcome_of(job);
    if (o.state == Outcome::kSucceeded && (!newest_success || o.at > *newest_success)) {
      newest_success = o.at;
      newest_success_job = name_of(job);
    }
    if (o.state == Outcome::kFailed) {
      newest_failure = later(newest_failure, o.at);
      if (!old_failed || o.at > *old_failed) {
        std::string detail = in.pod_message ? in.pod_message(name_of(job)) : std::string();
        std::string message = "backup job " + name_of(job) + " failed at " + rfc3339(o.at) + ": " + o.message;
        if (!detail.empty()) message += ": " + detail;
        failures.push_back({o.at, {true, "BackupFailed", message}});
        failed_jobs.push_back(job["metadata"].value("namespace", "") + "/" + name_of(job) + "/" +
                              job["metadata"].value("uid", ""));
      }
    }
  }
  std::sort(failures.begin(), failures.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& f : failures) plan.events.push_back(std::move(f.second));
  plan.new_failures = std::move(failed_jobs);

  if (last_schedule) out["lastScheduleTime"] = rfc3339(*last_schedule);
  const auto success = later(old_success, newest_success);
  if (newest_success && (!old_success || *newest_success > *old_success)) {
    std::string file = in.pod_message ? in.pod_message(newest_success_job) : std::string();
    // Only a name backup.sh could have written.
    if (!(file.rfind("stillontime-", 0) == 0 && file.size() > 17 && file.ends_with(".dump") &&
          file.find('/') == std::string::npos)) {
      file.clear();
    }
    // Unknown (its pod is gone): leave the field out rather than write "" (the
    // 1.20 server turns "" into null and then refuses it as not a string).
    if (file.empty()) {
      out.erase("lastBackup");
    } else {
      out["lastBackup"] = file;
    }
  }
  if (success) out["lastSuccessfulTime"] = rfc3339(*success);
  const auto failed = later(old_failed, newest_failure);
  if (failed) out["lastFailedTime"] = rfc3339(*failed);
  plan.last_success = success;

  // On-demand backup: once per id of the annotation.
  const std::string request = annotation(in.cr, kBackupRequestAnnotation);
  if (!request.empty()) {
    const Json old_request = old.value("lastRequest", Json::object());
    Json rec = {{"id", request}, {"job", backup_request_job_name(r, request)}};
    const bool same = old_request.value("id", "") == request;
    const Json live = find_job(in.jobs, rec["job"]);
    if (!r.spec.backup.enabled.value_or(false)) {
      rec["phase"] = "Skipped";
      rec["message"] = "spec.backup.enabled is false: no backup storage";
    } else if (same && terminal(old_request.value("phase", ""))) {
      rec = old_request;
      if (live.is_object()) plan.jobs.push_back(build_backup_request_job(r, request));  // keep it, never remake it
    } else {
      plan.jobs.push_back(build_backup_request_job(r, request));
      const Outcome o = live.is_object() ? outcome_of(live) : Outcome{};
      rec["phase"] =
          !live.is_object()
              ? "Pending"
              : (o.state == Outcome::kSucceeded ? "Succeeded" : (o.state == Outcome::kFailed ? "Failed" : "Running"));
      if (o.state == Outcome::kFailed) rec["message"] = o.message;
      if (!same)
        plan.events.push_back({false, "BackupRequested",
                               "on-demand backup " + request + " started as job " + rec["job"].get<std::string>()});
    }
    out["lastRequest"] = rec;
  }
  plan.backup_status = out;

  // BackupHealthy
  const auto& b = r.spec.backup;
  if (!b.enabled.value_or(false)) {
    plan.healthy = ConditionInput{false, "BackupDisabled", "spec.backup.enabled is false: no scheduled backups"};
    return;
  }
  if (b.suspend.value_or(false)) {
    plan.healthy = ConditionInput{false, "BackupSuspended", "spec.backup.suspend is true: no scheduled backups run"};
    return;
  }
  const std::string last = "last success: " + time_text(success);
  if (failed && (!success || *failed > *success)) {
    plan.healthy = ConditionInput{false, "BackupFailed", "the last backup failed at " + rfc3339(*failed) + "; " + last};
    return;
  }
  const auto due = backup_due(*b.schedule, in.now);
  const auto created = epoch_of(in.cr["metadata"].value("creationTimestamp", Json())).value_or(in.now);
  if (due && *due >= created && (!success || *success < *due)) {
    plan.healthy = ConditionInput{false, "BackupMissed",
                                  "no successful backup since the run scheduled at " + rfc3339(*due) + "; " + last};
    return;
  }
  std::string next;
  if (auto s = parse_cron(*b.schedule)) {
    if (auto n = next_fire(*s, in.now)) next = "; next run at " + rfc3339(*n);
  }
  if (!success) {
    plan.healthy = ConditionInput{true, "NoBackupDueYet", "no backup has been due yet" + next};
  } else {
    const std::string file = out.value("lastBackup", "");
    plan.healthy =
        ConditionInput{true, "BackupSucceeded",
                       "last backup " + (file.empty() ? std::string() : file + " ") + "at " + rfc3339(*success) + next};
  }
}

// ---- restore per spec.restore.id
void plan_restore(const BackupInputs& in, BackupPlan& plan) {
  const StillOnTime& r = *in.resource;
  if (!r.spec.restore.id || !r.spec.restore.from) return;
  const std::string id = *r.spec.restore.id;
  const std::string from = *r.spec.restore.from;
  const Json old = in.cr.value("status", Json::object()).value("restore", Json::object());
  const bool same = old.is_object() && old.value("id", "") == id;
  const std::string job_name = restore_job_name(r, id);
  const Json live = find_job(in.jobs, job_name);
  const std::string logs = "kubectl logs -n " + r.target_namespace() + " job/" + job_name;
  const std::string failed_help = "the backend is held at 0 replicas. See `" + logs +
                                  "`; the database is unchanged (the restore runs in one "
                                  "transaction, and a pre-restore-*.dump safety copy is in the backup volume). To "
                                  "retry, set spec.restore.id to a new "
                                  "value; to run the backend on the current database, remove spec.restore.";

  if (same && terminal(old.value("phase", ""))) {
    if (live.is_object()) plan.jobs.push_back(build_restore_job(r, id, from));  // keep, never remake
    if (old.value("phase", "") == "Failed") {
      plan.hold_backend = true;
      plan.stalled = ConditionInput{true, "RestoreFailed", "restore " + id + " failed: " + old.value("message", "")};
    }
    return;
  }
  Json rec = {{"id", id}, {"from", from}, {"job", job_name}};
  rec["startedAt"] = same && old.contains("startedAt") ? old["startedAt"] : Json(rfc3339(in.now));
  plan.hold_backend = true;
  if (!same)
    plan.events.push_back({false, "RestoreStarted", "restore " + id + " from " + from + ": scaling the backend to 0"});
  if (live.is_object()) {
    plan.jobs.push_back(build_restore_job(r, id, from));
    const Outcome o = outcome_of(live);
    if (o.state == Outcome::kSucceeded) {
      rec["phase"] = "Succeeded";
      rec["finishedAt"] = rfc3339(o.at ? o.at : in.now);
      std::string detail = in.pod_message ? in.pod_message(job_name) : std::string();
      rec["message"] = detail.empty() ? "restored " + from : detail;
      plan.hold_backend = false;
      plan.events.push_back(
          {false, "RestoreSucceeded", "restore " + id + " from " + from + " succeeded; the backend scales back"});
    } else if (o.state == Outcome::kFailed) {
      std::string detail = in.pod_message ? in.pod_message(job_name) : std::string();
      rec["phase"] = "Failed";
      rec["finishedAt"] = rfc3339(o.at ? o.at : in.now);
      rec["message"] = o.message + (detail.empty() ? "" : ": " + detail) + "; " + failed_help;
      plan.stalled =
          ConditionInput{true, "RestoreFailed", "restore " + id + " failed: " + rec["message"].get<std::string>()};
      plan.events.push_back(
          {true, "RestoreFailed", "restore " + id + " from " + from + " failed: " + rec["message"].get<std::string>()});
    } else {
      rec["phase"] = "Running";
      rec["message"] = "restoring " + from + " (job " + job_name + ")";
    }
  } else if (backend_down(in.backend)) {
    plan.jobs.push_back(build_restore_job(r, id, from));
    rec["phase"] = "Running";
    rec["message"] = "backend stopped; starting job " + job_name;
  } else {
    rec["phase"] = "ScalingDown";
    rec["message"] = "waiting for the backend to stop before restoring " + from;
  }
  if (!terminal(rec["phase"]))
    plan.not_ready = ConditionInput{false, "Restoring", "restore " + id + ": " + rec["message"].get<std::string>()};
  plan.restore_status = rec;
}

// ---- bootstrap from a dump before the backend first starts
void plan_bootstrap(const BackupInputs& in, BackupPlan& plan) {
  const StillOnTime& r = *in.resource;
  if (!r.spec.postgres.bootstrap.from_backup || r.spec.postgres.external) return;
  const std::string from = *r.spec.postgres.bootstrap.from_backup;
  const Json old = in.cr.value("status", Json::object()).value("bootstrap", Json::object());
  const std::string job_name = bootstrap_job_name(r);
  const Json live = find_job(in.jobs, job_name);
  if (old.is_object() && old.value("phase", "") == "Succeeded") {
    if (live.is_object()) plan.jobs.push_back(build_bootstrap_job(r));
    return;
  }
  Json rec = {{"from", from}, {"job", job_name}};
  plan.hold_backend = true;
  plan.jobs.push_back(build_bootstrap_job(r));  // (re)made while not succeeded: deleting a failed one retries
  const Outcome o = live.is_object() ? outcome_of(live) : Outcome{};
  if (live.is_object() && o.state == Outcome::kSucceeded) {
    rec["phase"] = "Succeeded";
    rec["finishedAt"] = rfc3339(o.at ? o.at : in.now);
    std::string detail = in.pod_message ? in.pod_message(job_name) : std::string();
    rec["message"] = detail.empty() ? "loaded " + from : detail;
    plan.hold_backend = false;
    plan.events.push_back({false, "BootstrapSucceeded", "database loaded from " + from + "; the backend starts"});
  } else if (live.is_object() && o.state == Outcome::kFailed) {
    rec["phase"] = "Failed";
    rec["finishedAt"] = rfc3339(o.at ? o.at : in.now);
    rec["message"] = o.message + "; the backend is held at 0 replicas. See `kubectl logs -n " + r.target_namespace() +
                     " job/" + job_name +
                     "`; fix the cause and delete that Job to retry, or remove spec.postgres.bootstrap.";
    plan.stalled = ConditionInput{true, "BootstrapFailed",
                                  "bootstrap from " + from + " failed: " + rec["message"].get<std::string>()};
    if (old.value("phase", "") != "Failed") plan.events.push_back({true, "BootstrapFailed", rec["message"]});
  } else {
    rec["phase"] = "Running";
    rec["message"] = "loading " + from + " before the backend starts";
    plan.not_ready = ConditionInput{false, "Bootstrapping", rec["message"]};
  }
  plan.bootstrap_status = rec;
}

}  // namespace

std::optional<std::int64_t> backup_due(const std::string& schedule, std::int64_t now) {
  auto s = parse_cron(schedule);
  if (!s) return std::nullopt;
  return previous_fire(*s, now - kBackupStartingDeadlineSeconds - kBackupActiveDeadlineSeconds);
}

BackupPlan plan_backup(const BackupInputs& in) {
  BackupPlan plan;
  plan_backups(in, plan);
  plan_bootstrap(in, plan);
  plan_restore(in, plan);
  return plan;
}

// ---- metrics

struct BackupMetrics::Families {
  prometheus::Family<prometheus::Gauge>& last_success;
  prometheus::Family<prometheus::Counter>& failures;
  // A run seen failed twice (a reconcile on a cache that lags our status write) counts once.
  std::mutex mu;
  std::set<std::string> counted;
};

BackupMetrics::BackupMetrics(prometheus::Registry& registry)
    : families_(new Families{prometheus::BuildGauge()
                                 .Name("stillontime_backup_last_success_timestamp_seconds")
                                 .Help("Unix time of the last successful backup of a StillOnTime")
                                 .Register(registry),
                             prometheus::BuildCounter()
                                 .Name("stillontime_backup_failures_total")
                                 .Help("Backup runs of a StillOnTime that failed")
                                 .Register(registry),
                             {},
                             {}}) {}

BackupMetrics::~BackupMetrics() = default;

void BackupMetrics::observe(const std::string& ns, const std::string& name, const BackupPlan& plan) {
  const std::map<std::string, std::string> labels = {{"namespace", ns}, {"name", name}};
  auto& failures = families_->failures.Add(labels);
  {
    std::lock_guard lock(families_->mu);
    for (const auto& job : plan.new_failures) {
      if (families_->counted.insert(job).second) failures.Increment();
    }
  }
  if (plan.last_success) families_->last_success.Add(labels).Set(static_cast<double>(*plan.last_success));
}

// ---- status, Events and metrics

void add_backup_conditions(const BackupPlan& plan, StatusInput& in) {
  if (plan.healthy) in.extra.push_back({"BackupHealthy", *plan.healthy});
  if (plan.stalled && !in.stalled.status) in.stalled = *plan.stalled;
  if (plan.stalled) {
    in.ready = {false, plan.stalled->reason, plan.stalled->message};
    in.reconciling = {false, plan.stalled->reason, "stalled: " + plan.stalled->message};
    if (in.phase == "Ready" || in.phase == "Progressing") in.phase = "Degraded";
  } else if (plan.not_ready) {
    in.ready = *plan.not_ready;
    in.reconciling = {true, plan.not_ready->reason, plan.not_ready->message};
    if (in.phase == "Ready" || in.phase == "Degraded") in.phase = "Progressing";
  }
}

void add_backup_status(const BackupPlan& plan, Json& status) {
  if (!plan.backup_status.is_null()) status["backup"] = plan.backup_status;
  if (!plan.restore_status.is_null()) status["restore"] = plan.restore_status;
  if (!plan.bootstrap_status.is_null()) status["bootstrap"] = plan.bootstrap_status;
}

void report_backup(const BackupPlan& plan, runtime::Context& ctx, const Json& cr, BackupMetrics* metrics) {
  if (ctx.events() != nullptr) {
    for (const auto& e : plan.events) {
      if (e.warning) {
        ctx.events()->warning(cr, e.reason, e.message);
      } else {
        ctx.events()->normal(cr, e.reason, e.message);
      }
    }
  }
  for (const auto& e : plan.events) ctx.log().info("backup event", {{"reason", e.reason}, {"message", e.message}});
  if (metrics != nullptr)
    metrics->observe(cr["metadata"].value("namespace", ""), cr["metadata"].value("name", ""), plan);
}

}  // namespace sot::stillontime
