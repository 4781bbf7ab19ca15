// One pure builder per child kind. Each takes the defaulted resource (after
// apply_defaults(); validate() passed) and the BuildContext, and returns the
// object the reconciler applies. Builders of optional children return
// std::nullopt (or an empty list) when the child is not wanted, so the
// reconciler deletes what is no longer desired.
#pragma once

#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "stillontime/builders/common.h"
#include "stillontime/context.h"
#include "stillontime/spec.h"

namespace sot::stillontime {

using nlohmann::json;

// deployment.cpp
json build_backend_deployment(const StillOnTime& r, const BuildContext& ctx);
json build_frontend_deployment(const StillOnTime& r, const BuildContext& ctx);
// The backend container's env: exactly what stillontime-server reads, wired
// from the generated Secrets by secretKeyRef, then the user's env (a user
// entry with the same name replaces ours).
json backend_env(const StillOnTime& r);

// service.cpp
json build_backend_service(const StillOnTime& r);
json build_frontend_service(const StillOnTime& r);
json build_postgres_service(const StillOnTime& r);           // N-postgres, ClusterIP (what clients use)
json build_postgres_headless_service(const StillOnTime& r);  // N-postgres-headless (the StatefulSet's serviceName)
json build_redis_service(const StillOnTime& r);
json build_redis_headless_service(const StillOnTime& r);

// statefulset.cpp (Postgres only when spec.postgres.external is not set)
json build_postgres_statefulset(const StillOnTime& r, const BuildContext& ctx);
json build_redis_statefulset(const StillOnTime& r, const BuildContext& ctx);

// secret.cpp: generated credentials; `data` (base64), never stringData (the
// 1.20 server rewrites managedFields on every stringData apply).
json build_postgres_secret(const StillOnTime& r, const GeneratedCredentials& creds);  // N-postgres-credentials
json build_redis_secret(const StillOnTime& r, const GeneratedCredentials& creds);     // N-redis-credentials
json build_app_secret(const StillOnTime& r, const GeneratedCredentials& creds);       // N-app-secrets
// The in-cluster connection strings the Secrets carry.
std::string database_url(const StillOnTime& r, const std::string& password);
std::string redis_url(const StillOnTime& r);

// pvc.cpp
json build_logs_pvc(const StillOnTime& r);     // N-backend-logs
json build_uploads_pvc(const StillOnTime& r);  // N-backend-uploads

// network_policy.cpp: empty when spec.networkPolicy.enabled is false; with
// spec.monitoring.embedded also N-prometheus, N-alertmanager and N-grafana.
std::vector<json> build_network_policies(const StillOnTime& r);

// hpa.cpp: component is kBackend or kFrontend; nullopt when autoscaling is off.
std::optional<json> build_hpa(const StillOnTime& r, const BuildContext& ctx, const char* component);

// pdb.cpp: nullopt unless the workload can run more than one replica.
std::optional<json> build_pdb(const StillOnTime& r, const BuildContext& ctx, const char* component);

// ingress.cpp: nullopt unless spec.ingress.enabled.
std::optional<json> build_ingress(const StillOnTime& r);

// rbac.cpp: one ServiceAccount for the instance's pods, with a Role granting
// nothing (the server never calls the Kubernetes API) and its RoleBinding.
json build_service_account(const StillOnTime& r);
json build_role(const StillOnTime& r);
json build_role_binding(const StillOnTime& r);

// service_monitor.cpp / prometheus_rule.cpp: nullopt unless monitoring is
// enabled and monitoring.coreos.com is served (ctx.api.monitoring).
std::optional<json> build_service_monitor(const StillOnTime& r, const BuildContext& ctx);           // N-backend, 15 s
std::optional<json> build_exporter_service_monitor(const StillOnTime& r, const BuildContext& ctx);  // N-exporters, 30 s
std::optional<json> build_prometheus_rule(const StillOnTime& r, const BuildContext& ctx);
// The per-instance alert rule groups (a Prometheus rule file's `groups`): the
// PrometheusRule's spec.groups and the embedded Prometheus's rule file.
json prometheus_rule_groups(const StillOnTime& r);

// embedded_monitoring.cpp: spec.monitoring.embedded (desired_state() adds
// these only then). Prometheus: ServiceAccount, Role and RoleBinding N-prometheus
// (service discovery in the target namespace), ConfigMaps N-prometheus-config
// (prometheus.yml) and N-prometheus-rules, PVC N-prometheus-data (50Gi),
// Service and Deployment N-prometheus (9090).
json build_prometheus_service_account(const StillOnTime& r);
json build_prometheus_role(const StillOnTime& r);
json build_prometheus_role_binding(const StillOnTime& r);
json build_prometheus_config_map(const StillOnTime& r);
json build_prometheus_rules_config_map(const StillOnTime& r);
json build_prometheus_pvc(const StillOnTime& r);
json build_prometheus_service(const StillOnTime& r);
json build_prometheus_deployment(const StillOnTime& r, const BuildContext& ctx);
// Alertmanager: ConfigMap N-alertmanager-config, PVC N-alertmanager-data (2Gi),
// Service and Deployment N-alertmanager (9093).
json build_alertmanager_config_map(const StillOnTime& r);
json build_alertmanager_pvc(const StillOnTime& r);
json build_alertmanager_service(const StillOnTime& r);
json build_alertmanager_deployment(const StillOnTime& r, const BuildContext& ctx);
// Grafana: Secret N-grafana-admin (generated, create once), ConfigMaps
// N-grafana-datasources, N-grafana-dashboard-providers and N-grafana-dashboards,
// PVC N-grafana-data (10Gi), Service N-grafana (3001 -> 3000) and Deployment.
json build_grafana_secret(const StillOnTime& r, const GeneratedCredentials& creds);
json build_grafana_datasources_config_map(const StillOnTime& r);
json build_grafana_dashboard_providers_config_map(const StillOnTime& r);
json build_grafana_dashboards_config_map(const StillOnTime& r);
json build_grafana_pvc(const StillOnTime& r);
json build_grafana_service(const StillOnTime& r);
json build_grafana_deployment(const StillOnTime& r, const BuildContext& ctx);

// backup.cpp: the ConfigMap N-backup-scripts and the PVC N-backups (when
// backups, a restore or a bootstrap are wanted) and the CronJob N-backup (when
// spec.backup.enabled), in apply order. The Jobs for on-demand backups,
// restores and bootstrap depend on status: the controller's plan stage
// (operator/controller/stages/plan.cpp) decides them and desired_state() adds
// them from BuildContext::plan; their builders are in builders/backup.h.
std::vector<json> build_backup_objects(const StillOnTime& r, const BuildContext& ctx);

}  // namespace sot::stillontime
