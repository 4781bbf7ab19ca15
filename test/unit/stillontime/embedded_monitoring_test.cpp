// spec.monitoring.embedded (builders/embedded_monitoring.cpp) and the exporter
// sidecars: each builder's output field by field, the rule file against the
// PrometheusRule's groups, the dashboards against manifests/monitoring, the
// NetworkPolicies, and what the desired set holds with the stack on and off.
#include <filesystem>
#include <set>

#include <doctest/doctest.h>

#include "common/base64.h"
#include "kube/yaml.h"
#include "stillontime/builders/builders.h"
#include "stillontime/desired_state.h"
#include "stillontime/validate.h"
#include "unit/stillontime/helpers.h"

namespace sot::stillontime {
namespace {

using test::find;
using test::make_resource;

const std::string kDashboardsDir = STILLONTIME_DASHBOARDS_DIR;
const std::string kCrd = std::string(STILLONTIME_CRDS_DIR) + "/stillontime.app_stillontimes.yaml";

StillOnTime embedded(json extra = json::object()) {
  json spec = {{"monitoring", {{"enabled", false}, {"embedded", true}}}};
  for (const auto& [k, v] : extra.items()) spec[k] = v;
  return make_resource(spec);
}

json yaml_of(const std::string& text) {
  auto docs = kube::yaml_documents_to_json(text);
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 1);
  return (*docs)[0];
}

const json& container(const json& workload, const std::string& name) {
  for (const auto& c : workload["spec"]["template"]["spec"]["containers"]) {
    if (c["name"] == name) return c;
  }
  FAIL("no container " << name);
  static const json none;
  return none;
}

bool has_container(const json& workload, const std::string& name) {
  for (const auto& c : workload["spec"]["template"]["spec"]["containers"]) {
    if (c["name"] == name) return true;
  }
  return false;
}

const json& env(const json& c, const std::string& name) {
  for (const auto& e : c["env"]) {
    if (e["name"] == name) return e;
  }
  FAIL("no env " << name);
  static const json none;
  return none;
}

json secret_ref(const std::string& name, const std::string& key) {
  return {{"secretKeyRef", {{"name", name}, {"key", key}}}};
}

json port_named(const json& ports, const std::string& name) {
  for (const auto& p : ports) {
    if (p["name"] == name) return p;
  }
  return nullptr;
}

const json& job(const json& config, const std::string& name) {
  for (const auto& j : config["scrape_configs"]) {
    if (j["job_name"] == name) return j;
  }
  FAIL("no job " << name);
  static const json none;
  return none;
}

bool has_job(const json& config, const std::string& name) {
  for (const auto& j : config["scrape_configs"]) {
    if (j["job_name"] == name) return true;
  }
  return false;
}

// Does a policy's rule list admit the instance component (or "name=value" peer) on port?
bool allows(const json& policy, const std::string& direction, const std::string& peer, int port) {
  const auto eq = peer.find('=');
  const std::string key = eq == std::string::npos ? kLabelComponent : kLabelName;
  const std::string value = eq == std::string::npos ? peer : peer.substr(eq + 1);
  const char* list = direction == "from" ? "ingress" : "egress";
  for (const auto& rule : policy["spec"].value(list, json::array())) {
    bool port_ok = false;
    for (const auto& p : rule.value("ports", json::array())) port_ok |= p["port"] == port;
    if (!port_ok) continue;
    if (!rule.contains(direction)) return true;  // any peer
    for (const auto& candidate : rule[direction]) {
      if (candidate["podSelector"]["matchLabels"].value(key, "") == value) return true;
    }
  }
  return false;
}

const json* policy(const std::vector<json>& all, const std::string& name) {
  for (const auto& p : all) {
    if (p["metadata"]["name"] == name) return &p;
  }
  return nullptr;
}

void check_workload_basics(const json& d, const std::string& component, const std::string& image, int port) {
  INFO(component);
  CHECK(d["apiVersion"] == "apps/v1");
  CHECK(d["kind"] == "Deployment");
  CHECK(d["metadata"]["name"] == "sot-" + component);
  test::check_contract_labels(d, component);
  CHECK(d["metadata"]["ownerReferences"][0]["uid"] == "uid-1");
  CHECK(d["spec"]["replicas"] == 1);
  CHECK(d["spec"]["strategy"] == json{{"type", "Recreate"}});  // one ReadWriteOnce claim
  CHECK(d["spec"]["selector"]["matchLabels"] ==
        json{{kLabelName, "stillontime"}, {kLabelInstance, "sot"}, {kLabelComponent, component}});
  test::check_contract_labels(d["spec"]["template"], component);
  const json& pod = d["spec"]["template"]["spec"];
  test::check_restricted(pod);
  REQUIRE(pod["containers"].size() == 1);
  const json& c = pod["containers"][0];
  CHECK(c["image"] == image);
  CHECK(c["ports"] == json::array({{{"name", "http"}, {"containerPort", port}, {"protocol", "TCP"}}}));
  CHECK(c["resources"]["requests"].contains("cpu"));
  CHECK(c["resources"]["requests"].contains("memory"));
  CHECK(c["resources"]["limits"].contains("cpu"));
  CHECK(c["resources"]["limits"].contains("memory"));
  CHECK(c["readinessProbe"]["httpGet"]["port"] == "http");
  CHECK(c["livenessProbe"]["httpGet"]["port"] == "http");
  bool data = false;
  for (const auto& v : pod["volumes"]) {
    if (v["name"] == "data") {
      data = true;
      CHECK(v["persistentVolumeClaim"]["claimName"] == "sot-" + component + "-data");
    }
  }
  CHECK(data);
}

TEST_CASE("prometheus: Deployment, ServiceAccount, Role limited to discovery in the target namespace") {
  auto r = embedded();
  BuildContext ctx;
  ctx.checksums[kPrometheus] = "prom-sum";
  auto d = build_prometheus_deployment(r, ctx);
  check_workload_basics(d, "prometheus", "prom/prometheus:v2.53.1", 9090);
  CHECK(d["spec"]["template"]["metadata"]["annotations"][kChecksumAnnotation] == "prom-sum");
  const json& pod = d["spec"]["template"]["spec"];
  CHECK(pod["serviceAccountName"] == "sot-prometheus");
  CHECK(pod["automountServiceAccountToken"] == true);  // service discovery reads the API
  CHECK(pod["securityContext"]["runAsUser"] == 65534);
  const json& c = pod["containers"][0];
  CHECK(c["args"] == json::array({"--config.file=/etc/prometheus/config/prometheus.yml",
                                  "--storage.tsdb.path=/prometheus", "--storage.tsdb.retention.time=15d",
                                  "--storage.tsdb.retention.size=45GB", "--web.listen-address=:9090"}));
  CHECK(c["volumeMounts"] ==
        json::array({{{"name", "config"}, {"mountPath", "/etc/prometheus/config"}, {"readOnly", true}},
                     {{"name", "data"}, {"mountPath", "/prometheus"}},
                     {{"name", "tmp"}, {"mountPath", "/tmp"}}}));
  // prometheus.yml and rules/stillontime.rules.yml side by side.
  CHECK(pod["volumes"][0]["projected"]["sources"] ==
        json::array({{{"configMap", {{"name", "sot-prometheus-config"}}}},
                     {{"configMap",
                       {{"name", "sot-prometheus-rules"},
                        {"items", json::array({{{"key", "stillontime.rules.yml"},
                                                {"path", "rules/stillontime.rules.yml"}}})}}}}}));

  auto sa = build_prometheus_service_account(r);
  CHECK(sa["kind"] == "ServiceAccount");
  CHECK(sa["metadata"]["name"] == "sot-prometheus");
  test::check_contract_labels(sa, "prometheus");
  auto role = build_prometheus_role(r);
  CHECK(role["kind"] == "Role");
  CHECK(role["metadata"]["namespace"] == "apps");
  CHECK(role["rules"] == json::array({{{"apiGroups", json::array({""})},
                                       {"resources", json::array({"endpoints", "pods", "services"})},
                                       {"verbs", json::array({"get", "list", "watch"})}}}));
  auto binding = build_prometheus_role_binding(r);
  CHECK(binding["roleRef"] ==
        json{{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "sot-prometheus"}});
  CHECK(binding["subjects"] ==
        json::array({{{"kind", "ServiceAccount"}, {"name", "sot-prometheus"}, {"namespace", "apps"}}}));

  auto svc = build_prometheus_service(r);
  CHECK(svc["metadata"]["name"] == "sot-prometheus");
  CHECK(svc["spec"]["ports"] ==
        json::array({{{"name", "http"}, {"port", 9090}, {"targetPort", "http"}, {"protocol", "TCP"}}}));
  CHECK(svc["spec"]["selector"][kLabelComponent] == "prometheus");
}

TEST_CASE("prometheus.yml: the guide's intervals, discovery in one namespace, the labels rules and dashboards use") {
  auto r = embedded({{"targetNamespace", "prod"}});
  auto cm = build_prometheus_config_map(r);
  CHECK(cm["kind"] == "ConfigMap");
  CHECK(cm["metadata"]["name"] == "sot-prometheus-config");
  CHECK(cm["metadata"]["namespace"] == "prod");
  test::check_contract_labels(cm, "prometheus");
  const json config = yaml_of(cm["data"]["prometheus.yml"]);
  CHECK(config["global"]["scrape_interval"] == "15s");
  CHECK(config["global"]["evaluation_interval"] == "15s");
  CHECK(config["rule_files"] == json::array({"rules/*.yml"}));  // relative: beside the config in the pod
  CHECK(config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] ==
        json::array({"sot-alertmanager.prod.svc:9093"}));

