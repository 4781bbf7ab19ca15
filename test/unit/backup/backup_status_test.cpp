// plan_backup(): status.backup from Jobs, BackupHealthy both ways, one Job per
// backup request id, the restore state machine and the bootstrap. Pure: Jobs
// and the clock are made by hand.
#include "controller/backup_status.h"

#include <doctest/doctest.h>

#include "stillontime/builders/backup.h"
#include "unit/stillontime/helpers.h"

using namespace sot::stillontime;
using sot::stillontime::test::make_resource;

namespace {

// 2024-05-15T10:30:00Z; the default schedule ran at 02:00.
constexpr std::int64_t kNow = 1715769000;
constexpr std::int64_t kTwoAm = 1715738400;

json cr_with(json status = json::object(), json annotations = json::object()) {
  json meta = {{"name", "sot"}, {"namespace", "apps"}, {"creationTimestamp", "2024-05-01T00:00:00Z"}};
  if (!annotations.empty()) meta["annotations"] = annotations;
  return {{"metadata", meta}, {"status", status}};
}

json job(const std::string& name, const std::string& task, const std::string& trigger, const std::string& state,
         std::int64_t at, json annotations = json::object()) {
  json labels = {{kTaskLabel, task}};
  if (!trigger.empty()) labels[kTriggerLabel] = trigger;
  json j = {{"metadata",
             {{"name", name},
              {"namespace", "apps"},
              {"uid", "u-" + name},
              {"labels", labels},
              {"creationTimestamp", rfc3339(at - 60)}}},
            {"status", json::object()}};
  if (!annotations.empty()) j["metadata"]["annotations"] = annotations;
  if (state == "Complete") {
    j["status"] = {
        {"completionTime", rfc3339(at)},
        {"conditions", json::array({{{"type", "Complete"}, {"status", "True"}, {"lastTransitionTime", rfc3339(at)}}})}};
  } else if (state == "Failed") {
    j["status"] = {{"conditions", json::array({{{"type", "Failed"},
                                                {"status", "True"},
                                                {"reason", "BackoffLimitExceeded"},
                                                {"message", "Job has reached the specified backoff limit"},
                                                {"lastTransitionTime", rfc3339(at)}}})}};
  }
  return j;
}

BackupInputs inputs(const StillOnTime& r, json cr, std::vector<json> jobs, std::int64_t now = kNow) {
  BackupInputs in;
  in.resource = &r;
  in.cr = std::move(cr);
  in.jobs = std::move(jobs);
  in.now = now;
  in.pod_message = [](const std::string& job) -> std::string {
    if (job.find("fail") != std::string::npos) return "pg_dump: error: connection refused";
    if (job.find("restore") != std::string::npos) return "restored x";
    return "stillontime-20240515T020012Z.dump";
  };
  return in;
}

}  // namespace

TEST_CASE("backup due: the newest scheduled run that should have finished by now") {
  CHECK(backup_due("0 2 * * *", kNow) == kTwoAm);
  CHECK(backup_due("0 2 * * *", kTwoAm + 60) == kTwoAm - 86400);  // today's run may still be running
  CHECK_FALSE(backup_due("not a schedule", kNow));
}

