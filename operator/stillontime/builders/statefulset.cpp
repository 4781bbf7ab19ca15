// Postgres and Redis StatefulSets with volumeClaimTemplates. Both run the
// official Debian-based images as their uid 999 under the restricted profile:
// the root filesystem stays read-only, with emptyDirs for the socket and temp
// directories and the data on the claim. PGDATA is a subdirectory because the
// volume's root may hold lost+found, which initdb refuses.
// When monitoring is on (spec.monitoring.enabled or .embedded) each pod also
// runs its Prometheus exporter as a sidecar on a port named `metrics`; the
// exporter reads the same generated Secret by secretKeyRef and talks to the
// database over loopback.
#include "stillontime/builders/builders.h"

namespace sot::stillontime {

namespace {

constexpr int kDataUid = 999;

json resources_json(const Resources& r) {
  json out = json::object();
  if (r.requests.cpu) out["requests"]["cpu"] = *r.requests.cpu;
  if (r.requests.memory) out["requests"]["memory"] = *r.requests.memory;
  if (r.limits.cpu) out["limits"]["cpu"] = *r.limits.cpu;
  if (r.limits.memory) out["limits"]["memory"] = *r.limits.memory;
  return out;
}

json secret_env(const char* name, const std::string& secret, const char* key) {
  return {{"name", name}, {"valueFrom", {{"secretKeyRef", {{"name", secret}, {"key", key}}}}}};
}

json claim_template(const StillOnTime& r, const char* component, const Storage& storage) {
  json spec = {{"accessModes", json::array({"ReadWriteOnce"})},
               {"volumeMode", "Filesystem"},
               {"resources", {{"requests", {{"storage", *storage.size}}}}}};
  if (storage.storage_class_name) spec["storageClassName"] = *storage.storage_class_name;
  // StatefulSets do not delete these claims; deletionPolicy decides (the
  // reconciler removes them behind its finalizer when it is Delete).
  return {{"apiVersion", "v1"},
          {"kind", "PersistentVolumeClaim"},
          {"metadata",
           {{"name", "data"},
            {"labels", labels(r, component)},
            {"annotations", {{kDeletionPolicyAnnotation, deletion_policy_name(*r.spec.deletion_policy)}}}}},
          {"spec", std::move(spec)}};
}

json stateful_set(const StillOnTime& r, const BuildContext& ctx, const char* component, json containers, json volumes,
                  const Storage& storage, int metrics_port) {
  json tmpl_meta = {{"labels", labels(r, component)}};
  if (auto sum = ctx.checksum(component); !sum.empty()) tmpl_meta["annotations"][kChecksumAnnotation] = sum;
  if (monitoring_on(r)) {
    // For an annotation-based Prometheus, as on the backend's pods.
    tmpl_meta["annotations"]["prometheus.io/scrape"] = "true";
    tmpl_meta["annotations"]["prometheus.io/port"] = std::to_string(metrics_port);
    tmpl_meta["annotations"]["prometheus.io/path"] = "/metrics";
  }
  json pod_spec = {{"serviceAccountName", service_account_name(r)},
                   {"automountServiceAccountToken", false},
                   {"securityContext", restricted_pod_security_context(kDataUid)},
                   {"terminationGracePeriodSeconds", 60},
                   {"containers", std::move(containers)},
                   {"volumes", std::move(volumes)}};
  return {{"apiVersion", "apps/v1"},
          {"kind", "StatefulSet"},
          {"metadata", object_meta(r, child_name(r, component), component)},
          {"spec",
           {{"serviceName", child_name(r, std::string(component) + "-headless")},
            {"replicas", 1},
            {"podManagementPolicy", "OrderedReady"},
            {"updateStrategy", {{"type", "RollingUpdate"}}},
            {"revisionHistoryLimit", 5},
            {"selector", {{"matchLabels", selector_labels(r, component)}}},
            {"template", {{"metadata", std::move(tmpl_meta)}, {"spec", std::move(pod_spec)}}},
            {"volumeClaimTemplates", json::array({claim_template(r, component, storage)})}}}};
}

json exec_probe(json command, int period, int failure_threshold, int initial_delay) {
  return {{"exec", {{"command", std::move(command)}}},
          {"initialDelaySeconds", initial_delay},
          {"periodSeconds", period},
          {"timeoutSeconds", 5},
          {"successThreshold", 1},
          {"failureThreshold", failure_threshold}};
}

json empty_dir(const char* name) {
  return {{"name", name}, {"emptyDir", json::object()}};
}
json mount(const char* name, const char* path) {
  return {{"name", name}, {"mountPath", path}};
}

// An exporter sidecar: small, restricted, no writes (so no volumes).
json exporter(const char* name, const std::string& image, int port, json env) {
  return {{"name", name},
          {"image", image},
          {"imagePullPolicy", "IfNotPresent"},
          {"ports", json::array({container_port("metrics", port)})},
          {"env", std::move(env)},
          {"resources",
           {{"requests", {{"cpu", "10m"}, {"memory", "32Mi"}}}, {"limits", {{"cpu", "100m"}, {"memory", "128Mi"}}}}},
          {"securityContext", restricted_container_security_context()}};
}

}  // namespace

json build_postgres_statefulset(const StillOnTime& r, const BuildContext& ctx) {
  const auto& p = r.spec.postgres;
  const std::string secret = postgres_secret_name(r);
  json is_ready = json::array(
      {"pg_isready", "-U", kDatabaseUser, "-d", kDatabaseName, "-h", "127.0.0.1", "-p", std::to_string(kPostgresPort)});
  json container = {
      {"name", kPostgres},
      {"image", *p.image},
      {"imagePullPolicy", "IfNotPresent"},
      {"ports", json::array({container_port("postgres", kPostgresPort)})},
      {"env", json::array({secret_env("POSTGRES_USER", secret, "POSTGRES_USER"),
                           secret_env("POSTGRES_PASSWORD", secret, "POSTGRES_PASSWORD"),
                           secret_env("POSTGRES_DB", secret, "POSTGRES_DB"),
                           {{"name", "PGDATA"}, {"value", "/var/lib/postgresql/data/pgdata"}}})},
      {"resources", resources_json(p.resources)},
      {"readinessProbe", exec_probe(is_ready, 5, 3, 5)},
      {"livenessProbe", exec_probe(is_ready, 10, 6, 30)},
      {"securityContext", restricted_container_security_context()},
      {"volumeMounts", json::array({mount("data", "/var/lib/postgresql/data"), mount("run", "/var/run/postgresql"),
                                    mount("tmp", "/tmp")})},
  };
  json containers = json::array({std::move(container)});
  if (monitoring_on(r)) {
    const std::string uri = "127.0.0.1:" + std::to_string(kPostgresPort) + "/" + kDatabaseName + "?sslmode=disable";
    containers.push_back(exporter("postgres-exporter", *r.spec.monitoring.images.postgres_exporter,
                                  kPostgresExporterPort,
                                  json::array({{{"name", "DATA_SOURCE_URI"}, {"value", uri}},
                                               secret_env("DATA_SOURCE_USER", secret, "POSTGRES_USER"),
                                               secret_env("DATA_SOURCE_PASS", secret, "POSTGRES_PASSWORD")})));
  }
  return stateful_set(r, ctx, kPostgres, std::move(containers), json::array({empty_dir("run"), empty_dir("tmp")}),
                      p.storage, kPostgresExporterPort);
}

json build_redis_statefulset(const StillOnTime& r, const BuildContext& ctx) {
  const auto& s = r.spec.redis;
  // The password reaches redis-cli through REDISCLI_AUTH, never its command line.
  json ping = json::array({"sh", "-c", "REDISCLI_AUTH=\"$REDIS_PASSWORD\" redis-cli -h 127.0.0.1 ping | grep -q PONG"});
  json container = {
      {"name", kRedis},
      {"image", *s.image},
      {"imagePullPolicy", "IfNotPresent"},
      {"args",
       json::array({"redis-server", "--requirepass", "$(REDIS_PASSWORD)", "--appendonly", "yes", "--dir", "/data"})},
      {"ports", json::array({container_port("redis", kRedisPort)})},
      {"env", json::array({secret_env("REDIS_PASSWORD", redis_secret_name(r), "REDIS_PASSWORD")})},
      {"resources", resources_json(s.resources)},
      {"readinessProbe", exec_probe(ping, 5, 3, 5)},
      {"livenessProbe",
       {{"tcpSocket", {{"port", "redis"}}},
        {"initialDelaySeconds", 15},
        {"periodSeconds", 10},
        {"timeoutSeconds", 5},
        {"successThreshold", 1},
        {"failureThreshold", 6}}},
      {"securityContext", restricted_container_security_context()},
      {"volumeMounts", json::array({mount("data", "/data"), mount("tmp", "/tmp")})},
  };
  json containers = json::array({std::move(container)});
  if (monitoring_on(r)) {
    containers.push_back(
        exporter("redis-exporter", *r.spec.monitoring.images.redis_exporter, kRedisExporterPort,
                 json::array({{{"name", "REDIS_ADDR"}, {"value", "redis://127.0.0.1:" + std::to_string(kRedisPort)}},
                              secret_env("REDIS_PASSWORD", redis_secret_name(r), "REDIS_PASSWORD")})));
  }
  return stateful_set(r, ctx, kRedis, std::move(containers), json::array({empty_dir("tmp")}), s.storage,
                      kRedisExporterPort);
}

}  // namespace sot::stillontime
