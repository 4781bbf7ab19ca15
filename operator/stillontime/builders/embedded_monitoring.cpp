// spec.monitoring.embedded: the instance's own Prometheus, Alertmanager and
// Grafana, for clusters without a Prometheus Operator. One of each, as
// Deployments with the Recreate strategy (each has one ReadWriteOnce claim)
// and PVCs of the guide's sizes (Prometheus 50Gi, Grafana 10Gi; Alertmanager's
// silences 2Gi). The claims follow deletionPolicy like the backend's, and like
// every claim and Secret they are never pruned when embedded goes false.
//
// Prometheus discovers its targets through the Kubernetes API in the target
// namespace only (a namespaced Role: get, list, watch of endpoints, pods,
// services) and scrapes, on the guide's intervals:
//   15 s (application)     the backend's metrics port;
//   30 s (infrastructure)  the Postgres and Redis exporters, and the operator
//                          through its metrics Service in stillontime-system;
//   60 s                   the stack itself (Prometheus, Alertmanager, Grafana).
// The frontend (nginx serving files) exports no metrics, so it has no job: a
// scrape of it could only ever fail. Each target carries the labels the
// ServiceMonitor path gives (namespace, service, pod, container, endpoint;
// job = the Service's name), so one set of rules and dashboards serves both.
//
// The alert rules are prometheus_rule_groups(), the groups of the per-instance
// PrometheusRule, not a second copy. The operator's alerts
// (manifests/monitoring/prometheus_rule_operator.yaml) are not evaluated here:
// the static target reaches one operator replica per scrape through the
// Service, so with the default two replicas leader_election_master_status and
// the reconcile counters alternate between processes and those alerts would
// fire on noise. They stay with the cluster-wide install, whose ServiceMonitor
// scrapes every replica. The operator job is kept for the operator dashboard,
// which is approximate with more than one replica.
//
// Grafana gets a generated admin password (Secret N-grafana-admin, created
// once, never rewritten), the Prometheus and Alertmanager data sources, and the
// dashboards of manifests/monitoring/dashboards, embedded at build time.
// Alertmanager's only receiver sends nothing: alerts show in its UI and API and
// in Grafana; the configuration holds no secret.
#include <string>

#include "common/base64.h"
#include "kube/yaml.h"
#include "stillontime/builders/builders.h"
#include "stillontime/monitoring_dashboards.h"

namespace sot::stillontime {

namespace {

constexpr int kNobodyUid = 65534;  // the prom/* images' user
constexpr int kGrafanaUid = 472;   // the grafana image's user
constexpr const char* kPrometheusConfigDir = "/etc/prometheus/config";
constexpr const char* kRulesKey = "stillontime.rules.yml";
constexpr const char* kAdminUser = "admin";

std::string service_host(const StillOnTime& r, const char* component, int port) {
  return child_name(r, component) + "." + r.target_namespace() + ".svc:" + std::to_string(port);
}

json config_map(const StillOnTime& r, const std::string& name, const char* component, json data) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", object_meta(r, name, component)},
          {"data", std::move(data)}};
}

json pvc(const StillOnTime& r, const char* component, const char* size) {
  json meta = object_meta(r, child_name(r, std::string(component) + "-data"), component);
  // Retain: the data outlives the resource (no ownerReference; the finalizer skips claims).
  if (*r.spec.deletion_policy == DeletionPolicy::kRetain) meta.erase("ownerReferences");
  meta["annotations"][kDeletionPolicyAnnotation] = deletion_policy_name(*r.spec.deletion_policy);
  json spec = {{"accessModes", json::array({"ReadWriteOnce"})},
               {"volumeMode", "Filesystem"},
               {"resources", {{"requests", {{"storage", size}}}}}};
  if (r.spec.storage_class_name) spec["storageClassName"] = *r.spec.storage_class_name;
  return {{"apiVersion", "v1"},
          {"kind", "PersistentVolumeClaim"},
          {"metadata", std::move(meta)},
          {"spec", std::move(spec)}};
}

json service(const StillOnTime& r, const char* component, int port) {
  json ports = json::array({{{"name", "http"}, {"port", port}, {"targetPort", "http"}, {"protocol", "TCP"}}});
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", object_meta(r, child_name(r, component), component)},
          {"spec", {{"type", "ClusterIP"}, {"selector", selector_labels(r, component)}, {"ports", std::move(ports)}}}};
}

json resources(const char* req_cpu, const char* req_mem, const char* lim_cpu, const char* lim_mem) {
  return {{"requests", {{"cpu", req_cpu}, {"memory", req_mem}}}, {"limits", {{"cpu", lim_cpu}, {"memory", lim_mem}}}};
}

