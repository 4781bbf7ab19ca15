#include "plugin/status_view.h"

#include <functional>

#include <doctest/doctest.h>

using namespace sot::plugin;
using nlohmann::json;

namespace {

constexpr std::int64_t kNow = 1715738400;  // 2024-05-15T02:00:00Z

json meta(const std::string& name, json extra = json::object()) {
  json m = {{"name", name},
            {"namespace", "ns1"},
            {"creationTimestamp", "2024-05-15T01:00:00Z"},
            {"generation", 1},
            {"labels", {{"app.kubernetes.io/instance", "app"}, {"stillontime.app/owner", "ns1.app"}}}};
  m.update(extra);
  return m;
}

json managed(const std::string& manager, json fields) {
  return {{"manager", manager}, {"operation", "Update"}, {"time", "2024-05-15T01:50:00Z"}, {"fieldsV1", fields}};
}

json deployment(const std::string& name, const std::string& component, const std::string& tag, int generation,
                int observed) {
  json m = meta(name, {{"generation", generation}});
  m["labels"]["app.kubernetes.io/component"] = component;
  m["managedFields"] = json::array({managed("stillontime-operator", {{"f:spec", {{"f:replicas", json::object()}}}})});
  json d = json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment",
      "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}},
      "status": {"replicas": 1, "readyReplicas": 1, "updatedReplicas": 1}})");
  d["metadata"] = m;
  d["spec"]["template"]["spec"]["containers"][0]["image"] = "repo/" + component + ":" + tag;
  d["status"]["observedGeneration"] = observed;
  return d;
}

json resource() {
  return {{"apiVersion", "stillontime.app/v1alpha1"},
          {"kind", "StillOnTime"},
          {"metadata", {{"name", "app"}, {"namespace", "ns1"}, {"generation", 3}, {"uid", "u1"}}},
          {"spec", {{"environment", "development"}, {"version", "1.1.0"}, {"backup", {{"enabled", true}}}}},
          {"status",
           {{"observedGeneration", 3},
            {"phase", "Progressing"},
            {"version", "1.1.0"},
            {"targetNamespace", "ns1"},
            {"conditions",
             {{{"type", "Ready"},
               {"status", "False"},
               {"reason", "ComponentsNotReady"},
               {"message", "frontend 0/1 ready"},
               {"lastTransitionTime", "2024-05-15T01:58:00Z"}}}},
            {"components",
             {{"backend", {{"desired", 1}, {"ready", 1}, {"image", "repo/backend:1.1.0"}}},
              {"frontend", {{"desired", 1}, {"ready", 0}, {"image", "repo/frontend:1.1.0"}}}}},
            {"versionHistory",
             {{{"version", "1.1.0"}, {"firstApplied", "2024-05-15T01:58:00Z"}},
              {{"version", "1.0.0"},
               {"firstApplied", "2024-05-14T00:00:00Z"},
               {"becameReady", "2024-05-14T00:01:30Z"},
               {"left", "2024-05-15T01:58:00Z"}}}},
            {"backup",
             {{"lastBackup", "stillontime-20240515T015000Z.dump"}, {"lastSuccessfulTime", "2024-05-15T01:50:30Z"}}},
            {"restore",
             {{"id", "r1"},
              {"from", "latest"},
              {"phase", "Succeeded"},
              {"finishedAt", "2024-05-15T01:40:00Z"},
              {"message", "restored stillontime-20240514T020000Z.dump"}}}}}};
}