TEST_CASE("status.backup and BackupHealthy follow the Jobs both ways") {
  auto r = make_resource({{"environment", "production"}});

  // A new instance: nothing due yet.
  auto fresh = cr_with();
  fresh["metadata"]["creationTimestamp"] = rfc3339(kNow - 60);
  auto p0 = plan_backup(inputs(r, fresh, {}));
  REQUIRE(p0.healthy);
  CHECK(p0.healthy->status);
  CHECK(p0.healthy->reason == "NoBackupDueYet");

  // An older instance with no backup since 02:00: missed.
  auto p1 = plan_backup(inputs(r, cr_with(), {}));
  CHECK_FALSE(p1.healthy->status);
  CHECK(p1.healthy->reason == "BackupMissed");

  // The 02:00 run succeeded: status filled, healthy, the name from the pod.
  auto ok = job("sot-backup-1", "backup", "schedule", "Complete", kTwoAm + 30);
  auto p2 = plan_backup(inputs(r, cr_with(), {ok}));
  CHECK(p2.healthy->status);
  CHECK(p2.healthy->reason == "BackupSucceeded");
  CHECK(p2.backup_status["lastSuccessfulTime"] == rfc3339(kTwoAm + 30));
  CHECK(p2.backup_status["lastScheduleTime"] == rfc3339(kTwoAm - 30));
  CHECK(p2.backup_status["lastBackup"] == "stillontime-20240515T020012Z.dump");
  CHECK(p2.last_success == kTwoAm + 30);
  CHECK(p2.new_failures.empty());

  // Then a failed run: unhealthy, one Event, one failure counted.
  json status = {{"backup", p2.backup_status}};
  auto bad = job("sot-backup-fail", "backup", "request", "Failed", kTwoAm + 3600);
  auto p3 = plan_backup(inputs(r, cr_with(status), {ok, bad}));
  CHECK_FALSE(p3.healthy->status);
  CHECK(p3.healthy->reason == "BackupFailed");
  CHECK(p3.backup_status["lastFailedTime"] == rfc3339(kTwoAm + 3600));
  CHECK(p3.backup_status["lastBackup"] == "stillontime-20240515T020012Z.dump");  // unchanged
  REQUIRE(p3.new_failures.size() == 1);
  REQUIRE(p3.events.size() == 1);
  CHECK(p3.events[0].warning);
  CHECK(p3.events[0].reason == "BackupFailed");
  CHECK(p3.events[0].message.find("connection refused") != std::string::npos);

  // Seen again with that status recorded: no new Event, no new count.
  json status3 = {{"backup", p3.backup_status}};
  auto p4 = plan_backup(inputs(r, cr_with(status3), {ok, bad}));
  CHECK(p4.new_failures.empty());
  CHECK(p4.events.empty());
  CHECK_FALSE(p4.healthy->status);

  // A later success makes it healthy again; Jobs gone (history limit) do not erase status.
  auto ok2 = job("sot-backup-2", "backup", "schedule", "Complete", kTwoAm + 7200);
  auto p5 = plan_backup(inputs(r, cr_with(status3), {ok2}));
  CHECK(p5.healthy->status);
  CHECK(p5.backup_status["lastFailedTime"] == rfc3339(kTwoAm + 3600));
  CHECK(p5.backup_status["lastSuccessfulTime"] == rfc3339(kTwoAm + 7200));

  // Next day past the deadline with no new run: stale.
  json status5 = {{"backup", p5.backup_status}};
  auto p6 = plan_backup(inputs(r, cr_with(status5), {}, kNow + 86400));
  CHECK_FALSE(p6.healthy->status);
  CHECK(p6.healthy->reason == "BackupMissed");
}

TEST_CASE("BackupHealthy is False when backups are disabled or suspended") {
  auto off = make_resource({{"environment", "development"}});
  CHECK(plan_backup(inputs(off, cr_with(), {})).healthy->reason == "BackupDisabled");
  auto suspended = make_resource({{"environment", "production"}, {"backup", {{"suspend", true}}}});
  CHECK(plan_backup(inputs(suspended, cr_with(), {})).healthy->reason == "BackupSuspended");
}

TEST_CASE("a backup request makes one Job per id and records its phase") {
  auto r = make_resource({{"environment", "production"}});
  const json ann = {{kBackupRequestAnnotation, "b1"}};
  const std::string name = backup_request_job_name(r, "b1");

  auto p1 = plan_backup(inputs(r, cr_with(json::object(), ann), {}));
  REQUIRE(p1.jobs.size() == 1);
  CHECK(p1.jobs[0]["metadata"]["name"] == name);
  CHECK(p1.backup_status["lastRequest"]["phase"] == "Pending");

  auto done = job(name, "backup", "request", "Complete", kNow - 10, {{kBackupRequestAnnotation, "b1"}});
  auto p2 = plan_backup(inputs(r, cr_with({{"backup", p1.backup_status}}, ann), {done}));
  CHECK(p2.backup_status["lastRequest"]["phase"] == "Succeeded");
  CHECK(p2.backup_status["lastSuccessfulTime"] == rfc3339(kNow - 10));

  // Finished and the Job deleted: never made again for this id.
  auto p3 = plan_backup(inputs(r, cr_with({{"backup", p2.backup_status}}, ann), {}));
  CHECK(p3.jobs.empty());
  CHECK(p3.backup_status["lastRequest"]["phase"] == "Succeeded");

  // A new id: a new Job.
  auto p4 = plan_backup(inputs(r, cr_with({{"backup", p2.backup_status}}, {{kBackupRequestAnnotation, "b2"}}), {}));
  REQUIRE(p4.jobs.size() == 1);
  CHECK(p4.jobs[0]["metadata"]["name"] == backup_request_job_name(r, "b2"));
}