json http_probe(const char* path, int period, int failure_threshold, int initial_delay) {
  return {{"httpGet", {{"path", path}, {"port", "http"}, {"scheme", "HTTP"}}},
          {"initialDelaySeconds", initial_delay},
          {"periodSeconds", period},
          {"timeoutSeconds", 5},
          {"successThreshold", 1},
          {"failureThreshold", failure_threshold}};
}

json mount(const char* name, const char* path, bool read_only = false) {
  json m = {{"name", name}, {"mountPath", path}};
  if (read_only) m["readOnly"] = true;
  return m;
}

json empty_dir(const char* name) {
  return {{"name", name}, {"emptyDir", json::object()}};
}
json claim_volume(const StillOnTime& r, const char* component) {
  return {{"name", "data"},
          {"persistentVolumeClaim", {{"claimName", child_name(r, std::string(component) + "-data")}}}};
}
json config_map_volume(const char* name, const std::string& config_map) {
  return {{"name", name}, {"configMap", {{"name", config_map}}}};
}

// One replica, Recreate (a ReadWriteOnce claim cannot follow a surge pod to
// another node), restricted, a checksum of the pod's configuration on the template.
json deployment(const StillOnTime& r, const BuildContext& ctx, const char* component, int uid, json container,
                json volumes, const std::string& service_account, bool mount_token) {
  json tmpl_meta = {{"labels", labels(r, component)}};
  if (auto sum = ctx.checksum(component); !sum.empty()) tmpl_meta["annotations"][kChecksumAnnotation] = sum;
  json pod_spec = {{"serviceAccountName", service_account},
                   {"automountServiceAccountToken", mount_token},
                   {"securityContext", restricted_pod_security_context(uid)},
                   {"containers", json::array({std::move(container)})},
                   {"volumes", std::move(volumes)}};
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", object_meta(r, child_name(r, component), component)},
          {"spec",
           {{"replicas", 1},
            {"revisionHistoryLimit", 5},
            {"selector", {{"matchLabels", selector_labels(r, component)}}},
            {"strategy", {{"type", "Recreate"}}},
            {"template", {{"metadata", std::move(tmpl_meta)}, {"spec", std::move(pod_spec)}}}}}};
}

// A job over the endpoints of one of this instance's Services, keeping the
// port named `port_name`, labelled as a ServiceMonitor's targets are.
json service_job(const StillOnTime& r, const std::string& service, const char* port_name, const char* interval) {
  const std::string ns = r.target_namespace();
  auto copy = [](const char* from, const char* to) {
    return json{{"source_labels", json::array({from})}, {"target_label", to}};
  };
  return {
      {"job_name", service},
      {"scrape_interval", interval},
      {"metrics_path", "/metrics"},
      {"scheme", "http"},
      {"kubernetes_sd_configs", json::array({{{"role", "endpoints"}, {"namespaces", {{"names", json::array({ns})}}}}})},
      {"relabel_configs",
       json::array(
           {{{"source_labels", json::array({"__meta_kubernetes_service_name", "__meta_kubernetes_endpoint_port_name"})},
             {"regex", service + ";" + port_name},
             {"action", "keep"}},
            copy("__meta_kubernetes_namespace", "namespace"),
            copy("__meta_kubernetes_service_name", "service"),
            copy("__meta_kubernetes_pod_name", "pod"),
            copy("__meta_kubernetes_pod_container_name", "container"),
            copy("__meta_kubernetes_endpoint_port_name", "endpoint")})}};
}

std::string yaml_text(const json& value) {
  return kube::json_to_yaml(value) + "\n";
}

std::string prometheus_config_map_name(const StillOnTime& r) {
  return child_name(r, "prometheus-config");
}
std::string prometheus_rules_config_map_name(const StillOnTime& r) {
  return child_name(r, "prometheus-rules");
}
std::string alertmanager_config_map_name(const StillOnTime& r) {
  return child_name(r, "alertmanager-config");
}
std::string grafana_datasources_config_map_name(const StillOnTime& r) {
  return child_name(r, "grafana-datasources");
}
std::string grafana_dashboard_providers_config_map_name(const StillOnTime& r) {
  return child_name(r, "grafana-dashboard-providers");
}
std::string grafana_dashboards_config_map_name(const StillOnTime& r) {
  return child_name(r, "grafana-dashboards");
}

}  // namespace

// ---- Prometheus