  CHECK(job(config, "sot-backend")["scrape_interval"] == "15s");   // guide: application
  CHECK(job(config, "sot-postgres")["scrape_interval"] == "30s");  // guide: infrastructure
  CHECK(job(config, "sot-redis")["scrape_interval"] == "30s");
  CHECK(job(config, "sot-alertmanager")["scrape_interval"] == "60s");
  CHECK(job(config, "sot-grafana")["scrape_interval"] == "60s");
  CHECK(job(config, "sot-prometheus")["scrape_interval"] == "60s");
  CHECK_FALSE(has_job(config, "sot-frontend"));  // nginx exports no metrics

  const json& op = job(config, "stillontime-operator-metrics");  // the operator alerts' and dashboard's job name
  CHECK(op["scrape_interval"] == "30s");
  CHECK(op["honor_labels"] == true);
  CHECK(op["static_configs"][0]["targets"] ==
        json::array({"stillontime-operator-metrics.stillontime-system.svc:8080"}));
  CHECK(op["static_configs"][0]["labels"] ==
        json{{"namespace", "stillontime-system"}, {"service", "stillontime-operator-metrics"}});

  for (const char* name : {"sot-backend", "sot-postgres", "sot-redis", "sot-alertmanager", "sot-grafana"}) {
    INFO(name);
    const json& j = job(config, name);
    CHECK(j["kubernetes_sd_configs"] ==
          json::array({{{"role", "endpoints"}, {"namespaces", {{"names", json::array({"prod"})}}}}}));
    const json& relabel = j["relabel_configs"];
    CHECK(relabel[0]["action"] == "keep");
    CHECK(relabel[0]["source_labels"] ==
          json::array({"__meta_kubernetes_service_name", "__meta_kubernetes_endpoint_port_name"}));
    std::set<std::string> targets;
    for (const auto& rl : relabel) {
      if (rl.contains("target_label")) targets.insert(rl["target_label"].get<std::string>());
    }
    CHECK(targets == std::set<std::string>{"namespace", "service", "pod", "container", "endpoint"});
  }
  CHECK(job(config, "sot-backend")["relabel_configs"][0]["regex"] == "sot-backend;metrics");
  CHECK(job(config, "sot-postgres")["relabel_configs"][0]["regex"] == "sot-postgres;metrics");
  CHECK(job(config, "sot-grafana")["relabel_configs"][0]["regex"] == "sot-grafana;http");

