// Backups and restores end to end: the operator binary against a real
// kube-apiserver. Without a kubelet or a CronJob controller, the test plays
// their parts: it creates the Jobs a CronJob would, with their pods, and sets
// Job, pod and Deployment status through the status subresource.
#include <ctime>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include <doctest/doctest.h>

#include "../stillontime/operator_process.h"
#include "e2e/support.h"

using namespace sot;
using namespace sot::kube;
using namespace std::chrono_literals;
using e2e::create_finished_pod;
using e2e::job_status;
using e2e::set_status;

namespace {

std::string condition(const Json& cr, const std::string& type, const std::string& field = "status") {
  if (!cr.is_object()) return "";
  for (const auto& cond : cr.value("status", Json::object()).value("conditions", Json::array())) {
    if (cond.value("type", "") == type) return cond.value(field, "");
  }
  return "";
}

// batch/v1 CronJob on new servers, v1beta1 on 1.20.
Json get_cronjob(KubeClient& c, const ObjectKey& key) {
  for (const char* v : {"v1", "v1beta1"}) {
    auto r = c.get(ResourceRef{"batch", v, "cronjobs", "CronJob", true}, key);
    if (r.ok()) return *r;
  }
  return Json();
}

Json create_cr(KubeClient& c, const std::string& ns, Json spec) {
  e2e::shared_operator();
  Json base = {{"environment", "development"}, {"version", "1.0.0"}, {"backup", {{"enabled", true}}}};
  if (spec.is_object()) base.update(spec);
  auto r = c.create(e2e::kStillOnTime, ns,
                    {{"apiVersion", "stillontime.app/v1alpha1"},
                     {"kind", "StillOnTime"},
                     {"metadata", {{"name", "app"}, {"namespace", ns}}},
                     {"spec", base}});
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
  return *r;
}

// What the CronJob controller would make: a Job from the jobTemplate, owned by the CronJob.
Json create_scheduled_job(KubeClient& c, const Json& cronjob, const std::string& name) {
  const Json& tmpl = cronjob["spec"]["jobTemplate"];
  Json job = {{"apiVersion", "batch/v1"},
              {"kind", "Job"},
              {"metadata",
               {{"name", name},
                {"namespace", cronjob["metadata"]["namespace"]},
                {"labels", tmpl["metadata"]["labels"]},
                {"ownerReferences", Json::array({{{"apiVersion", cronjob["apiVersion"]},
                                                  {"kind", "CronJob"},
                                                  {"name", cronjob["metadata"]["name"]},
                                                  {"uid", cronjob["metadata"]["uid"]},
                                                  {"controller", true}}})}}},
              {"spec", tmpl["spec"]}};
  auto r = c.create(e2e::kJob, cronjob["metadata"]["namespace"].get<std::string>(), job);
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
  return *r;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int count_jobs(KubeClient& c, const std::string& ns, const std::string& selector) {
  ListOptions lo;
  lo.label_selector = selector;
  auto list = c.list(e2e::kJob, ns, lo);
  return list.ok() ? static_cast<int>((*list)["items"].size()) : -1;
}

}  // namespace

TEST_CASE(
    "backups: CronJob, PVC, ConfigMap and NetworkPolicy; Job outcomes move status.backup and BackupHealthy both ways") {
  auto c = e2e::client();
  e2e::TestNamespace ns("bk-status");
  create_cr(*c, ns.name(),
            {{"backup",
              {{"enabled", true},
               {"schedule", "0 2 * * *"},
               {"retentionDays", 9},
               {"keep", 4},
               {"storage", {{"size", "3Gi"}}}}}});
  const ObjectKey key{ns.name(), "app"};

  Json cronjob;
  REQUIRE(e2e::eventually([&] { return (cronjob = get_cronjob(*c, {ns.name(), "app-backup"})).is_object(); }, 20s));
  CHECK(cronjob["spec"]["schedule"] == "0 2 * * *");
  CHECK(cronjob["spec"]["concurrencyPolicy"] == "Forbid");
  CHECK(cronjob["spec"]["startingDeadlineSeconds"].get<int>() > 0);
  CHECK(cronjob["spec"]["successfulJobsHistoryLimit"] == 3);
  CHECK(cronjob["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"].get<int>() > 0);
  const Json& pod = cronjob["spec"]["jobTemplate"]["spec"]["template"];
  CHECK(pod["metadata"]["labels"]["app.kubernetes.io/component"] == "backup");
  CHECK(pod["spec"]["securityContext"]["runAsNonRoot"] == true);
  CHECK(pod["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] == true);
  bool password_from_secret = false;
  for (const auto& e : pod["spec"]["containers"][0]["env"]) {
    if (e["name"] == "PGPASSWORD")
      password_from_secret = e["valueFrom"]["secretKeyRef"]["name"] == "app-postgres-credentials";
    if (e["name"] == "RETENTION_DAYS") CHECK(e["value"] == "9");
    if (e["name"] == "KEEP") CHECK(e["value"] == "4");
  }
  CHECK(password_from_secret);

  auto pvc = c->get(resources::persistent_volume_claims(), {ns.name(), "app-backups"});
  REQUIRE(pvc.ok());
  CHECK((*pvc)["spec"]["resources"]["requests"]["storage"] == "3Gi");
  auto cm = c->get(resources::config_maps(), {ns.name(), "app-backup-scripts"});
  REQUIRE(cm.ok());
  CHECK((*cm)["data"]["backup.sh"] == read_text(STILLONTIME_SCRIPTS_DIR "/backup.sh"));
  CHECK((*cm)["data"]["restore.sh"] == read_text(STILLONTIME_SCRIPTS_DIR "/restore.sh"));
  CHECK((*cm)["data"]["env.sh"] == read_text(STILLONTIME_SCRIPTS_DIR "/env.sh"));
  auto np = c->get(resources::network_policies(), {ns.name(), "app-backup"});
  REQUIRE(np.ok());
  std::set<int> ports;
  for (const auto& rule : (*np)["spec"]["egress"]) {
    for (const auto& p : rule["ports"]) ports.insert(p["port"].get<int>());
  }
  CHECK(ports == std::set<int>{5432, 6379});

  // New instance: nothing due yet.
  REQUIRE(e2e::eventually(
      [&] { return condition(e2e::get_or_null(*c, e2e::kStillOnTime, key), "BackupHealthy") == "True"; }, 30s));
  CHECK(condition(e2e::get_or_null(*c, e2e::kStillOnTime, key), "BackupHealthy", "reason") == "NoBackupDueYet");

  // A scheduled run fails.
  Json failed = create_scheduled_job(*c, cronjob, "app-backup-1001");
  set_status(*c, e2e::kJob, {ns.name(), "app-backup-1001"}, e2e::job_status(false, 120));
  REQUIRE(e2e::eventually(
      [&] { return condition(e2e::get_or_null(*c, e2e::kStillOnTime, key), "BackupHealthy") == "False"; }, 30s));
  Json cr = e2e::get_or_null(*c, e2e::kStillOnTime, key);
  CHECK(condition(cr, "BackupHealthy", "reason") == "BackupFailed");
  CHECK(cr["status"]["backup"].contains("lastFailedTime"));
  CHECK(cr["status"]["backup"].contains("lastScheduleTime"));
  CHECK(e2e::eventually(
      [&] {
        return e2e::run("kubectl get events -n " + ns.name() + " --field-selector reason=BackupFailed -o name")
                   .output.find("event") != std::string::npos;
      },
      10s));
  // The failure is counted in the operator's metrics.
  CHECK(e2e::eventually(
      [&] {
        return e2e::shared_operator().metrics().find("stillontime_backup_failures_total{name=\"app\",namespace=\"" +
                                                     ns.name() + "\"} 1") != std::string::npos;
      },
      10s));

  // The next run succeeds: healthy again, with the file name from its pod.
  Json ok = create_scheduled_job(*c, cronjob, "app-backup-1002");
  create_finished_pod(*c, ok, "stillontime-20240515T020012Z.dump");
  set_status(*c, e2e::kJob, {ns.name(), "app-backup-1002"}, e2e::job_status(true, 30));
  REQUIRE(e2e::eventually(
      [&] { return condition(e2e::get_or_null(*c, e2e::kStillOnTime, key), "BackupHealthy") == "True"; }, 30s));
  cr = e2e::get_or_null(*c, e2e::kStillOnTime, key);
  CHECK(condition(cr, "BackupHealthy", "reason") == "BackupSucceeded");
  CHECK(cr["status"]["backup"]["lastBackup"] == "stillontime-20240515T020012Z.dump");
  CHECK(cr["status"]["backup"].contains("lastSuccessfulTime"));
  CHECK(e2e::shared_operator().metrics().find(
            "stillontime_backup_last_success_timestamp_seconds{name=\"app\",namespace=\"" + ns.name() + "\"}") !=
        std::string::npos);
  // Jobs the CronJob owns are left to it.
  CHECK(c->get(e2e::kJob, {ns.name(), "app-backup-1001"}).ok());
}

TEST_CASE("a backup request creates exactly one Job per id") {
  auto c = e2e::client();
  e2e::TestNamespace ns("bk-request");
  create_cr(*c, ns.name(), {});
  const ObjectKey key{ns.name(), "app"};
  const std::string sel = "stillontime.app/trigger=request";
  REQUIRE(e2e::eventually(
      [&] { return condition(e2e::get_or_null(*c, e2e::kStillOnTime, key), "BackupHealthy") != ""; }, 20s));

  auto annotate = [&](const std::string& id) {
    REQUIRE(c->merge_patch(e2e::kStillOnTime, key,
                           {{"metadata", {{"annotations", {{"stillontime.app/backup-request", id}}}}}},
                           PatchOptions{"kubectl"})
                .ok());
  };
  annotate("before-upgrade");
  REQUIRE(e2e::eventually([&] { return count_jobs(*c, ns.name(), sel) == 1; }, 30s));
  REQUIRE(e2e::eventually(
      [&] {
        return e2e::get_or_null(*c, e2e::kStillOnTime, key)["status"]["backup"]["lastRequest"]["id"] ==
               "before-upgrade";
      },
      10s));
  std::this_thread::sleep_for(2s);
  CHECK(count_jobs(*c, ns.name(), sel) == 1);
  Json cr = e2e::get_or_null(*c, e2e::kStillOnTime, key);
  CHECK(cr["status"]["backup"]["lastRequest"]["id"] == "before-upgrade");
  const std::string job = cr["status"]["backup"]["lastRequest"]["job"];
  CHECK(c->get(e2e::kJob, {ns.name(), job}).ok());

  // It finishes; deleting its Job does not bring it back for the same id.
  set_status(*c, e2e::kJob, {ns.name(), job}, e2e::job_status(true, 5));
  REQUIRE(e2e::eventually(
      [&] {
        return e2e::get_or_null(*c, e2e::kStillOnTime, key)["status"]["backup"]["lastRequest"]["phase"] == "Succeeded";
      },
      30s));
  // As kubectl deletes it (in the background). The API server's default for a
  // Job is to orphan its pods, which keeps the Job, terminating, until the
  // garbage collector has run: wait until it is gone, so that a Job counted
  // below can only be one the operator made again.
  DeleteOptions background;
  background.propagation = Propagation::kBackground;
  REQUIRE(c->remove(e2e::kJob, {ns.name(), job}, background).ok());
  REQUIRE(e2e::eventually([&] { return c->get(e2e::kJob, {ns.name(), job}).code() == Code::kNotFound; }, 30s));
  REQUIRE(
      c->merge_patch(e2e::kStillOnTime, key, {{"metadata", {{"labels", {{"touch", "1"}}}}}}, PatchOptions{"kubectl"})
          .ok());
  std::this_thread::sleep_for(3s);
  CHECK(count_jobs(*c, ns.name(), sel) == 0);

  annotate("second");
  CHECK(e2e::eventually([&] { return count_jobs(*c, ns.name(), sel) == 1; }, 30s));
  // Status is written after the Job is sent, in the same reconcile.
  CHECK(e2e::eventually(
      [&] { return e2e::get_or_null(*c, e2e::kStillOnTime, key)["status"]["backup"]["lastRequest"]["id"] == "second"; },
      10s));
}

TEST_CASE("a restore scales the backend to 0 first, runs its Job, then scales back; a failure holds and stalls") {
  auto c = e2e::client();
  e2e::TestNamespace ns("bk-restore");
  create_cr(*c, ns.name(), {});
  const ObjectKey key{ns.name(), "app"};
  const ObjectKey backend{ns.name(), "app-backend"};
  REQUIRE(e2e::eventually([&] { return e2e::get_or_null(*c, e2e::kDeployment, backend).is_object(); }, 20s));
  // The backend runs one pod.
  Json d = e2e::get_or_null(*c, e2e::kDeployment, backend);
  set_status(*c, e2e::kDeployment, backend,
             {{"observedGeneration", d["metadata"]["generation"]},
              {"replicas", 1},
              {"readyReplicas", 1},
              {"updatedReplicas", 1}});

  REQUIRE(c->merge_patch(e2e::kStillOnTime, key, {{"spec", {{"restore", {{"from", "latest"}, {"id", "r1"}}}}}},
                         PatchOptions{"kubectl"})
              .ok());
  // Step 1: the backend goes to 0; no restore Job while a pod still runs.
  REQUIRE(
      e2e::eventually([&] { return e2e::get_or_null(*c, e2e::kDeployment, backend)["spec"]["replicas"] == 0; }, 30s));
  REQUIRE(e2e::eventually(
      [&] { return e2e::get_or_null(*c, e2e::kStillOnTime, key)["status"]["restore"]["phase"] == "ScalingDown"; },
      30s));
  std::this_thread::sleep_for(1s);
  CHECK(count_jobs(*c, ns.name(), "stillontime.app/task=restore") == 0);

  // Step 2: the pods are gone; the restore Job starts.
  // The Deployment controller's part: the backend's pods are gone.
  auto pods_gone = [&] {
    const Json dep = e2e::get_or_null(*c, e2e::kDeployment, backend);
    set_status(*c, e2e::kDeployment, backend,
               {{"observedGeneration", dep["metadata"]["generation"]},
                {"replicas", 0},
                {"readyReplicas", 0},
                {"updatedReplicas", 0}});
  };
  pods_gone();
  REQUIRE(e2e::eventually([&] { return count_jobs(*c, ns.name(), "stillontime.app/task=restore") == 1; }, 30s));
  Json cr = e2e::get_or_null(*c, e2e::kStillOnTime, key);
  REQUIRE(e2e::eventually(
      [&] { return (cr = e2e::get_or_null(*c, e2e::kStillOnTime, key))["status"]["restore"]["phase"] == "Running"; },
      30s));
  CHECK(condition(cr, "Ready") == "False");
  const std::string job = cr["status"]["restore"]["job"];
  CHECK(e2e::get_or_null(*c, e2e::kDeployment, backend)["spec"]["replicas"] == 0);

  // Step 3: it succeeds; the backend comes back.
  set_status(*c, e2e::kJob, {ns.name(), job}, e2e::job_status(true, 1));
  REQUIRE(e2e::eventually(
      [&] { return e2e::get_or_null(*c, e2e::kStillOnTime, key)["status"]["restore"]["phase"] == "Succeeded"; }, 30s));
  CHECK(e2e::eventually([&] { return e2e::get_or_null(*c, e2e::kDeployment, backend)["spec"]["replicas"] == 1; }, 30s));
  cr = e2e::get_or_null(*c, e2e::kStillOnTime, key);
  CHECK(cr["status"]["restore"]["id"] == "r1");
  CHECK(cr["status"]["restore"].contains("startedAt"));
  CHECK(cr["status"]["restore"].contains("finishedAt"));

  // A second restore that fails: the backend stays at 0 and the resource is Stalled.
  REQUIRE(c->merge_patch(e2e::kStillOnTime, key, {{"spec", {{"restore", {{"from", "latest"}, {"id", "r2"}}}}}},
                         PatchOptions{"kubectl"})
              .ok());
  REQUIRE(
      e2e::eventually([&] { return e2e::get_or_null(*c, e2e::kDeployment, backend)["spec"]["replicas"] == 0; }, 30s));
  pods_gone();
  REQUIRE(e2e::eventually(
      [&] { return e2e::get_or_null(*c, e2e::kStillOnTime, key)["status"]["restore"]["phase"] == "Running"; }, 30s));
  const std::string job2 = e2e::get_or_null(*c, e2e::kStillOnTime, key)["status"]["restore"]["job"];
  CHECK(job2 != job);
  set_status(*c, e2e::kJob, {ns.name(), job2}, e2e::job_status(false, 1));
  REQUIRE(e2e::eventually([&] { return condition(e2e::get_or_null(*c, e2e::kStillOnTime, key), "Stalled") == "True"; },
                          30s));
  cr = e2e::get_or_null(*c, e2e::kStillOnTime, key);
  CHECK(cr["status"]["restore"]["phase"] == "Failed");
  CHECK(condition(cr, "Stalled", "reason") == "RestoreFailed");
  CHECK(condition(cr, "Stalled", "message").find("spec.restore") != std::string::npos);
  std::this_thread::sleep_for(2s);
  CHECK(e2e::get_or_null(*c, e2e::kDeployment, backend)["spec"]["replicas"] == 0);
}