json build_prometheus_service_account(const StillOnTime& r) {
  // Its token is mounted: service discovery reads the API.
  return {{"apiVersion", "v1"},
          {"kind", "ServiceAccount"},
          {"metadata", object_meta(r, child_name(r, kPrometheus), kPrometheus)},
          {"automountServiceAccountToken", true}};
}

json build_prometheus_role(const StillOnTime& r) {
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "Role"},
          {"metadata", object_meta(r, child_name(r, kPrometheus), kPrometheus)},
          {"rules", json::array({{{"apiGroups", json::array({""})},
                                  {"resources", json::array({"endpoints", "pods", "services"})},
                                  {"verbs", json::array({"get", "list", "watch"})}}})}};
}

json build_prometheus_role_binding(const StillOnTime& r) {
  const std::string name = child_name(r, kPrometheus);
  return {
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "RoleBinding"},
      {"metadata", object_meta(r, name, kPrometheus)},
      {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", name}}},
      {"subjects", json::array({{{"kind", "ServiceAccount"}, {"name", name}, {"namespace", r.target_namespace()}}})}};
}

json prometheus_config(const StillOnTime& r) {
  json jobs = json::array();
  jobs.push_back(service_job(r, child_name(r, kBackend), "metrics", "15s"));
  if (!r.spec.postgres.external) jobs.push_back(service_job(r, child_name(r, kPostgres), "metrics", "30s"));
  jobs.push_back(service_job(r, child_name(r, kRedis), "metrics", "30s"));
  // honor_labels: the operator's backup series carry each StillOnTime's own
  // namespace and name (as the cluster-wide ServiceMonitor's honorLabels).
  jobs.push_back(
      {{"job_name", kOperatorMetricsService},
       {"scrape_interval", "30s"},
       {"honor_labels", true},
       {"static_configs",
        json::array({{{"targets", json::array({std::string(kOperatorMetricsService) + "." + kOperatorNamespace +
                                               ".svc:" + std::to_string(kOperatorMetricsPort)})},
                      {"labels", {{"namespace", kOperatorNamespace}, {"service", kOperatorMetricsService}}}}})}});
  jobs.push_back(
      {{"job_name", child_name(r, kPrometheus)},
       {"scrape_interval", "60s"},
       {"static_configs",
        json::array({{{"targets", json::array({"localhost:" + std::to_string(kPrometheusPort)})},
                      {"labels", {{"namespace", r.target_namespace()}, {"service", child_name(r, kPrometheus)}}}}})}});
  jobs.push_back(service_job(r, child_name(r, kAlertmanager), "http", "60s"));
  jobs.push_back(service_job(r, child_name(r, kGrafana), "http", "60s"));
  return {
      {"global", {{"scrape_interval", "15s"}, {"evaluation_interval", "15s"}, {"scrape_timeout", "10s"}}},
      {"alerting",
       {{"alertmanagers",
         json::array(
             {{{"static_configs",
                json::array({{{"targets", json::array({service_host(r, kAlertmanager, kAlertmanagerPort)})}}})}}})}}},
      // Relative to the configuration file: the rules sit beside it (see
      // the projected volume below), so `promtool check config` on a copy
      // of the two ConfigMaps checks exactly what the pod loads.
      {"rule_files", json::array({"rules/*.yml"})},
      {"scrape_configs", std::move(jobs)}};
}

json build_prometheus_config_map(const StillOnTime& r) {
  return config_map(r, prometheus_config_map_name(r), kPrometheus,
                    {{"prometheus.yml", yaml_text(prometheus_config(r))}});
}

json build_prometheus_rules_config_map(const StillOnTime& r) {
  return config_map(r, prometheus_rules_config_map_name(r), kPrometheus,
                    {{kRulesKey, yaml_text(json{{"groups", prometheus_rule_groups(r)}})}});
}

json build_prometheus_pvc(const StillOnTime& r) {
  return pvc(r, kPrometheus, "50Gi");
}  // guide: prometheus-data

json build_prometheus_service(const StillOnTime& r) {
  return service(r, kPrometheus, kPrometheusPort);
}