  auto external = embedded({{"postgres", {{"external", {{"secretRef", {{"name", "db"}, {"key", "url"}}}}}}}});
  CHECK_FALSE(has_job(yaml_of(build_prometheus_config_map(external)["data"]["prometheus.yml"]), "sot-postgres"));
}

TEST_CASE("the rule file carries exactly the PrometheusRule's groups") {
  auto r = make_resource({{"monitoring", {{"enabled", true}, {"embedded", true}}}});
  auto cm = build_prometheus_rules_config_map(r);
  CHECK(cm["metadata"]["name"] == "sot-prometheus-rules");
  test::check_contract_labels(cm, "prometheus");
  REQUIRE(cm["data"].size() == 1);
  const json file = yaml_of(cm["data"]["stillontime.rules.yml"]);
  CHECK(file == json{{"groups", prometheus_rule_groups(r)}});
  BuildContext served;
  served.api = ApiVersions::latest();
  auto rule = build_prometheus_rule(r, served);
  REQUIRE(rule.has_value());
  CHECK(file["groups"] == (*rule)["spec"]["groups"]);
  CHECK(file["groups"][0]["rules"].size() == 8);
}

TEST_CASE("claims: the guide's sizes, the storage class, deletionPolicy as for the backend's claims") {
  auto r = embedded({{"storageClassName", "gp2"}, {"deletionPolicy", "Retain"}});
  for (const auto& row :
       std::vector<std::tuple<json, std::string, std::string>>{{build_prometheus_pvc(r), "prometheus", "50Gi"},
                                                               {build_alertmanager_pvc(r), "alertmanager", "2Gi"},
                                                               {build_grafana_pvc(r), "grafana", "10Gi"}}) {
    const auto& [pvc, component, size] = row;
    INFO(std::get<1>(row));  // not the binding: clang 14 cannot capture one in INFO's lambda
    CHECK(pvc["kind"] == "PersistentVolumeClaim");
    CHECK(pvc["metadata"]["name"] == "sot-" + component + "-data");
    test::check_contract_labels(pvc, component);
    CHECK(pvc["spec"]["resources"]["requests"]["storage"] == size);
    CHECK(pvc["spec"]["accessModes"] == json::array({"ReadWriteOnce"}));
    CHECK(pvc["spec"]["storageClassName"] == "gp2");
    CHECK_FALSE(pvc["metadata"].contains("ownerReferences"));  // Retain: outlives the resource
    CHECK(pvc["metadata"]["annotations"][kDeletionPolicyAnnotation] == "Retain");
  }
  auto del = embedded({{"deletionPolicy", "Delete"}});
  CHECK(build_grafana_pvc(del)["metadata"]["ownerReferences"][0]["uid"] == "uid-1");
  CHECK_FALSE(build_grafana_pvc(del)["spec"].contains("storageClassName"));
}

