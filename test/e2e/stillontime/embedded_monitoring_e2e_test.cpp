// spec.monitoring.embedded end to end, against the real kube-apiserver: the
// stack appears with everything it needs, the resource becomes Ready with it
// and then comes to rest (no writes: the new ConfigMaps, projected volume and
// claims survive the drift check), turning it off removes the workloads but
// keeps claims and the Grafana password, and turning it on again reuses that
// password. A second case shows the manifests' ClusterRole lets the operator
// create the Prometheus discovery Role (RBAC's escalation check).
// No kubelet runs: readiness is set through the status subresource.
#include <fstream>
#include <iterator>
#include <thread>

#include <doctest/doctest.h>

#include "e2e/support.h"
#include "kube/yaml.h"
#include "operator_process.h"
#include "stillontime/builders/builders.h"
#include "stillontime/defaults.h"

using namespace sot;
using namespace sot::kube;
using namespace std::chrono_literals;

namespace {

bool exists(KubeClient& c, const ResourceRef& ref, const ObjectKey& key) {
  return c.get(ref, key).ok();
}

std::string condition(const Json& cr, const std::string& type) {
  if (!cr.is_object()) return "";
  for (const auto& cond : cr.value("status", Json::object()).value("conditions", Json::array())) {
    if (cond.value("type", "") == type) return cond.value("status", "");
  }
  return "";
}

// The stack's objects that embedded=false must remove (managed kinds), and
// those that stay (claims and the generated Secret).
std::vector<std::pair<ResourceRef, std::string>> pruned_objects() {
  return {{e2e::kDeployment, "app-prometheus"},
          {e2e::kDeployment, "app-alertmanager"},
          {e2e::kDeployment, "app-grafana"},
          {e2e::kService, "app-prometheus"},
          {e2e::kService, "app-alertmanager"},
          {e2e::kService, "app-grafana"},
          {e2e::kConfigMap, "app-prometheus-config"},
          {e2e::kConfigMap, "app-prometheus-rules"},
          {e2e::kConfigMap, "app-alertmanager-config"},
          {e2e::kConfigMap, "app-grafana-datasources"},
          {e2e::kConfigMap, "app-grafana-dashboard-providers"},
          {e2e::kConfigMap, "app-grafana-dashboards"},
          {resources::service_accounts(), "app-prometheus"},
          {e2e::kRole, "app-prometheus"},
          {e2e::kRoleBinding, "app-prometheus"},
          {resources::network_policies(), "app-prometheus"},
          {resources::network_policies(), "app-alertmanager"},
          {resources::network_policies(), "app-grafana"}};
}

std::vector<std::pair<ResourceRef, std::string>> kept_objects() {
  return {{e2e::kPersistentVolumeClaim, "app-prometheus-data"},
          {e2e::kPersistentVolumeClaim, "app-alertmanager-data"},
          {e2e::kPersistentVolumeClaim, "app-grafana-data"},
          {resources::secrets(), "app-grafana-admin"}};
}

std::string grafana_password(KubeClient& c, const std::string& ns) {
  const Json secret = e2e::get_or_null(c, resources::secrets(), {ns, "app-grafana-admin"});
  if (!secret.is_object()) return "";
  return secret["data"].value("admin-password", "");
}

bool has_container(const Json& workload, const std::string& name) {
  if (!workload.is_object()) return false;
  for (const auto& c : workload["spec"]["template"]["spec"]["containers"]) {
    if (c["name"] == name) return true;
  }
  return false;
}

void apply_with_kubectl(const Json& object) {
  const std::string path = e2e::control_plane().dir + "/embedded-e2e-" + e2e::random_suffix() + ".json";
  std::ofstream(path) << object.dump();
  auto r = e2e::run("kubectl apply --server-side --force-conflicts -f " + path);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
}

}  // namespace

