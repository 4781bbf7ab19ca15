// Shared pieces of every child object: names, the contract labels, metadata
// with or without an ownerReference, the restricted pod security context, and
// the small encoders (base64, sha256) builders need. Pure functions.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "stillontime/context.h"
#include "stillontime/spec.h"

namespace sot::stillontime {

// Components (app.kubernetes.io/component values).
inline constexpr const char* kBackend = "backend";
inline constexpr const char* kFrontend = "frontend";
inline constexpr const char* kPostgres = "postgres";
inline constexpr const char* kRedis = "redis";
inline constexpr const char* kBackup = "backup";
inline constexpr const char* kApp = "app";          // shared ServiceAccount/RBAC
inline constexpr const char* kNetwork = "network";  // shared NetworkPolicies
inline constexpr const char* kMonitoring = "monitoring";
// The embedded monitoring stack (spec.monitoring.embedded).
inline constexpr const char* kPrometheus = "prometheus";
inline constexpr const char* kAlertmanager = "alertmanager";
inline constexpr const char* kGrafana = "grafana";

inline constexpr const char* kLabelName = "app.kubernetes.io/name";
inline constexpr const char* kLabelInstance = "app.kubernetes.io/instance";
inline constexpr const char* kLabelComponent = "app.kubernetes.io/component";
inline constexpr const char* kLabelManagedBy = "app.kubernetes.io/managed-by";
inline constexpr const char* kLabelOwner = "stillontime.app/owner";
inline constexpr const char* kAppName = "stillontime";
inline constexpr const char* kManagedBy = "stillontime-operator";

// Pod template annotation over config and secret content: a change rolls the pods.
inline constexpr const char* kChecksumAnnotation = "stillontime.app/checksum";
// On generated credential Secrets: created once, never rewritten by the operator.
inline constexpr const char* kGeneratedAnnotation = "stillontime.app/generated";
inline constexpr const char* kDeletionPolicyAnnotation = "stillontime.app/deletion-policy";

inline constexpr int kBackendPort = 3000;
inline constexpr int kMetricsPort = 9090;
inline constexpr int kFrontendPort = 8080;
inline constexpr int kPostgresPort = 5432;
inline constexpr int kRedisPort = 6379;
// The embedded monitoring stack and the exporters (spec.monitoring).
inline constexpr int kPrometheusPort = 9090;
inline constexpr int kAlertmanagerPort = 9093;
inline constexpr int kGrafanaPort = 3000;         // in the container
inline constexpr int kGrafanaServicePort = 3001;  // guide: Grafana on 3001
inline constexpr int kPostgresExporterPort = 9187;
inline constexpr int kRedisExporterPort = 9121;
// The operator's metrics Service (manifests/default/metrics_service.yaml).
inline constexpr const char* kOperatorMetricsService = "stillontime-operator-metrics";
inline constexpr const char* kOperatorNamespace = "stillontime-system";
inline constexpr int kOperatorMetricsPort = 8080;
inline constexpr const char* kDatabaseName = "stillontime";
inline constexpr const char* kDatabaseUser = "stillontime";

// "N-suffix".
std::string child_name(const StillOnTime& r, std::string_view suffix);
// Names of the generated Secrets and other shared children.
std::string postgres_secret_name(const StillOnTime& r);  // N-postgres-credentials
std::string redis_secret_name(const StillOnTime& r);     // N-redis-credentials
std::string app_secret_name(const StillOnTime& r);       // N-app-secrets
std::string service_account_name(const StillOnTime& r);  // N-app
std::string grafana_secret_name(const StillOnTime& r);   // N-grafana-admin
std::string owner_label_value(const StillOnTime& r);     // <cr-namespace>.<N>

// spec.monitoring: exporters run (and their ports are served) when either
// field is on; embedded alone decides our own Prometheus, Alertmanager, Grafana.
bool monitoring_on(const StillOnTime& r);
bool embedded_monitoring(const StillOnTime& r);

// The five contract labels.
nlohmann::json labels(const StillOnTime& r, std::string_view component);
// The immutable selector of a workload: name, instance, component.
nlohmann::json selector_labels(const StillOnTime& r, std::string_view component);
// Every pod of this instance: name and instance.
nlohmann::json instance_selector(const StillOnTime& r);

// metadata: name, namespace (the target namespace), labels, and a controller
// ownerReference when the child is in the resource's own namespace and the uid
// is known (render of a file has none).
nlohmann::json object_meta(const StillOnTime& r, const std::string& name, std::string_view component);
nlohmann::json owner_reference(const StillOnTime& r);

// Pod Security "restricted": pod and container security contexts.
nlohmann::json restricted_pod_security_context(int uid);
nlohmann::json restricted_container_security_context();

// "repo:version" unless the image already names a tag or a digest.
std::string image_reference(const std::string& image, const std::string& version);

// A container/Service port with protocol TCP (the 1.20 server's apply needs it).
nlohmann::json container_port(const char* name, int port);

}  // namespace sot::stillontime