TEST_CASE("restore: scale the backend to 0, then the Job, then back; a failure holds it and stalls") {
  auto r = make_resource({{"environment", "production"}, {"restore", {{"from", "latest"}, {"id", "r1"}}}});
  const std::string name = restore_job_name(r, "r1");
  json backend_up = {{"metadata", {{"generation", 2}}},
                     {"spec", {{"replicas", 3}}},
                     {"status", {{"observedGeneration", 2}, {"replicas", 3}}}};
  json backend_down = {{"metadata", {{"generation", 3}}},
                       {"spec", {{"replicas", 0}}},
                       {"status", {{"observedGeneration", 3}, {"replicas", 0}}}};

  auto in1 = inputs(r, cr_with(), {});
  in1.backend = backend_up;
  auto p1 = plan_backup(in1);
  CHECK(p1.hold_backend);
  CHECK(p1.jobs.empty());  // not before the backend is down
  CHECK(p1.restore_status["phase"] == "ScalingDown");
  REQUIRE(p1.not_ready);

  auto in2 = inputs(r, cr_with({{"restore", p1.restore_status}}), {});
  in2.backend = backend_down;
  auto p2 = plan_backup(in2);
  CHECK(p2.hold_backend);
  REQUIRE(p2.jobs.size() == 1);
  CHECK(p2.jobs[0]["metadata"]["name"] == name);
  CHECK(p2.restore_status["phase"] == "Running");
  CHECK(p2.restore_status["startedAt"] == p1.restore_status["startedAt"]);

  auto in3 = inputs(r, cr_with({{"restore", p2.restore_status}}), {job(name, "restore", "", "Complete", kNow)});
  in3.backend = backend_down;
  auto p3 = plan_backup(in3);
  CHECK_FALSE(p3.hold_backend);
  CHECK(p3.restore_status["phase"] == "Succeeded");
  CHECK(p3.restore_status["finishedAt"] == rfc3339(kNow));
  CHECK(p3.events.back().reason == "RestoreSucceeded");

  // Done: never again for r1, even without the Job.
  auto p4 = plan_backup(inputs(r, cr_with({{"restore", p3.restore_status}}), {}));
  CHECK(p4.jobs.empty());
  CHECK_FALSE(p4.hold_backend);
  CHECK(p4.restore_status.is_null());

  // A failed run: held at 0, Stalled with instructions, and it stays so.
  auto in5 = inputs(r, cr_with({{"restore", p2.restore_status}}), {job(name + "-fail", "restore", "", "Failed", kNow)});
  in5.jobs[0]["metadata"]["name"] = name;
  auto p5 = plan_backup(in5);
  CHECK(p5.hold_backend);
  CHECK(p5.restore_status["phase"] == "Failed");
  REQUIRE(p5.stalled);
  CHECK(p5.stalled->message.find("spec.restore.id") != std::string::npos);
  CHECK(p5.stalled->message.find("kubectl logs") != std::string::npos);
  auto p6 = plan_backup(inputs(r, cr_with({{"restore", p5.restore_status}}), {}));
  CHECK(p6.hold_backend);
  CHECK(p6.stalled);
  CHECK(p6.jobs.empty());
}

TEST_CASE("bootstrap: the backend waits for the bootstrap Job") {
  auto r = make_resource({{"environment", "production"}, {"postgres", {{"bootstrap", {{"fromBackup", "latest"}}}}}});
  auto p1 = plan_backup(inputs(r, cr_with(), {}));
  CHECK(p1.hold_backend);
  REQUIRE(p1.jobs.size() == 1);
  CHECK(p1.jobs[0]["metadata"]["name"] == "sot-bootstrap");
  auto p2 = plan_backup(inputs(r, cr_with(), {job("sot-bootstrap", "bootstrap", "", "Complete", kNow)}));
  CHECK_FALSE(p2.hold_backend);
  CHECK(p2.bootstrap_status["phase"] == "Succeeded");
  auto p3 = plan_backup(inputs(r, cr_with({{"bootstrap", p2.bootstrap_status}}), {}));
  CHECK_FALSE(p3.hold_backend);
  CHECK(p3.jobs.empty());
}