TEST_CASE("embedded monitoring: the stack comes and goes with spec.monitoring.embedded") {
  auto& op = e2e::shared_operator();
  auto c = e2e::client();
  e2e::TestNamespace ns("sot-embedded");
  const ObjectKey key{ns.name(), "app"};
  const Json cr = {
      {"apiVersion", "stillontime.app/v1alpha1"},
      {"kind", "StillOnTime"},
      {"metadata", {{"name", "app"}, {"namespace", ns.name()}}},
      {"spec", {{"environment", "development"}, {"version", "1.0.0"}, {"monitoring", {{"embedded", true}}}}}};
  auto created = c->create(e2e::kStillOnTime, ns.name(), cr);
  REQUIRE_MESSAGE(created.ok(), created.error().to_string());

  REQUIRE_MESSAGE(e2e::eventually(
                      [&] {
                        for (const auto& [ref, name] : pruned_objects()) {
                          if (!exists(*c, ref, {ns.name(), name})) return false;
                        }
                        for (const auto& [ref, name] : kept_objects()) {
                          if (!exists(*c, ref, {ns.name(), name})) return false;
                        }
                        return true;
                      },
                      30s),
                  ("the stack was not created; operator log: " + op.log_path()));

  for (const auto& [ref, name] : pruned_objects()) {
    CAPTURE(name);
    const Json obj = e2e::get_or_null(*c, ref, {ns.name(), name});
    CHECK(obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "stillontime-operator");
    CHECK(obj["metadata"]["labels"]["stillontime.app/owner"] == ns.name() + ".app");
  }
  const Json prometheus = e2e::get_or_null(*c, e2e::kDeployment, {ns.name(), "app-prometheus"});
  CHECK(prometheus["spec"]["template"]["spec"]["containers"][0]["image"] == "prom/prometheus:v2.53.1");
  CHECK(prometheus["spec"]["template"]["spec"]["serviceAccountName"] == "app-prometheus");
  CHECK(e2e::get_or_null(*c, e2e::kService, {ns.name(), "app-grafana"})["spec"]["ports"][0]["port"] == 3001);
  CHECK(e2e::get_or_null(*c, e2e::kPersistentVolumeClaim,
                         {ns.name(), "app-prometheus-data"})["spec"]["resources"]["requests"]["storage"] == "50Gi");
  CHECK(e2e::get_or_null(*c, e2e::kPersistentVolumeClaim,
                         {ns.name(), "app-grafana-data"})["spec"]["resources"]["requests"]["storage"] == "10Gi");
  CHECK(e2e::get_or_null(*c, e2e::kConfigMap, {ns.name(), "app-grafana-dashboards"})["data"].size() >= 4);
  // The password is drawn at apply time: random, not render's placeholder.
  const std::string password = grafana_password(*c, ns.name());
  CHECK(password.size() >= 40);                               // base64 of 32 characters
  CHECK(password.find("R0VORVJBVEVE") == std::string::npos);  // base64 of "GENERATED"
  // The exporters ride along in the database pods.
  CHECK(e2e::eventually(
      [&] {
        return has_container(e2e::get_or_null(*c, e2e::kStatefulSet, {ns.name(), "app-postgres"}),
                             "postgres-exporter") &&
               has_container(e2e::get_or_null(*c, e2e::kStatefulSet, {ns.name(), "app-redis"}), "redis-exporter");
      },
      10s));

  // Ready counts the stack's components too (the CRD's status schema keeps them).
  CHECK(e2e::eventually(
      [&] {
        e2e::make_workloads_ready(*c, ns.name(), ns.name() + ".app");
        const Json now = e2e::get_or_null(*c, e2e::kStillOnTime, key);
        return condition(now, "Ready") == "True" &&
               now["status"]["observedGeneration"] == now["metadata"]["generation"];
      },
      20s));
  const Json ready = e2e::get_or_null(*c, e2e::kStillOnTime, key);
  CHECK(ready["status"]["components"]["prometheus"]["ready"] == 1);
  CHECK(ready["status"]["components"]["grafana"]["ready"] == 1);
  CHECK(ready["status"]["components"]["alertmanager"]["ready"] == 1);

  // At rest: a whole 5-second window without a write (see reconciler_test.cpp
  // for why a window within 30 s).
  bool quiet = false;
  for (int attempt = 0; attempt < 6 && !quiet; ++attempt) {
    const double before = op.writes();
    std::this_thread::sleep_for(5s);
    quiet = op.writes() == before;
  }
  CHECK_MESSAGE(quiet, ("the operator keeps writing; log: " + op.log_path()));

  // Off: the workloads and their configuration go; claims and the Secret stay.
  REQUIRE(c->merge_patch(e2e::kStillOnTime, key, {{"spec", {{"monitoring", {{"embedded", false}}}}}},
                         PatchOptions{"kubectl"})
              .ok());
  CHECK_MESSAGE(e2e::eventually(
                    [&] {
                      for (const auto& [ref, name] : pruned_objects()) {
                        if (exists(*c, ref, {ns.name(), name})) return false;
                      }
                      return true;
                    },
                    20s),
                ("the stack was not removed; operator log: " + op.log_path()));
  for (const auto& [ref, name] : kept_objects()) {
    CAPTURE(name);
    CHECK(exists(*c, ref, {ns.name(), name}));
  }
  // Development: monitoring.enabled is off, so the exporters go too.
  CHECK(e2e::eventually(
      [&] {
        return !has_container(e2e::get_or_null(*c, e2e::kStatefulSet, {ns.name(), "app-postgres"}),
                              "postgres-exporter") &&
               !has_container(e2e::get_or_null(*c, e2e::kStatefulSet, {ns.name(), "app-redis"}), "redis-exporter");
      },
      10s));

  // On again: the same Grafana password (its database on the claim knows it).
  REQUIRE(c->merge_patch(e2e::kStillOnTime, key, {{"spec", {{"monitoring", {{"embedded", true}}}}}},
                         PatchOptions{"kubectl"})
              .ok());
  CHECK(e2e::eventually([&] { return exists(*c, e2e::kDeployment, {ns.name(), "app-grafana"}); }, 20s));
  CHECK(grafana_password(*c, ns.name()) == password);
}