TEST_CASE("alertmanager: Deployment, Service, a minimal configuration without secrets") {
  auto r = embedded();
  auto d = build_alertmanager_deployment(r, BuildContext{});
  check_workload_basics(d, "alertmanager", "prom/alertmanager:v0.27.0", 9093);
  const json& pod = d["spec"]["template"]["spec"];
  CHECK(pod["serviceAccountName"] == "sot-app");
  CHECK(pod["automountServiceAccountToken"] == false);
  const json& c = pod["containers"][0];
  CHECK(c["args"] == json::array({"--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager",
                                  "--cluster.listen-address=", "--web.listen-address=:9093"}));
  CHECK(pod["volumes"][0] == json{{"name", "config"}, {"configMap", {{"name", "sot-alertmanager-config"}}}});

  auto svc = build_alertmanager_service(r);
  CHECK(svc["spec"]["ports"] ==
        json::array({{{"name", "http"}, {"port", 9093}, {"targetPort", "http"}, {"protocol", "TCP"}}}));

  auto cm = build_alertmanager_config_map(r);
  CHECK(cm["metadata"]["name"] == "sot-alertmanager-config");
  test::check_contract_labels(cm, "alertmanager");
  const json config = yaml_of(cm["data"]["alertmanager.yml"]);
  CHECK(config["route"]["receiver"] == "default");
  CHECK(config["receivers"] == json::array({{{"name", "default"}}}));
}

TEST_CASE("grafana: port 3000 behind Service port 3001, password only by secretKeyRef, provisioning") {
  auto r = embedded();
  GeneratedCredentials creds;
  creds.grafana_admin_password = "s3cret-admin-password";
  auto secret = build_grafana_secret(r, creds);
  CHECK(secret["kind"] == "Secret");
  CHECK(secret["metadata"]["name"] == "sot-grafana-admin");
  test::check_contract_labels(secret, "grafana");
  CHECK(secret["metadata"]["annotations"][kGeneratedAnnotation] == "true");
  CHECK(secret["data"] == json{{"admin-user", common::base64_encode("admin")},
                               {"admin-password", common::base64_encode("s3cret-admin-password")}});
  CHECK_FALSE(secret.contains("stringData"));

  BuildContext ctx;
  ctx.credentials = creds;
  ctx.checksums[kGrafana] = "g-sum";
  auto d = build_grafana_deployment(r, ctx);
  check_workload_basics(d, "grafana", "grafana/grafana:11.1.0", 3000);
  CHECK(d["spec"]["template"]["metadata"]["annotations"][kChecksumAnnotation] == "g-sum");
  CHECK(d.dump().find("s3cret-admin-password") == std::string::npos);
  const json& pod = d["spec"]["template"]["spec"];
  CHECK(pod["securityContext"]["runAsUser"] == 472);
  CHECK(pod["automountServiceAccountToken"] == false);
  const json& c = pod["containers"][0];
  CHECK(env(c, "GF_SECURITY_ADMIN_PASSWORD")["valueFrom"] == secret_ref("sot-grafana-admin", "admin-password"));
  CHECK(env(c, "GF_SECURITY_ADMIN_USER")["valueFrom"] == secret_ref("sot-grafana-admin", "admin-user"));
  CHECK(env(c, "GF_LOG_MODE")["value"] == "console");
  std::set<std::string> mounts;
  for (const auto& m : c["volumeMounts"]) mounts.insert(m["mountPath"].get<std::string>());
  CHECK(mounts == std::set<std::string>{"/var/lib/grafana", "/tmp", "/etc/grafana/provisioning/datasources",
                                        "/etc/grafana/provisioning/dashboards", "/etc/grafana/dashboards"});

  auto svc = build_grafana_service(r);
  CHECK(svc["metadata"]["name"] == "sot-grafana");
  CHECK(svc["spec"]["ports"] ==
        json::array({{{"name", "http"}, {"port", 3001}, {"targetPort", "http"}, {"protocol", "TCP"}}}));

  const json ds = yaml_of(build_grafana_datasources_config_map(r)["data"]["datasources.yaml"]);
  CHECK(ds["datasources"][0]["type"] == "prometheus");
  CHECK(ds["datasources"][0]["url"] == "http://sot-prometheus.apps.svc:9090");
  CHECK(ds["datasources"][0]["isDefault"] == true);
  CHECK(ds["datasources"][1]["type"] == "alertmanager");
  CHECK(ds["datasources"][1]["url"] == "http://sot-alertmanager.apps.svc:9093");
  const json providers = yaml_of(build_grafana_dashboard_providers_config_map(r)["data"]["dashboards.yaml"]);
  CHECK(providers["providers"][0]["type"] == "file");
  CHECK(providers["providers"][0]["options"]["path"] == "/etc/grafana/dashboards");
}