json build_prometheus_deployment(const StillOnTime& r, const BuildContext& ctx) {
  json container = {
      {"name", kPrometheus},
      {"image", *r.spec.monitoring.images.prometheus},
      {"imagePullPolicy", "IfNotPresent"},
      {"args", json::array({std::string("--config.file=") + kPrometheusConfigDir + "/prometheus.yml",
                            "--storage.tsdb.path=/prometheus",
                            // 15 days, and below the 50Gi claim so the disk never fills.
                            "--storage.tsdb.retention.time=15d", "--storage.tsdb.retention.size=45GB",
                            "--web.listen-address=:" + std::to_string(kPrometheusPort)})},
      {"ports", json::array({container_port("http", kPrometheusPort)})},
      {"resources", resources("250m", "512Mi", "1", "2Gi")},
      {"readinessProbe", http_probe("/-/ready", 10, 3, 5)},
      {"livenessProbe", http_probe("/-/healthy", 15, 4, 30)},
      {"securityContext", restricted_container_security_context()},
      {"volumeMounts",
       json::array({mount("config", kPrometheusConfigDir, true), mount("data", "/prometheus"), mount("tmp", "/tmp")})},
  };
  // prometheus.yml and rules/<key> in one directory.
  json config = {
      {"name", "config"},
      {"projected",
       {{"sources",
         json::array(
             {{{"configMap", {{"name", prometheus_config_map_name(r)}}}},
              {{"configMap",
                {{"name", prometheus_rules_config_map_name(r)},
                 {"items", json::array({{{"key", kRulesKey}, {"path", std::string("rules/") + kRulesKey}}})}}}}})}}}};
  return deployment(r, ctx, kPrometheus, kNobodyUid, std::move(container),
                    json::array({std::move(config), claim_volume(r, kPrometheus), empty_dir("tmp")}),
                    child_name(r, kPrometheus), true);
}

// ---- Alertmanager

json alertmanager_config() {
  return {{"route",
           {{"receiver", "default"},
            {"group_by", json::array({"alertname", "namespace"})},
            {"group_wait", "30s"},
            {"group_interval", "5m"},
            {"repeat_interval", "4h"}}},
          // No notifier: see the file comment.
          {"receivers", json::array({{{"name", "default"}}})}};
}

json build_alertmanager_config_map(const StillOnTime& r) {
  return config_map(r, alertmanager_config_map_name(r), kAlertmanager,
                    {{"alertmanager.yml", yaml_text(alertmanager_config())}});
}

json build_alertmanager_pvc(const StillOnTime& r) {
  return pvc(r, kAlertmanager, "2Gi");
}

json build_alertmanager_service(const StillOnTime& r) {
  return service(r, kAlertmanager, kAlertmanagerPort);
}

json build_alertmanager_deployment(const StillOnTime& r, const BuildContext& ctx) {
  json container = {
      {"name", kAlertmanager},
      {"image", *r.spec.monitoring.images.alertmanager},
      {"imagePullPolicy", "IfNotPresent"},
      {"args",
       json::array({"--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager",
                    // One replica: no gossip port (9094) to open.
                    "--cluster.listen-address=", "--web.listen-address=:" + std::to_string(kAlertmanagerPort)})},
      {"ports", json::array({container_port("http", kAlertmanagerPort)})},
      {"resources", resources("10m", "32Mi", "100m", "128Mi")},
      {"readinessProbe", http_probe("/-/ready", 10, 3, 5)},
      {"livenessProbe", http_probe("/-/healthy", 15, 4, 15)},
      {"securityContext", restricted_container_security_context()},
      {"volumeMounts",
       json::array({mount("config", "/etc/alertmanager", true), mount("data", "/alertmanager"), mount("tmp", "/tmp")})},
  };
  return deployment(r, ctx, kAlertmanager, kNobodyUid, std::move(container),
                    json::array({config_map_volume("config", alertmanager_config_map_name(r)),
                                 claim_volume(r, kAlertmanager), empty_dir("tmp")}),
                    service_account_name(r), false);
}

// ---- Grafana

json build_grafana_secret(const StillOnTime& r, const GeneratedCredentials& creds) {
  json meta = object_meta(r, grafana_secret_name(r), kGrafana);
  meta["annotations"][kGeneratedAnnotation] = "true";
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", std::move(meta)},
          {"type", "Opaque"},
          {"data",
           {{"admin-user", common::base64_encode(kAdminUser)},
            {"admin-password", common::base64_encode(creds.grafana_admin_password)}}}};
}

json build_grafana_datasources_config_map(const StillOnTime& r) {
  json datasources = {
      {"apiVersion", 1},
      {"datasources",
       json::array({{{"name", "Prometheus"},
                     {"type", "prometheus"},
                     {"uid", "prometheus"},
                     {"access", "proxy"},
                     {"url", "http://" + service_host(r, kPrometheus, kPrometheusPort)},
                     {"isDefault", true},
                     {"editable", false},
                     {"jsonData", {{"timeInterval", "15s"}}}},
                    {{"name", "Alertmanager"},
                     {"type", "alertmanager"},
                     {"uid", "alertmanager"},
                     {"access", "proxy"},
                     {"url", "http://" + service_host(r, kAlertmanager, kAlertmanagerPort)},
                     {"editable", false},
                     {"jsonData", {{"implementation", "prometheus"}, {"handleGrafanaManagedAlerts", false}}}}})}};
  return config_map(r, grafana_datasources_config_map_name(r), kGrafana,
                    {{"datasources.yaml", yaml_text(datasources)}});
}

