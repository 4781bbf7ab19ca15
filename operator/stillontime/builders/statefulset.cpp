// Postgres and Redis StatefulSets with volumeClaimTemplates. Both run the
// official Debian-based images as their uid 999 under the restricted profile:
// the root filesystem stays read-only, with emptyDirs for the socket and temp
// directories and the data on the claim. PGDATA is a subdirectory because the
// volume's root may hold lost+found, which initdb refuses.
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

json stateful_set(const StillOnTime& r, const BuildContext& ctx, const char* component, json container, json volumes,
                  const Storage& storage) {
  json tmpl_meta = {{"labels", labels(r, component)}};
  if (auto sum = ctx.checksum(component); !sum.empty()) tmpl_meta["annotations"][kChecksumAnnotation] = sum;
  json pod_spec = {{"serviceAccountName", service_account_name(r)},
                   {"automountServiceAccountToken", false},
                   {"securityContext", restricted_pod_security_context(kDataUid)},
                   {"terminationGracePeriodSeconds", 60},
                   {"containers", json::array({std::move(container)})},
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

json empty_dir(const char* name) { return {{"name", name}, {"emptyDir", json::object()}}; }
json mount(const char* name, const char* path) { return {{"name", name}, {"mountPath", path}}; }

}  // namespace

json build_postgres_statefulset(const StillOnTime& r, const BuildContext& ctx) {
  const auto& p = r.spec.postgres;
  const std::string secret = postgres_secret_name(r);
  json is_ready = json::array({"pg_isready", "-U", kDatabaseUser, "-d", kDatabaseName, "-h", "127.0.0.1", "-p",
                               std::to_string(kPostgresPort)});
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
  return stateful_set(r, ctx, kPostgres, std::move(container), json::array({empty_dir("run"), empty_dir("tmp")}),
                      p.storage);
}

json build_redis_statefulset(const StillOnTime& r, const BuildContext& ctx) {
  const auto& s = r.spec.redis;
  // The password reaches redis-cli through REDISCLI_AUTH, never its command line.
  json ping = json::array({"sh", "-c", "REDISCLI_AUTH=\"$REDIS_PASSWORD\" redis-cli -h 127.0.0.1 ping | grep -q PONG"});
  json container = {
      {"name", kRedis},
      {"image", *s.image},
      {"imagePullPolicy", "IfNotPresent"},
      {"args", json::array({"redis-server", "--requirepass", "$(REDIS_PASSWORD)", "--appendonly", "yes", "--dir", "/data"})},
      {"ports", json::array({container_port("redis", kRedisPort)})},
      {"env", json::array({secret_env("REDIS_PASSWORD", redis_secret_name(r), "REDIS_PASSWORD")})},
      {"resources", resources_json(s.resources)},
      {"readinessProbe", exec_probe(ping, 5, 3, 5)},
      {"livenessProbe",
       {{"tcpSocket", {{"port", "redis"}}}, {"initialDelaySeconds", 15}, {"periodSeconds", 10}, {"timeoutSeconds", 5},
        {"successThreshold", 1}, {"failureThreshold", 6}}},
      {"securityContext", restricted_container_security_context()},
      {"volumeMounts", json::array({mount("data", "/data"), mount("tmp", "/tmp")})},
  };
  return stateful_set(r, ctx, kRedis, std::move(container), json::array({empty_dir("tmp")}), s.storage);
}

}  // namespace sot::stillontime