ClusterSnapshot snapshot() {
  ClusterSnapshot s;
  s.resource = resource();
  s.api = sot::stillontime::ApiVersions::k8s_1_20();
  s.children.push_back(deployment("app-backend", "backend", "1.1.0", 2, 2));
  s.children.push_back(deployment("app-frontend", "frontend", "1.0.0", 2, 1));  // old image, rollout pending
  json pg = deployment("app-postgres", "postgres", "16", 1, 1);
  pg["kind"] = "StatefulSet";
  pg["metadata"]["managedFields"].push_back(managed("kubectl-edit", {{"f:spec", {{"f:replicas", json::object()}}}}));
  // The cluster's own controllers and status writers are not drift.
  pg["metadata"]["managedFields"].push_back(
      managed("kube-controller-manager", {{"f:spec", {{"f:replicas", json::object()}}}}));
  pg["metadata"]["managedFields"].push_back(managed("someone", {{"f:status", {{"f:replicas", json::object()}}}}));
  s.children.push_back(pg);
  s.children.push_back({{"apiVersion", "batch/v1beta1"},
                        {"kind", "CronJob"},
                        {"metadata", meta("app-backup", {{"uid", "cj"}})},
                        {"spec", {{"schedule", "0 2 * * *"}}},
                        {"status", {{"lastScheduleTime", "2024-05-15T01:45:00Z"}}}});
  json scheduled = {
      {"apiVersion", "batch/v1"},
      {"kind", "Job"},
      {"metadata", meta("app-backup-100", {{"creationTimestamp", "2024-05-15T01:45:00Z"}})},
      {"status",
       {{"completionTime", "2024-05-15T01:50:30Z"}, {"conditions", {{{"type", "Complete"}, {"status", "True"}}}}}}};
  scheduled["metadata"]["labels"]["stillontime.app/task"] = "backup";
  scheduled["metadata"]["labels"]["stillontime.app/trigger"] = "schedule";
  scheduled["metadata"]["ownerReferences"] = {{{"kind", "CronJob"}, {"name", "app-backup"}, {"controller", true}}};
  s.children.push_back(scheduled);
  json request = {
      {"apiVersion", "batch/v1"},
      {"kind", "Job"},
      {"metadata", meta("app-backup-abc", {{"creationTimestamp", "2024-05-15T01:55:00Z"},
                                           {"annotations", {{"stillontime.app/backup-request", "before-upgrade"}}}})},
      {"status",
       {{"conditions",
         {{{"type", "Failed"},
           {"status", "True"},
           {"message", "BackoffLimitExceeded"},
           {"lastTransitionTime", "2024-05-15T01:57:00Z"}}}}}}};
  request["metadata"]["labels"]["stillontime.app/task"] = "backup";
  request["metadata"]["labels"]["stillontime.app/trigger"] = "request";
  s.children.push_back(request);
  s.pods.push_back(json::parse(R"({"kind": "Pod",
      "metadata": {"name": "app-backend-5d9-x1", "namespace": "ns1", "ownerReferences": [{"kind": "ReplicaSet", "name": "app-backend-5d9"}]},
      "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}})"));
  s.pods.push_back(json::parse(R"({"kind": "Pod",
      "metadata": {"name": "app-frontend-77-y2", "namespace": "ns1", "ownerReferences": [{"kind": "ReplicaSet", "name": "app-frontend-77"}]},
      "status": {"phase": "Pending", "containerStatuses": [{"name": "frontend", "restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}})"));
  s.pods.push_back(json::parse(R"({"kind": "Pod",
      "metadata": {"name": "app-backup-100-z", "namespace": "ns1", "labels": {"job-name": "app-backup-100"},
                   "ownerReferences": [{"kind": "Job", "name": "app-backup-100"}]},
      "status": {"phase": "Succeeded", "containerStatuses": [{"name": "backup", "state": {"terminated": {"message": "stillontime-20240515T015000Z.dump"}}}]}})"));
  s.backup_sizes["app-backup-100"] = 3 * 1024 * 1024 / 2;
  return s;
}

const json* find_node(const json& list, const std::string& kind, const std::string& name) {
  for (const auto& n : list) {
    if (n["kind"] == kind && n["name"] == name) return &n;
    if (const json* inner = find_node(n["children"], kind, name)) return inner;
  }
  return nullptr;
}

bool has_problem(const json& node, const std::string& text) {
  for (const auto& p : node["problems"]) {
    if (p.get<std::string>().find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("status document: conditions, components with versions, history, backups, restore") {
  const json doc = status_document(snapshot(), kNow);
  CHECK(doc["name"] == "app");
  CHECK(doc["phase"] == "Progressing");
  CHECK(doc["conditions"][0]["reason"] == "ComponentsNotReady");
  REQUIRE(doc["components"].size() == 2);
  CHECK(doc["components"][0]["name"] == "backend");
  CHECK(doc["components"][0]["version"] == "1.1.0");
  CHECK(doc["versionHistory"].size() == 2);
  CHECK(doc["restore"]["phase"] == "Succeeded");
  CHECK(doc["backups"]["enabled"] == true);
  CHECK(doc["backups"]["schedule"] == "0 2 * * *");
  const json& runs = doc["backups"]["runs"];
  REQUIRE(runs.size() == 2);
  CHECK(runs[0]["job"] == "app-backup-abc");  // newest first
  CHECK(runs[0]["result"] == "Failed");
  CHECK(runs[0]["request"] == "before-upgrade");
  CHECK(runs[1]["result"] == "Succeeded");
  CHECK(runs[1]["trigger"] == "schedule");
  CHECK(runs[1]["file"] == "stillontime-20240515T015000Z.dump");
  CHECK(runs[1]["size"] == 3 * 1024 * 1024 / 2);
}

TEST_CASE("children: a tree by owner, not-ready and drift marked, missing ones listed") {
  const json doc = status_document(snapshot(), kNow);
  const json& tree = doc["children"];
  // Pods sit under their Deployment (through the ReplicaSet), the Job under the CronJob, its pod under the Job.
  const json* backend = find_node(tree, "Deployment", "app-backend");
  REQUIRE(backend != nullptr);
  CHECK((*backend)["state"] == "ok");
  REQUIRE((*backend)["children"].size() == 1);
  CHECK((*backend)["children"][0]["name"] == "app-backend-5d9-x1");
  const json* cronjob = find_node(tree, "CronJob", "app-backup");
  REQUIRE(cronjob != nullptr);
  REQUIRE((*cronjob)["children"].size() == 1);
  CHECK((*cronjob)["children"][0]["name"] == "app-backup-100");
  CHECK((*cronjob)["children"][0]["children"][0]["name"] == "app-backup-100-z");
  for (const auto& top : tree) CHECK(top["kind"] != "Pod");

  const json* frontend = find_node(tree, "Deployment", "app-frontend");
  REQUIRE(frontend != nullptr);
  CHECK((*frontend)["state"] == "not-ready");  // worse than its drift
  CHECK(has_problem(*frontend, "rollout pending: generation 2, observed 1"));
  CHECK(has_problem(*frontend, "runs 1.0.0, spec.version is 1.1.0"));
  const json* frontend_pod = find_node(tree, "Pod", "app-frontend-77-y2");
  REQUIRE(frontend_pod != nullptr);
  CHECK((*frontend_pod)["state"] == "not-ready");
  CHECK(has_problem(*frontend_pod, "ImagePullBackOff"));

  const json* pg = find_node(tree, "StatefulSet", "app-postgres");
  REQUIRE(pg != nullptr);
  CHECK((*pg)["state"] == "drift");
  REQUIRE((*pg)["problems"].size() == 1);  // kube-controller-manager and status writers do not count
  CHECK(has_problem(*pg, "changed by kubectl-edit 10m ago: spec.replicas"));

  const json* failed = find_node(tree, "Job", "app-backup-abc");
  REQUIRE(failed != nullptr);
  CHECK((*failed)["state"] == "failed");

  // The operator would create Services, Secrets, ...; none are in the snapshot.
  const json* svc = find_node(tree, "Service", "app-backend");
  REQUIRE(svc != nullptr);
  CHECK((*svc)["state"] == "missing");
  CHECK(find_node(tree, "StatefulSet", "app-redis") != nullptr);
  CHECK(doc["needAttention"].get<int>() > 5);
}

TEST_CASE("drift is judged only on what the operator applied; an HPA's replicas are its own") {
  ClusterSnapshot s = snapshot();
  // A person scaled the backend, which an HPA scales: not drift.
  s.children[0]["metadata"]["managedFields"].push_back(
      managed("kubectl-patch", {{"f:spec", {{"f:replicas", json::object()}}}}));
  s.children.push_back(
      {{"apiVersion", "autoscaling/v2beta2"},
       {"kind", "HorizontalPodAutoscaler"},
       {"metadata", meta("app-backend")},
       {"spec", {{"scaleTargetRef", {{"kind", "Deployment"}, {"name", "app-backend"}}}, {"maxReplicas", 5}}}});
  // A pod written by someone else entirely (here kubectl-create) is not compared at all.
  s.pods[0]["metadata"]["managedFields"] =
      json::array({managed("kubectl-create", {{"f:spec", {{"f:containers", json::object()}}}})});
  const json doc = status_document(s, kNow);
  CHECK(find_node(doc["children"], "Deployment", "app-backend")->at("state") == "ok");
  CHECK(find_node(doc["children"], "Pod", "app-backend-5d9-x1")->at("state") == "ok");
  // The same change without the HPA is drift.
  s.children.pop_back();
  CHECK(find_node(status_document(s, kNow)["children"], "Deployment", "app-backend")->at("state") == "drift");
}

TEST_CASE("the text view shows each part, marks and aligned tree") {
  const json doc = status_document(snapshot(), kNow);
  const std::string text = render_status(doc, kNow);
  CAPTURE(text);
  for (const char* want : {"StillOnTime ns1/app", "1.1.0 (spec), 1.1.0 (status)", "ComponentsNotReady", "frontend !",
                           "1.0.0    26h ago", "after 90s", "never", "schedule 0 2 * * * (UTC)",
                           "Last backup: stillontime-20240515T015000Z.dump (9m ago)", "1.5 MiB"}) {
    CHECK_MESSAGE(text.find(want) != std::string::npos, std::string(want));
  }
  CHECK(text.find("request before-upgrade") != std::string::npos);
  CHECK(text.find("Restore: r1 from latest, Succeeded 20m ago") != std::string::npos);
  CHECK(text.find("[DRIFT: changed by kubectl-edit 10m ago: spec.replicas]") != std::string::npos);
  CHECK(text.find("[NOT READY: rollout pending") != std::string::npos);
  CHECK(text.find("[MISSING: not created yet]") != std::string::npos);
  CHECK(text.find("│  └─ Pod app-backend-5d9-x1") != std::string::npos);
  // Summaries start in one column.
  const auto a = text.find("Deployment app-backend");
  const auto b = text.find("Deployment app-frontend");
  const auto col = [&](std::size_t at, const char* what) { return text.find(what, at) - text.rfind('\n', at); };
  CHECK(col(a, "1/1 ready") == col(b, "0/1 ready"));
}

TEST_CASE("hostile text from the cluster cannot steer the terminal") {
  ClusterSnapshot s = snapshot();
  s.resource["status"]["conditions"][0]["message"] = "bad\x1b[2Jnews\nline";
  const std::string text = render_status(status_document(s, kNow), kNow);
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find("bad?[2Jnews line") != std::string::npos);
  // Fields of the wrong type are read as absent, never thrown on.
  s.resource["status"]["components"] = "nonsense";
  s.children.push_back(json::array({1, 2}));
  s.pods.push_back({{"kind", "Pod"}, {"metadata", 7}, {"status", {{"containerStatuses", "x"}}}});
  CHECK_NOTHROW(render_status(status_document(s, kNow), kNow));
}

TEST_CASE("a spec the operator refuses is a note, not a crash; nothing is listed as missing") {
  ClusterSnapshot s = snapshot();
  s.resource["spec"]["backend"] = {{"autoscaling", {{"enabled", true}, {"minReplicas", 5}, {"maxReplicas", 2}}}};
  const json doc = status_document(s, kNow);
  REQUIRE_FALSE(doc["notes"].empty());
  CHECK(doc["notes"][0].get<std::string>().find("maxReplicas") != std::string::npos);
  CHECK(find_node(doc["children"], "Service", "app-backend") == nullptr);
}

TEST_CASE("dump sizes come from backup.sh's log line") {
  CHECK(dump_size_from_log("2024-05-15T02:00:12Z backup: wrote stillontime-20240515T020012Z.dump (123456 bytes)\n"
                           "stillontime-20240515T020012Z.dump\n") == 123456);
  CHECK(dump_size_from_log("no such line") == -1);
  CHECK(dump_size_from_log("wrote x.dump (12 kilobytes)") == -1);
  CHECK(dump_size_from_log("wrote x.dump (99999999999999999999999 bytes)") == -1);
}
