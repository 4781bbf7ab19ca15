// Assembles the builders' output into the desired set (see desired_state.h).
#include "stillontime/desired_state.h"

#include "common/digest.h"
#include "stillontime/builders/builders.h"

namespace sot::stillontime {

kube::ObjectKey DesiredObject::key() const {
  const auto& meta = object.at("metadata");
  return {meta.value("namespace", ""), meta.value("name", "")};
}

namespace {

std::string secret_content(const json& secret) { return secret.at("metadata").at("name").get<std::string>() + "\n" + secret.at("data").dump(); }

}  // namespace

std::map<std::string, std::string> compute_checksums(const StillOnTime& r, const BuildContext& ctx) {
  std::map<std::string, std::string> out;
  const std::string redis = secret_content(build_redis_secret(r, ctx.credentials));
  std::string postgres;
  if (r.spec.postgres.external) {
    postgres = "external:" + r.spec.postgres.external->name + "/" + r.spec.postgres.external->key;
  } else {
    postgres = secret_content(build_postgres_secret(r, ctx.credentials));
  }
  const std::string app = secret_content(build_app_secret(r, ctx.credentials));
  std::string user;
  if (r.spec.backend.secret_ref) user = "user:" + r.spec.backend.secret_ref->name + ":" + ctx.user_secret_fingerprint;
  out[kBackend] = common::sha256_hex(postgres + "\n" + redis + "\n" + app + "\n" + user);
  if (!r.spec.postgres.external) out[kPostgres] = common::sha256_hex(postgres);
  out[kRedis] = common::sha256_hex(redis);
  if (embedded_monitoring(r)) {
    // Prometheus and Alertmanager read their files only at start (no reloader
    // runs beside them): a change rolls the pod.
    auto data = [](const json& config_map) {
      return config_map.at("metadata").at("name").get<std::string>() + "\n" + config_map.at("data").dump();
    };
    out[kPrometheus] =
        common::sha256_hex(data(build_prometheus_config_map(r)) + "\n" + data(build_prometheus_rules_config_map(r)));
    out[kAlertmanager] = common::sha256_hex(data(build_alertmanager_config_map(r)));
    out[kGrafana] = common::sha256_hex(secret_content(build_grafana_secret(r, ctx.credentials)) + "\n" +
                               data(build_grafana_datasources_config_map(r)) + "\n" +
                               data(build_grafana_dashboard_providers_config_map(r)) + "\n" +
                               data(build_grafana_dashboards_config_map(r)));
  }
  return out;
}

std::vector<DesiredObject> desired_state(const StillOnTime& r, const BuildContext& in) {
  BuildContext ctx = in;
  if (ctx.checksums.empty()) ctx.checksums = compute_checksums(r, ctx);

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

  if (own_postgres) add(build_postgres_secret(r, ctx.credentials), true);
  add(build_redis_secret(r, ctx.credentials), true);
  add(build_app_secret(r, ctx.credentials), true);
  if (embedded) add(build_grafana_secret(r, ctx.credentials), true);

  if (embedded) {
    add(build_prometheus_config_map(r));
    add(build_prometheus_rules_config_map(r));
    add(build_alertmanager_config_map(r));
    add(build_grafana_datasources_config_map(r));
    add(build_grafana_dashboard_providers_config_map(r));
    add(build_grafana_dashboards_config_map(r));
  }

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