TEST_CASE("the dashboards ConfigMap holds manifests/monitoring/dashboards byte for byte, each valid JSON") {
  auto cm = build_grafana_dashboards_config_map(embedded());
  CHECK(cm["metadata"]["name"] == "sot-grafana-dashboards");
  test::check_contract_labels(cm, "grafana");
  const auto files = test::list_files(kDashboardsDir, ".json");
  CHECK(files.size() >= 4);
  CHECK(cm["data"].size() == files.size());
  for (const auto& file : files) {
    const std::string key = std::filesystem::path(file).filename().string();
    INFO(key);
    REQUIRE(cm["data"].contains(key));
    const std::string text = cm["data"][key];
    CHECK(text == test::read_file(file));
    const json dashboard = json::parse(text, nullptr, false);
    REQUIRE_FALSE(dashboard.is_discarded());
    CHECK(dashboard.contains("uid"));
    CHECK(dashboard.contains("panels"));
  }
}

TEST_CASE("exporter sidecars: on with monitoring (enabled or embedded), off without") {
  GeneratedCredentials creds;
  creds.postgres_password = "pg-password-literal";
  creds.redis_password = "redis-password-literal";
  BuildContext ctx;
  ctx.credentials = creds;
  for (const json& monitoring :
       {json{{"enabled", true}, {"embedded", false}}, json{{"enabled", false}, {"embedded", true}}}) {
    INFO(monitoring.dump());
    auto r = make_resource({{"monitoring", monitoring}});
    auto pg = build_postgres_statefulset(r, ctx);
    test::check_restricted(pg["spec"]["template"]["spec"]);
    CHECK(pg["spec"]["template"]["spec"]["containers"][0]["name"] == "postgres");  // status reads the first image
    const json& pe = container(pg, "postgres-exporter");
    CHECK(pe["image"] == "prometheuscommunity/postgres-exporter:v0.15.0");
    CHECK(pe["ports"] == json::array({{{"name", "metrics"}, {"containerPort", 9187}, {"protocol", "TCP"}}}));
    CHECK(env(pe, "DATA_SOURCE_USER")["valueFrom"] == secret_ref("sot-postgres-credentials", "POSTGRES_USER"));
    CHECK(env(pe, "DATA_SOURCE_PASS")["valueFrom"] == secret_ref("sot-postgres-credentials", "POSTGRES_PASSWORD"));
    CHECK(env(pe, "DATA_SOURCE_URI")["value"] == "127.0.0.1:5432/stillontime?sslmode=disable");
    CHECK(pe["resources"]["limits"] == json{{"cpu", "100m"}, {"memory", "128Mi"}});
    CHECK(pe["securityContext"] == restricted_container_security_context());
    CHECK(pg.dump().find("pg-password-literal") == std::string::npos);
    CHECK(pg["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == "9187");

    auto rd = build_redis_statefulset(r, ctx);
    test::check_restricted(rd["spec"]["template"]["spec"]);
    const json& re = container(rd, "redis-exporter");
    CHECK(re["image"] == "oliver006/redis_exporter:v1.62.0");
    CHECK(re["ports"] == json::array({{{"name", "metrics"}, {"containerPort", 9121}, {"protocol", "TCP"}}}));
    CHECK(env(re, "REDIS_PASSWORD")["valueFrom"] == secret_ref("sot-redis-credentials", "REDIS_PASSWORD"));
    CHECK(env(re, "REDIS_ADDR")["value"] == "redis://127.0.0.1:6379");
    CHECK(re["securityContext"] == restricted_container_security_context());
    CHECK(rd.dump().find("redis-password-literal") == std::string::npos);

    // Scraped through the ClusterIP Services only.
    CHECK(port_named(build_postgres_service(r)["spec"]["ports"], "metrics") ==
          json{{"name", "metrics"}, {"port", 9187}, {"targetPort", "metrics"}, {"protocol", "TCP"}});
    CHECK(port_named(build_redis_service(r)["spec"]["ports"], "metrics") ==
          json{{"name", "metrics"}, {"port", 9121}, {"targetPort", "metrics"}, {"protocol", "TCP"}});
    CHECK(port_named(build_postgres_headless_service(r)["spec"]["ports"], "metrics").is_null());
    CHECK(port_named(build_redis_headless_service(r)["spec"]["ports"], "metrics").is_null());
  }

  auto off = make_resource({{"monitoring", {{"enabled", false}, {"embedded", false}}}});
  auto pg = build_postgres_statefulset(off, ctx);
  CHECK(pg["spec"]["template"]["spec"]["containers"].size() == 1);
  CHECK_FALSE(pg["spec"]["template"]["metadata"].value("annotations", json::object()).contains("prometheus.io/scrape"));
  CHECK(build_redis_statefulset(off, ctx)["spec"]["template"]["spec"]["containers"].size() == 1);
  CHECK(port_named(build_postgres_service(off)["spec"]["ports"], "metrics").is_null());
  CHECK(port_named(build_redis_service(off)["spec"]["ports"], "metrics").is_null());
  // Development defaults to monitoring off.
  auto dev = make_resource({{"environment", "development"}});
  CHECK_FALSE(has_container(build_postgres_statefulset(dev, ctx), "postgres-exporter"));
  CHECK_FALSE(has_container(build_redis_statefulset(dev, ctx), "redis-exporter"));
}

TEST_CASE("exporter ServiceMonitor for a cluster Prometheus Operator: 30 s, postgres and redis") {
  BuildContext served;
  served.api = ApiVersions::latest();
  auto sm = build_exporter_service_monitor(make_resource({{"monitoring", {{"enabled", true}}}}), served);
  REQUIRE(sm.has_value());
  CHECK((*sm)["metadata"]["name"] == "sot-exporters");
  test::check_contract_labels(*sm, "monitoring");
  CHECK((*sm)["spec"]["endpoints"] ==
        json::array({{{"port", "metrics"}, {"path", "/metrics"}, {"interval", "30s"}, {"scheme", "http"}}}));
  CHECK((*sm)["spec"]["selector"]["matchExpressions"][0]["values"] == json::array({"postgres", "redis"}));
  CHECK_FALSE(build_exporter_service_monitor(embedded(), served).has_value());  // enabled false
  BuildContext not_served;
  not_served.api = ApiVersions::k8s_1_20();
  CHECK_FALSE(
      build_exporter_service_monitor(make_resource({{"monitoring", {{"enabled", true}}}}), not_served).has_value());
}

TEST_CASE("network policies: the stack's flows, and Prometheus admitted to every metrics port") {
  auto all = build_network_policies(embedded());
  const json& prom = *policy(all, "sot-prometheus");
  test::check_contract_labels(prom, "network");
  CHECK(prom["spec"]["podSelector"]["matchLabels"][kLabelComponent] == "prometheus");
  CHECK(prom["spec"]["policyTypes"] == json::array({"Ingress", "Egress"}));
  CHECK(allows(prom, "to", "backend", 9090));
  CHECK(allows(prom, "to", "postgres", 9187));
  CHECK(allows(prom, "to", "redis", 9121));
  CHECK(allows(prom, "to", "alertmanager", 9093));
  CHECK(allows(prom, "to", "grafana", 3000));
  CHECK(allows(prom, "to", "name=stillontime-operator", 8080));
  CHECK(allows(prom, "to", "anywhere", 443));  // the API server, for discovery
  CHECK(allows(prom, "to", "anywhere", 6443));
  CHECK_FALSE(allows(prom, "to", "frontend", 8080));
  CHECK(allows(prom, "from", "grafana", 9090));
  // DNS: the instance-wide policy covers the stack's pods.
  CHECK((*policy(all, "sot-allow-dns"))["spec"]["podSelector"]["matchLabels"] == instance_selector(embedded()));

  const json& graf = *policy(all, "sot-grafana");
  CHECK(allows(graf, "from", "name=ingress-nginx", 3000));
  CHECK(allows(graf, "from", "prometheus", 3000));
  CHECK(allows(graf, "to", "prometheus", 9090));
  CHECK(allows(graf, "to", "alertmanager", 9093));

  const json& am = *policy(all, "sot-alertmanager");
  CHECK(am["spec"]["policyTypes"] == json::array({"Ingress"}));
  CHECK(allows(am, "from", "prometheus", 9093));
  CHECK(allows(am, "from", "grafana", 9093));

  CHECK(allows(*policy(all, "sot-backend"), "from", "prometheus", 9090));
  CHECK(allows(*policy(all, "sot-postgres"), "from", "prometheus", 9187));
  CHECK(allows(*policy(all, "sot-redis"), "from", "prometheus", 9121));
  CHECK_FALSE(allows(*policy(all, "sot-postgres"), "from", "prometheus", 5432));

  // Not embedded: no stack policies; our component is not admitted.
  auto plain = build_network_policies(make_resource({{"monitoring", {{"enabled", true}}}}));
  CHECK(policy(plain, "sot-prometheus") == nullptr);
  CHECK(policy(plain, "sot-grafana") == nullptr);
  CHECK_FALSE(allows(*policy(plain, "sot-backend"), "from", "prometheus", 9090));
  CHECK(allows(*policy(plain, "sot-postgres"), "from", "name=prometheus", 9187));
  // NetworkPolicies off: none at all.
  CHECK(build_network_policies(embedded({{"networkPolicy", {{"enabled", false}}}})).empty());
}

std::set<std::string> stack_objects(const std::vector<DesiredObject>& objects) {
  std::set<std::string> out;
  for (const auto& o : objects) {
    const std::string component = o.object["metadata"]["labels"].value(kLabelComponent, "");
    if (component == "prometheus" || component == "alertmanager" || component == "grafana") {
      out.insert(o.object["kind"].get<std::string>() + "/" + o.object["metadata"]["name"].get<std::string>());
    }
  }
  return out;
}

TEST_CASE("the desired set with embedded on, and without it") {
  auto on = desired_state(embedded(), BuildContext{});
  CHECK(stack_objects(on) ==
        std::set<std::string>{"ServiceAccount/sot-prometheus", "Role/sot-prometheus", "RoleBinding/sot-prometheus",
                              "Secret/sot-grafana-admin", "ConfigMap/sot-prometheus-config",
                              "ConfigMap/sot-prometheus-rules", "ConfigMap/sot-alertmanager-config",
                              "ConfigMap/sot-grafana-datasources", "ConfigMap/sot-grafana-dashboard-providers",
                              "ConfigMap/sot-grafana-dashboards", "PersistentVolumeClaim/sot-prometheus-data",
                              "PersistentVolumeClaim/sot-alertmanager-data", "PersistentVolumeClaim/sot-grafana-data",
                              "Service/sot-prometheus", "Service/sot-alertmanager", "Service/sot-grafana",
                              "Deployment/sot-prometheus", "Deployment/sot-alertmanager", "Deployment/sot-grafana"});
  int pods = 0;
  for (const auto& o : on) {
    INFO(o.object["kind"] << "/" << o.object["metadata"]["name"]);
    // Only generated Secrets are created once; the Grafana password among them.
    CHECK(o.create_only == (o.object["kind"] == "Secret"));
    if (o.object["kind"] == "Deployment" || o.object["kind"] == "StatefulSet") {
      ++pods;
      test::check_restricted(o.object["spec"]["template"]["spec"]);
      const json& template_meta = o.object["spec"]["template"]["metadata"];
      const bool checksummed =
          template_meta.contains("annotations") && template_meta["annotations"].contains(kChecksumAnnotation);
      CHECK(checksummed == (o.object["metadata"]["name"] != "sot-frontend"));
    }
  }
  CHECK(pods == 7);
  // The ServiceAccount and its Role come before the workload that uses them.
  auto index = [&](const std::string& kind, const std::string& name) {
    for (std::size_t i = 0; i < on.size(); ++i) {
      if (on[i].object["kind"] == kind && on[i].object["metadata"]["name"] == name) return i;
    }
    return on.size();
  };
  CHECK(index("RoleBinding", "sot-prometheus") < index("Deployment", "sot-prometheus"));
  CHECK(index("ConfigMap", "sot-prometheus-rules") < index("Deployment", "sot-prometheus"));
  CHECK(index("Secret", "sot-grafana-admin") < index("Deployment", "sot-grafana"));

  // Off: nothing of the stack is desired, so the reconciler prunes its
  // Deployments, Services, ConfigMaps, ServiceAccount, Role and RoleBinding.
  // Claims and Secrets are not managed kinds: they stay.
  auto off = desired_state(embedded({{"monitoring", {{"enabled", false}, {"embedded", false}}}}), BuildContext{});
  CHECK(stack_objects(off).empty());
  std::set<std::string> pruned;
  for (const auto& k : managed_kinds(ApiVersions::latest())) pruned.insert(k.kind);
  for (const char* kind :
       {"Deployment", "Service", "ConfigMap", "ServiceAccount", "Role", "RoleBinding", "NetworkPolicy"}) {
    CHECK(pruned.count(kind) == 1);
  }
  CHECK(pruned.count("PersistentVolumeClaim") == 0);
  CHECK(pruned.count("Secret") == 0);
}

TEST_CASE("checksums roll the stack's pods when what they read changes") {
  auto a = compute_checksums(embedded(), BuildContext{});
  for (const char* component : {kPrometheus, kAlertmanager, kGrafana}) CHECK_FALSE(a[component].empty());
  auto b = compute_checksums(embedded({{"targetNamespace", "other"}}), BuildContext{});  // every URL changes
  CHECK(a[kPrometheus] != b[kPrometheus]);
  CHECK(a[kGrafana] != b[kGrafana]);
  BuildContext other_password;
  other_password.credentials.grafana_admin_password = "another";
  auto c = compute_checksums(embedded(), other_password);
  CHECK(a[kGrafana] != c[kGrafana]);
  CHECK(a[kPrometheus] == c[kPrometheus]);
  CHECK(compute_checksums(make_resource(), BuildContext{}).count(kPrometheus) == 0);
  // And the desired set stamps them.
  auto objects = desired_state(embedded(), BuildContext{});
  CHECK((*find(objects, "Deployment",
               "sot-prometheus"))["spec"]["template"]["metadata"]["annotations"][kChecksumAnnotation] ==
        a[kPrometheus]);
}

TEST_CASE("the CRD's status.components knows every component a workload reports") {
  // The structural schema prunes unknown fields: a component missing there
  // would make every status write differ from what the server keeps.
  auto docs = kube::yaml_documents_to_json(test::read_file(kCrd));
  REQUIRE(docs.ok());
  const json& components = (*docs)[0]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
                                  ["properties"]["components"]["properties"];
  for (const auto& o : desired_state(embedded(), BuildContext{})) {
    if (o.object["kind"] != "Deployment" && o.object["kind"] != "StatefulSet") continue;
    const std::string component = o.object["metadata"]["labels"][kLabelComponent];
    INFO(component);
    CHECK(components.contains(component));
  }
}

TEST_CASE("spec.monitoring.images names every monitoring image; the defaults are the upstream ones") {
  BuildContext ctx;
  auto defaults = make_resource({{"monitoring", {{"embedded", true}}}});
  CHECK(container(build_prometheus_deployment(defaults, ctx), "prometheus")["image"] == "prom/prometheus:v2.53.1");
  CHECK(container(build_alertmanager_deployment(defaults, ctx), "alertmanager")["image"] ==
        "prom/alertmanager:v0.27.0");
  CHECK(container(build_grafana_deployment(defaults, ctx), "grafana")["image"] == "grafana/grafana:11.1.0");

  auto r = make_resource({{"monitoring",
                           {{"embedded", true},
                            {"images",
                             {{"prometheus", "localhost/stillontime/prometheus:2"},
                              {"alertmanager", "localhost/stillontime/alertmanager:0"},
                              {"grafana", "registry.example/grafana:11"},
                              {"postgresExporter", "localhost/stillontime/postgres-exporter:0"},
                              {"redisExporter", "localhost/stillontime/redis-exporter:1"}}}}}});
  CHECK(container(build_prometheus_deployment(r, ctx), "prometheus")["image"] == "localhost/stillontime/prometheus:2");
  CHECK(container(build_alertmanager_deployment(r, ctx), "alertmanager")["image"] ==
        "localhost/stillontime/alertmanager:0");
  CHECK(container(build_grafana_deployment(r, ctx), "grafana")["image"] == "registry.example/grafana:11");
  CHECK(container(build_postgres_statefulset(r, ctx), "postgres-exporter")["image"] ==
        "localhost/stillontime/postgres-exporter:0");
  CHECK(container(build_redis_statefulset(r, ctx), "redis-exporter")["image"] ==
        "localhost/stillontime/redis-exporter:1");

  auto bad = validate(make_resource({{"monitoring", {{"images", {{"redisExporter", "Bad Image"}}}}}}));
  REQUIRE(bad.size() == 1);
  CHECK(bad[0].field == "spec.monitoring.images.redisExporter");
}

}  // namespace
}  // namespace sot::stillontime