TEST_CASE("the manifests' ClusterRole lets the operator create the Prometheus discovery Role") {
  // RBAC refuses a Role that grants what its writer does not hold. Bind the
  // ClusterRole of manifests/default to the operator's token user and create
  // the Role as that user.
  auto admin = e2e::client();
  e2e::TestNamespace ns("sot-embedded-rbac");
  std::ifstream in(STILLONTIME_SOURCE_DIR "/manifests/default/cluster_role.yaml");
  REQUIRE(in.good());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto cluster_role = kube::yaml_documents_to_json(text);
  REQUIRE(cluster_role.ok());
  REQUIRE(cluster_role->size() == 1);
  apply_with_kubectl((*cluster_role)[0]);
  const std::string binding = "stillontime-operator-embedded-e2e-" + e2e::random_suffix();
  apply_with_kubectl(
      {{"apiVersion", "rbac.authorization.k8s.io/v1"},
       {"kind", "ClusterRoleBinding"},
       {"metadata", {{"name", binding}}},
       {"roleRef",
        {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", "stillontime-operator"}}},
       {"subjects",
        Json::array(
            {{{"kind", "User"}, {"apiGroup", "rbac.authorization.k8s.io"}, {"name", "stillontime-operator"}}})}});

  stillontime::StillOnTime r;
  r.metadata.name = "app";
  r.metadata.ns = ns.name();
  r.spec.environment = stillontime::Environment::kDevelopment;
  r.spec.version = "1.0.0";
  r.spec.monitoring.embedded = true;
  r = stillontime::apply_defaults(r);
  auto as_operator = e2e::client("operator");
  // The binding takes effect within moments of its creation.
  Result<Json> created = make_error(Code::kInternal, "not tried");
  (void)e2e::eventually(
      [&] {
        created = as_operator->create(e2e::kRole, ns.name(), stillontime::build_prometheus_role(r));
        return created.ok();
      },
      10s);
  CHECK_MESSAGE(created.ok(), created.error().to_string());
  (void)e2e::run("kubectl delete --ignore-not-found clusterrolebinding/" + binding);
}
