// The plan stage: backups, restores and the bootstrap decided before the
// builders run, and handed to them through BuildContext::plan (the backend
// held at zero without its HPA, the one-off Jobs in the desired set).
#include <algorithm>

#include <doctest/doctest.h>

#include "stillontime/builders/backup.h"
#include "stillontime/builders/common.h"
#include "stillontime/desired_state.h"
#include "stillontime/kinds.h"
#include "unit/controller/harness.h"
#include "unit/stillontime/helpers.h"

using namespace sot::stillontime;
using sot::stillontime::test::Cluster;
using sot::stillontime::test::make_resource;
using Json = nlohmann::json;

namespace {

const Json kStaging = {{"environment", "staging"}, {"version", "1.0.0"}};

Json with(Json spec, const Json& patch) {
  spec.merge_patch(patch);
  return spec;
}

sot::kube::ResourceRef deployments() {
  return resource_ref("apps/v1", "Deployment");
}
sot::kube::ResourceRef hpas() {
  return resource_ref("autoscaling/v2beta2", "HorizontalPodAutoscaler");
}
sot::kube::ResourceRef jobs() {
  return resource_ref("batch/v1", "Job");
}

bool has(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

Json restore_status(Cluster& c) {
  return c.resource("apps", "sot")["status"].value("restore", Json::object());
}

// The Job's controller reports it finished.
void finish(Cluster& c, const std::string& job, const std::string& type) {
  c.edit(jobs(), {"apps", job}, [&](Json& j) {
    j["status"] = {{"conditions", Json::array({{{"type", type},
                                                {"status", "True"},
                                                {"reason", "BackoffLimitExceeded"},
                                                {"message", "Job has reached the specified backoff limit"},
                                                {"lastTransitionTime", "2024-05-02T01:00:00Z"}}})}};
    if (type == "Complete") j["status"]["completionTime"] = "2024-05-02T01:00:00Z";
  });
}

}  // namespace

TEST_CASE("the plan reaches the builders: a held backend is built at zero without its HPA, Jobs come last") {
  StillOnTime r = make_resource({{"environment", "staging"}});
  BuildContext ctx;
  ctx.api = ApiVersions::k8s_1_20();
  const auto free = desired_state(r, ctx);
  const Json* hpa = sot::stillontime::test::find(free, "HorizontalPodAutoscaler", "sot-backend");
  REQUIRE(hpa != nullptr);
  CHECK_FALSE(sot::stillontime::test::find(free, "Deployment", "sot-backend")->at("spec").contains("replicas"));

  ctx.plan.hold_backend = true;
  ctx.plan.jobs.push_back(build_restore_job(r, "r1", "latest"));
  const auto held = desired_state(r, ctx);
  CHECK(sot::stillontime::test::find(held, "Deployment", "sot-backend")->at("spec")["replicas"] == 0);
  CHECK(sot::stillontime::test::find(held, "HorizontalPodAutoscaler", "sot-backend") == nullptr);
  CHECK(sot::stillontime::test::find(held, "HorizontalPodAutoscaler", "sot-frontend") != nullptr);
  REQUIRE_FALSE(held.empty());
  CHECK(held.back().ref.kind == "Job");
  CHECK(held.back().create_only);
  CHECK(held.back().key().name == restore_job_name(r, "r1"));
  CHECK(held.size() == free.size());  // one HPA fewer, one Job more
}

TEST_CASE("checksums come from the Secrets and ConfigMaps of the same desired set") {
  StillOnTime r = make_resource({{"monitoring", {{"enabled", true}, {"embedded", true}}}});
  BuildContext ctx;
  const auto desired = desired_state(r, ctx);
  const auto sums = compute_checksums(r, ctx);
  const std::vector<std::pair<std::string, std::string>> workloads = {
      {kBackend, "sot-backend"}, {kPrometheus, "sot-prometheus"}, {kGrafana, "sot-grafana"}};
  for (const auto& workload : workloads) {
    const Json* d = sot::stillontime::test::find(desired, "Deployment", workload.second);
    REQUIRE_MESSAGE(d != nullptr, workload.second);
    CHECK(d->at("spec")["template"]["metadata"]["annotations"][kChecksumAnnotation] == sums.at(workload.first));
  }
  // Another password in the generated Secret: another backend checksum.
  BuildContext other = ctx;
  other.credentials.redis_password = "something-else-entirely-0123456789";
  CHECK(compute_checksums(r, other).at(kBackend) != sums.at(kBackend));
}

TEST_CASE("a backup requested: exactly one Job, once per id") {
  Cluster c;
  c.put_resource("apps", "sot", with(kStaging, {{"backup", {{"enabled", true}}}}),
                 {{"annotations", {{kBackupRequestAnnotation, "before-upgrade"}}}});
  (void)c.reconcile("apps", "sot");
  CHECK(c.calls("create", "jobs") == 1);
  const auto names = c.names(jobs(), "apps");
  REQUIRE(names.size() == 1);
  CHECK(names[0].rfind("sot-backup-", 0) == 0);
  CHECK(c.get("batch/v1beta1", "CronJob", {"apps", "sot-backup"}).has_value());
  const Json request = c.resource("apps", "sot")["status"]["backup"]["lastRequest"];
  CHECK(request["id"] == "before-upgrade");
  CHECK(request["phase"] == "Pending");
  CHECK(request["job"] == names[0]);

  (void)c.reconcile("apps", "sot");
  CHECK(c.calls("create", "jobs") == 0);
  CHECK(c.resource("apps", "sot")["status"]["backup"]["lastRequest"]["phase"] == "Running");
  finish(c, names[0], "Complete");
  (void)c.reconcile("apps", "sot");
  CHECK(c.resource("apps", "sot")["status"]["backup"]["lastRequest"]["phase"] == "Succeeded");
  CHECK(c.calls("create", "jobs") == 0);
}

TEST_CASE("a scheduled backup that was due and never succeeded: BackupHealthy False, BackupMissed") {
  Cluster c;
  c.put_resource("apps", "sot", with(kStaging, {{"backup", {{"enabled", true}}}}),
                 {{"creationTimestamp", "2023-01-01T00:00:00Z"}});
  (void)c.reconcile("apps", "sot");
  const Json healthy = c.condition("apps", "sot", "BackupHealthy");
  CHECK(healthy["status"] == "False");
  CHECK(healthy["reason"] == "BackupMissed");
  CHECK(c.calls("create", "jobs") == 0);  // scheduled runs are the CronJob's
}

TEST_CASE("a restore: requested (backend scaled to zero), running, succeeded (backend back)") {
  Cluster c;
  c.put_resource("apps", "sot", kStaging);
  (void)c.reconcile("apps", "sot");
  REQUIRE(has(c.names(hpas(), "apps"), "sot-backend"));
  c.edit(deployments(), {"apps", "sot-backend"}, [](Json& d) {
    d["spec"]["replicas"] = 2;
    d["status"] = {{"replicas", 2}, {"readyReplicas", 2}, {"observedGeneration", 0}};
  });

  // Requested: the backend must stop first.
  c.put_resource("apps", "sot", with(kStaging, {{"restore", {{"from", "latest"}, {"id", "r1"}}}}));
  (void)c.reconcile("apps", "sot");
  CHECK(restore_status(c)["phase"] == "ScalingDown");
  CHECK((*c.get(deployments(), {"apps", "sot-backend"}))["spec"]["replicas"] == 0);
  CHECK_FALSE(has(c.names(hpas(), "apps"), "sot-backend"));
  CHECK(has(c.names(hpas(), "apps"), "sot-frontend"));
  CHECK(c.calls("create", "jobs") == 0);
  CHECK(c.condition("apps", "sot", "Ready")["reason"] == "Restoring");

  // Running: no backend pod is left, the restore Job starts.
  (void)c.reconcile("apps", "sot");
  CHECK(c.calls("create", "jobs") == 1);
  CHECK(restore_status(c)["phase"] == "Running");
  const std::string job = restore_status(c)["job"];
  CHECK(c.get(jobs(), {"apps", job}).has_value());
  (void)c.reconcile("apps", "sot");
  CHECK(c.calls("create", "jobs") == 0);
  CHECK((*c.get(deployments(), {"apps", "sot-backend"}))["spec"]["replicas"] == 0);

  // Succeeded: the backend scales back (its HPA returns).
  finish(c, job, "Complete");
  c.advance(std::chrono::seconds(6));  // past the echo window of the HPA's first apply
  (void)c.reconcile("apps", "sot");
  CHECK(restore_status(c)["phase"] == "Succeeded");
  CHECK(has(c.names(hpas(), "apps"), "sot-backend"));
  CHECK_FALSE((*c.get(deployments(), {"apps", "sot-backend"}))["spec"].contains("replicas"));
  CHECK(c.condition("apps", "sot", "Stalled")["status"] == "False");
  // Done for this id: the Job is never made again.
  c.api().erase(jobs(), {"apps", job});
  (void)c.reconcile("apps", "sot");
  CHECK(c.calls("create", "jobs") == 0);
}

TEST_CASE("a failed restore stalls and keeps the backend at zero") {
  Cluster c;
  c.put_resource("apps", "sot", with(kStaging, {{"restore", {{"from", "latest"}, {"id", "r2"}}}}));
  (void)c.reconcile("apps", "sot");  // no backend ran yet: the Job starts at once
  CHECK(restore_status(c)["phase"] == "Running");
  const std::string job = restore_status(c)["job"];
  REQUIRE(c.get(jobs(), {"apps", job}).has_value());
  finish(c, job, "Failed");
  (void)c.reconcile("apps", "sot");
  CHECK(restore_status(c)["phase"] == "Failed");
  const Json stalled = c.condition("apps", "sot", "Stalled");
  CHECK(stalled["status"] == "True");
  CHECK(stalled["reason"] == "RestoreFailed");
  CHECK(c.resource("apps", "sot")["status"]["phase"] == "Degraded");
  CHECK((*c.get(deployments(), {"apps", "sot-backend"}))["spec"]["replicas"] == 0);
  CHECK_FALSE(has(c.names(hpas(), "apps"), "sot-backend"));
  // It stays so: the next pass neither retries nor lets the backend run.
  (void)c.reconcile("apps", "sot");
  CHECK(c.calls("create", "jobs") == 0);
  CHECK((*c.get(deployments(), {"apps", "sot-backend"}))["spec"]["replicas"] == 0);
}
