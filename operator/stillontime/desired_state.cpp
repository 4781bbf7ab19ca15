// Assembles the builders' output into the desired set (see desired_state.h).
#include "stillontime/desired_state.h"

#include <optional>

#include "common/digest.h"
#include "stillontime/builders/builders.h"

namespace sot::stillontime {

kube::ObjectKey DesiredObject::key() const {
  const auto& meta = object.at("metadata");
  return {meta.value("namespace", ""), meta.value("name", "")};
}

namespace {

// The Secrets and ConfigMaps that pods read, built once per desired set: they
// go into the set as they are, and the pod templates' checksums hash exactly
// these objects (never a second build of them).
struct Configuration {
  std::optional<json> postgres_secret;  // absent with an external database
  json redis_secret;
  json app_secret;
  std::optional<json> grafana_secret;  // the embedded monitoring stack only
  std::vector<json> prometheus;        // its config and rules ConfigMaps
  std::optional<json> alertmanager;
  std::vector<json> grafana;  // datasources, dashboard providers, dashboards
};

Configuration build_configuration(const StillOnTime& r, const BuildContext& ctx) {
  Configuration c;
  if (!r.spec.postgres.external) c.postgres_secret = build_postgres_secret(r, ctx.credentials);
  c.redis_secret = build_redis_secret(r, ctx.credentials);
  c.app_secret = build_app_secret(r, ctx.credentials);
  if (embedded_monitoring(r)) {
    c.grafana_secret = build_grafana_secret(r, ctx.credentials);
    c.prometheus = {build_prometheus_config_map(r), build_prometheus_rules_config_map(r)};
    c.alertmanager = build_alertmanager_config_map(r);
    c.grafana = {build_grafana_datasources_config_map(r), build_grafana_dashboard_providers_config_map(r),
                 build_grafana_dashboards_config_map(r)};
  }
  return c;
}

// What a pod sees of a Secret or ConfigMap: its name and its data.
std::string content_of(const json& object) {
  return object.at("metadata").at("name").get<std::string>() + "\n" + object.at("data").dump();
}

std::string contents_of(const std::vector<json>& objects) {
  std::string out;
  for (const auto& o : objects) out += (out.empty() ? "" : "\n") + content_of(o);
  return out;
}

std::map<std::string, std::string> checksums_of(const StillOnTime& r, const BuildContext& ctx, const Configuration& c) {
  std::map<std::string, std::string> out;
  const std::string redis = content_of(c.redis_secret);
  const std::string postgres = c.postgres_secret
                                   ? content_of(*c.postgres_secret)
                                   : "external:" + r.spec.postgres.external->name + "/" + r.spec.postgres.external->key;
  const std::string app = content_of(c.app_secret);
  std::string user;
  if (r.spec.backend.secret_ref) user = "user:" + r.spec.backend.secret_ref->name + ":" + ctx.user_secret_fingerprint;
  out[kBackend] = common::sha256_hex(postgres + "\n" + redis + "\n" + app + "\n" + user);
  if (c.postgres_secret) out[kPostgres] = common::sha256_hex(postgres);
  out[kRedis] = common::sha256_hex(redis);
  if (c.grafana_secret && c.alertmanager) {
    // Prometheus and Alertmanager read their files only at start (no reloader
    // runs beside them): a change rolls the pod.
    out[kPrometheus] = common::sha256_hex(contents_of(c.prometheus));
    out[kAlertmanager] = common::sha256_hex(content_of(*c.alertmanager));
    out[kGrafana] = common::sha256_hex(content_of(*c.grafana_secret) + "\n" + contents_of(c.grafana));
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> compute_checksums(const StillOnTime& r, const BuildContext& ctx) {
  return checksums_of(r, ctx, build_configuration(r, ctx));
}

std::vector<DesiredObject> desired_state(const StillOnTime& r, const BuildContext& in) {
  BuildContext ctx = in;
  Configuration config = build_configuration(r, ctx);
  if (ctx.checksums.empty()) ctx.checksums = checksums_of(r, ctx, config);

  std::vector<DesiredObject> out;
  auto add = [&](json object, bool create_only = false) {
    auto ref = resource_ref(object.at("apiVersion").get<std::string>(), object.at("kind").get<std::string>());
    out.push_back({std::move(ref), std::move(object), create_only});
  };
  auto add_optional = [&](std::optional<json> object) {
    if (object) add(std::move(*object));
  };
  const bool own_postgres = !r.spec.postgres.external;
  // spec.monitoring.embedded: our own Prometheus, Alertmanager and Grafana
  // (builders/embedded_monitoring.cpp), each piece in its place in the order.
  const bool embedded = embedded_monitoring(r);

  add(build_service_account(r));
  add(build_role(r));
  add(build_role_binding(r));
  if (embedded) {
    add(build_prometheus_service_account(r));
    add(build_prometheus_role(r));
    add(build_prometheus_role_binding(r));
  }

  if (config.postgres_secret) add(std::move(*config.postgres_secret), true);
  add(std::move(config.redis_secret), true);
  add(std::move(config.app_secret), true);
  if (config.grafana_secret) add(std::move(*config.grafana_secret), true);

  for (auto& config_map : config.prometheus) add(std::move(config_map));
  if (config.alertmanager) add(std::move(*config.alertmanager));
  for (auto& config_map : config.grafana) add(std::move(config_map));

  add(build_logs_pvc(r));
  add(build_uploads_pvc(r));
  if (embedded) {
    add(build_prometheus_pvc(r));
    add(build_alertmanager_pvc(r));
    add(build_grafana_pvc(r));
  }

  if (own_postgres) {
    add(build_postgres_headless_service(r));
    add(build_postgres_service(r));
  }
  add(build_redis_headless_service(r));
  add(build_redis_service(r));
  add(build_backend_service(r));
  add(build_frontend_service(r));
  if (embedded) {
    add(build_prometheus_service(r));
    add(build_alertmanager_service(r));
    add(build_grafana_service(r));
  }

  if (own_postgres) add(build_postgres_statefulset(r, ctx));
  add(build_redis_statefulset(r, ctx));
  add(build_backend_deployment(r, ctx));
  add(build_frontend_deployment(r, ctx));
  if (embedded) {
    add(build_prometheus_deployment(r, ctx));
    add(build_alertmanager_deployment(r, ctx));
    add(build_grafana_deployment(r, ctx));
  }

  add_optional(build_hpa(r, ctx, kBackend));
  add_optional(build_hpa(r, ctx, kFrontend));
  add_optional(build_pdb(r, ctx, kBackend));
  add_optional(build_pdb(r, ctx, kFrontend));

  for (auto& policy : build_network_policies(r)) add(std::move(policy));
  add_optional(build_ingress(r));

  add_optional(build_service_monitor(r, ctx));
  add_optional(build_exporter_service_monitor(r, ctx));
  add_optional(build_prometheus_rule(r, ctx));

  for (auto& object : build_backup_objects(r, ctx)) add(std::move(object));
  // The plan's one-off Jobs, last: they need the backup volume and scripts.
  for (const auto& job : ctx.plan.jobs) add(job, /*create_only=*/true);
  return out;
}

std::vector<kube::ResourceRef> managed_kinds(const ApiVersions& api) {
  std::vector<kube::ResourceRef> out = {
      resource_ref("v1", "ServiceAccount"),
      resource_ref("rbac.authorization.k8s.io/v1", "Role"),
      resource_ref("rbac.authorization.k8s.io/v1", "RoleBinding"),
      // Not here on purpose: Secret and PersistentVolumeClaim. Generated
      // credentials and data claims (including the StatefulSets' claims, which
      // carry our labels, and the embedded monitoring stack's claims and
      // Grafana admin Secret) are never pruned; they go with the resource
      // according to deletionPolicy (ownerReference or the finalizer). Turning
      // spec.monitoring.embedded off again therefore keeps the metrics history,
      // the Grafana database and its password for the next time it is on.
      resource_ref("v1", "ConfigMap"),
      resource_ref("v1", "Service"),
      resource_ref("apps/v1", "StatefulSet"),
      resource_ref("apps/v1", "Deployment"),
      resource_ref(api.hpa, "HorizontalPodAutoscaler"),
      resource_ref(api.pdb, "PodDisruptionBudget"),
      resource_ref("networking.k8s.io/v1", "NetworkPolicy"),
      resource_ref("networking.k8s.io/v1", "Ingress"),
      resource_ref(api.cronjob, "CronJob"),
      resource_ref("batch/v1", "Job"),
  };
  if (api.monitoring) {
    out.push_back(resource_ref("monitoring.coreos.com/v1", "ServiceMonitor"));
    out.push_back(resource_ref("monitoring.coreos.com/v1", "PrometheusRule"));
  }
  return out;
}

}  // namespace sot::stillontime