json build_grafana_dashboard_providers_config_map(const StillOnTime& r) {
  json providers = {{"apiVersion", 1},
                    {"providers", json::array({{{"name", "stillontime"},
                                                {"folder", "StillOnTime"},
                                                {"type", "file"},
                                                {"disableDeletion", true},
                                                {"allowUiUpdates", false},
                                                {"updateIntervalSeconds", 60},
                                                {"options", {{"path", "/etc/grafana/dashboards"}}}}})}};
  return config_map(r, grafana_dashboard_providers_config_map_name(r), kGrafana,
                    {{"dashboards.yaml", yaml_text(providers)}});
}

json build_grafana_dashboards_config_map(const StillOnTime& r) {
  json data = json::object();
  for (const auto& d : kDashboards) data[std::string(d.file)] = std::string(d.json);
  return config_map(r, grafana_dashboards_config_map_name(r), kGrafana, std::move(data));
}

json build_grafana_pvc(const StillOnTime& r) {
  return pvc(r, kGrafana, "10Gi");
}  // guide: grafana-data

json build_grafana_service(const StillOnTime& r) {
  return service(r, kGrafana, kGrafanaServicePort);
}

json build_grafana_deployment(const StillOnTime& r, const BuildContext& ctx) {
  auto plain = [](const char* name, const std::string& value) { return json{{"name", name}, {"value", value}}; };
  json env = json::array({
      {{"name", "GF_SECURITY_ADMIN_USER"},
       {"valueFrom", {{"secretKeyRef", {{"name", grafana_secret_name(r)}, {"key", "admin-user"}}}}}},
      {{"name", "GF_SECURITY_ADMIN_PASSWORD"},
       {"valueFrom", {{"secretKeyRef", {{"name", grafana_secret_name(r)}, {"key", "admin-password"}}}}}},
      plain("GF_SERVER_HTTP_PORT", std::to_string(kGrafanaPort)),
      plain("GF_PATHS_DATA", "/var/lib/grafana"),
      plain("GF_PATHS_PLUGINS", "/var/lib/grafana/plugins"),
      plain("GF_PATHS_PROVISIONING", "/etc/grafana/provisioning"),
      plain("GF_LOG_MODE", "console"),  // no log file on the read-only root
      plain("GF_USERS_ALLOW_SIGN_UP", "false"),
      plain("GF_AUTH_ANONYMOUS_ENABLED", "false"),
      // Its NetworkPolicy allows no internet egress; do not try.
      plain("GF_ANALYTICS_REPORTING_ENABLED", "false"),
      plain("GF_ANALYTICS_CHECK_FOR_UPDATES", "false"),
      plain("GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES", "false"),
  });
  json container = {
      {"name", kGrafana},
      {"image", *r.spec.monitoring.images.grafana},
      {"imagePullPolicy", "IfNotPresent"},
      {"ports", json::array({container_port("http", kGrafanaPort)})},
      {"env", std::move(env)},
      {"resources", resources("50m", "128Mi", "500m", "512Mi")},
      {"readinessProbe", http_probe("/api/health", 10, 3, 5)},
      {"livenessProbe", http_probe("/api/health", 15, 4, 60)},
      {"securityContext", restricted_container_security_context()},
      // The image's other provisioning directories (plugins, alerting) stay as shipped.
      {"volumeMounts", json::array({mount("data", "/var/lib/grafana"), mount("tmp", "/tmp"),
                                    mount("datasources", "/etc/grafana/provisioning/datasources", true),
                                    mount("dashboard-providers", "/etc/grafana/provisioning/dashboards", true),
                                    mount("dashboards", "/etc/grafana/dashboards", true)})},
  };
  return deployment(
      r, ctx, kGrafana, kGrafanaUid, std::move(container),
      json::array({claim_volume(r, kGrafana), empty_dir("tmp"),
                   config_map_volume("datasources", grafana_datasources_config_map_name(r)),
                   config_map_volume("dashboard-providers", grafana_dashboard_providers_config_map_name(r)),
                   config_map_volume("dashboards", grafana_dashboards_config_map_name(r))}),
      service_account_name(r), false);
}

}  // namespace sot::stillontime
