// Backend and frontend Deployments. The backend gets exactly the environment
// stillontime-server reads (app/core/config.cpp), each secret value by
// secretKeyRef from the generated Secrets; the original deployment loaded
// kebab-case keys with envFrom and so never set DATABASE_URL or JWT_SECRET.
#include <algorithm>
#include <cstdlib>
#include <unordered_map>

#include "stillontime/builders/builders.h"

namespace sot::stillontime {

namespace {

constexpr int kBackendUid = 10001;
constexpr int kFrontendUid = 101;  // the frontend image's user (app/web/Dockerfile)
// The server's SHUTDOWN_TIMEOUT_SECONDS, enforced by the server; the pod's grace period is this
// plus a margin for the endpoint removal and the process exit, so Kubernetes never SIGKILLs a
// drain the server itself would have finished.
constexpr int kBackendShutdownSeconds = 25;
// SHUTDOWN_DELAY_SECONDS: the server keeps serving this long after SIGTERM, while
// kube-proxy removes the pod from the Service (without it a rollout refuses a few
// connections; seen on the real node).
constexpr int kBackendShutdownDelaySeconds = 5;
constexpr int kShutdownMarginSeconds = 5;
constexpr const char* kClusterPrivateRanges = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,fc00::/7";

// The seconds a shutdown setting will really have: a literal value in the user's env wins.
int env_seconds(const StillOnTime& r, const char* name, int fallback, long max) {
  for (const auto& var : r.spec.backend.env) {
    if (var.name != name || !var.value) continue;
    char* end = nullptr;
    const long seconds = std::strtol(var.value->c_str(), &end, 10);
    if (!var.value->empty() && *end == '\0' && seconds >= 0 && seconds <= max) return static_cast<int>(seconds);
  }
  return fallback;
}

// The time the pod needs after SIGTERM: the serving delay, the drain limit, a margin.
int backend_shutdown_seconds(const StillOnTime& r) {
  return env_seconds(r, "SHUTDOWN_DELAY_SECONDS", kBackendShutdownDelaySeconds, 60) +
         env_seconds(r, "SHUTDOWN_TIMEOUT_SECONDS", kBackendShutdownSeconds, 300);
}

json secret_env(const char* name, const std::string& secret, const std::string& key) {
  return {{"name", name}, {"valueFrom", {{"secretKeyRef", {{"name", secret}, {"key", key}}}}}};
}

json resources_json(const Resources& r) {
  json out = json::object();
  auto list = [](const ResourceList& l) {
    json o = json::object();
    if (l.cpu) o["cpu"] = *l.cpu;
    if (l.memory) o["memory"] = *l.memory;
    return o;
  };
  if (auto req = list(r.requests); !req.empty()) out["requests"] = req;
  if (auto lim = list(r.limits); !lim.empty()) out["limits"] = lim;
  return out;
}

json http_probe(const char* path, int period, int failure_threshold, int initial_delay) {
  return {{"httpGet", {{"path", path}, {"port", "http"}, {"scheme", "HTTP"}}},
          {"initialDelaySeconds", initial_delay},
          {"periodSeconds", period},
          {"timeoutSeconds", 3},
          {"successThreshold", 1},
          {"failureThreshold", failure_threshold}};
}

json empty_dir(const char* name) {
  return {{"name", name}, {"emptyDir", json::object()}};
}
json mount(const char* name, const char* path) {
  return {{"name", name}, {"mountPath", path}};
}

std::string frontend_url(const StillOnTime& r) {
  const auto& i = r.spec.ingress;
  if (i.enabled.value_or(false) && i.host) return std::string(i.tls ? "https://" : "http://") + *i.host;
  return "http://" + child_name(r, "frontend") + "." + r.target_namespace() + ".svc:" + std::to_string(kFrontendPort);
}

json pod_template_metadata(const StillOnTime& r, const BuildContext& ctx, const char* component, json annotations) {
  json meta = {{"labels", labels(r, component)}};
  if (auto sum = ctx.checksum(component); !sum.empty()) annotations[kChecksumAnnotation] = sum;
  if (!annotations.empty()) meta["annotations"] = annotations;
  return meta;
}

json deployment(const StillOnTime& r, const WorkloadSpec& w, const char* component, json strategy, json pod_template) {
  json spec = {{"revisionHistoryLimit", 5},
               {"selector", {{"matchLabels", selector_labels(r, component)}}},
               {"strategy", std::move(strategy)},
               {"template", std::move(pod_template)}};
  // With an HPA the replica count is the HPA's; applying ours would fight it.
  if (!w.autoscaling.enabled.value_or(false)) spec["replicas"] = w.replicas.value_or(1);
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", object_meta(r, child_name(r, component), component)},
          {"spec", std::move(spec)}};
}

}  // namespace

json backend_env(const StillOnTime& r) {
  const auto& spec = r.spec;
  json env = json::array();
  env.push_back({{"name", "APP_ENV"}, {"value", environment_name(spec.environment)}});
  env.push_back({{"name", "PORT"}, {"value", std::to_string(kBackendPort)}});
  env.push_back({{"name", "METRICS_PORT"}, {"value", std::to_string(kMetricsPort)}});
  if (spec.postgres.external) {
    env.push_back(secret_env("DATABASE_URL", spec.postgres.external->name, spec.postgres.external->key));
  } else {
    env.push_back(secret_env("DATABASE_URL", postgres_secret_name(r), "DATABASE_URL"));
  }
  env.push_back(secret_env("REDIS_URL", redis_secret_name(r), "REDIS_URL"));
  env.push_back(secret_env("REDIS_PASSWORD", redis_secret_name(r), "REDIS_PASSWORD"));
  env.push_back(secret_env("JWT_SECRET", app_secret_name(r), "JWT_SECRET"));
  env.push_back({{"name", "FRONTEND_URL"}, {"value", frontend_url(r)}});
  env.push_back({{"name", "SHUTDOWN_TIMEOUT_SECONDS"}, {"value", std::to_string(kBackendShutdownSeconds)}});
  env.push_back({{"name", "SHUTDOWN_DELAY_SECONDS"}, {"value", std::to_string(kBackendShutdownDelaySeconds)}});
  if (spec.ingress.enabled.value_or(false)) {
    // Behind the Ingress every connection comes from the controller's pod (or the frontend's
    // nginx), so the server must read the client from X-Forwarded-For, and only from in-cluster
    // peers: pod addresses are private, a client's own header is not believed.
    env.push_back({{"name", "TRUSTED_PROXIES"}, {"value", kClusterPrivateRanges}});
  }
  // Position by name, so that a user's entry replaces ours in place: one pass,
  // not a search per entry (20,000 entries took 11 s of CPU that way).
  std::unordered_map<std::string, std::size_t> position;
  for (std::size_t i = 0; i < env.size(); ++i) position.emplace(env[i]["name"].get<std::string>(), i);
  for (const auto& var : spec.backend.env) {
    json item = {{"name", var.name}};
    if (var.value) item["value"] = *var.value;
    if (var.value_from) item["valueFrom"] = *var.value_from;
    if (auto same = position.find(var.name); same != position.end()) {
      env[same->second] = std::move(item);
    } else {
      position.emplace(var.name, env.size());
      env.push_back(std::move(item));
    }
  }
  return env;
}

json build_backend_deployment(const StillOnTime& r, const BuildContext& ctx) {
  const auto& b = r.spec.backend;
  json container = {
      {"name", kBackend},
      {"image", image_reference(*b.image, r.spec.version)},
      {"imagePullPolicy", "IfNotPresent"},
      {"ports", json::array({container_port("http", kBackendPort), container_port("metrics", kMetricsPort)})},
      {"env", backend_env(r)},
      {"resources", resources_json(b.resources)},
      {"startupProbe", http_probe("/health", 5, 30, 0)},
      {"livenessProbe", http_probe("/health/live", 10, 3, 0)},
      {"readinessProbe", http_probe("/ready", 5, 3, 0)},
      {"securityContext", restricted_container_security_context()},
      {"volumeMounts", json::array({mount("tmp", "/tmp"), mount("logs", "/var/log/stillontime"),
                                    mount("uploads", "/var/lib/stillontime/uploads")})},
  };
  // The user's Secret (GOOGLE_CLIENT_ID, OPENWEATHER_API_KEY, SMTP_*, ...):
  // its keys must be environment variable names; explicit env above wins.
  if (b.secret_ref) container["envFrom"] = json::array({json{{"secretRef", json{{"name", b.secret_ref->name}}}}});

  json annotations = {{"prometheus.io/scrape", "true"},
                      {"prometheus.io/port", std::to_string(kMetricsPort)},
                      {"prometheus.io/path", "/metrics"}};
  json pod_spec = {
      {"serviceAccountName", service_account_name(r)},
      {"automountServiceAccountToken", false},
      {"securityContext", restricted_pod_security_context(kBackendUid)},
      {"terminationGracePeriodSeconds", backend_shutdown_seconds(r) + kShutdownMarginSeconds},
      {"containers", json::array({container})},
      {"volumes",
       json::array(
           {empty_dir("tmp"),
            {{"name", "logs"}, {"persistentVolumeClaim", {{"claimName", child_name(r, "backend-logs")}}}},
            {{"name", "uploads"}, {"persistentVolumeClaim", {{"claimName", child_name(r, "backend-uploads")}}}}})},
  };
  // A ReadWriteOnce volume cannot follow a surge pod to another node, so with
  // such volumes pods are replaced one at a time without an extra one: each new
  // pod takes an old one's place while the other replicas keep serving (with
  // one replica this is Recreate). Recreate for every replica at once made
  // each version change an outage.
  json strategy =
      *b.storage.access_mode == "ReadWriteOnce"
          ? json{{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", 0}, {"maxUnavailable", 1}}}}
          : json{{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", "25%"}, {"maxUnavailable", 0}}}};
  json tmpl = {{"metadata", pod_template_metadata(r, ctx, kBackend, annotations)}, {"spec", pod_spec}};
  json out = deployment(r, b, kBackend, strategy, tmpl);
  // A restore or bootstrap in progress (the plan): no backend pod may touch
  // the database, and no HPA is built to scale it back up.
  if (ctx.plan.hold_backend) out["spec"]["replicas"] = 0;
  return out;
}

// The frontend image is app/web/Dockerfile (docs/frontend.md, "nginx contract"): nginx on 8080
// as uid 101, GET /healthz answered by nginx itself, /api/ and /auth/ proxied to BACKEND_URL.
// Its entrypoint renders the nginx config into /tmp/nginx and keeps pid, temp files and logs
// off the read-only root filesystem, so /tmp is the only volume it needs.
json build_frontend_deployment(const StillOnTime& r, const BuildContext& ctx) {
  const auto& f = r.spec.frontend;
  const std::string backend_url =
      "http://" + child_name(r, "backend") + "." + r.target_namespace() + ".svc:" + std::to_string(kBackendPort);
  json container = {
      {"name", kFrontend},
      {"image", image_reference(*f.image, r.spec.version)},
      {"imagePullPolicy", "IfNotPresent"},
      {"ports", json::array({container_port("http", kFrontendPort)})},
      {"env", json::array({{{"name", "BACKEND_URL"}, {"value", backend_url}},
                           {{"name", "NGINX_LISTEN"}, {"value", std::to_string(kFrontendPort)}},
                           {{"name", "NGINX_RUNTIME_DIR"}, {"value", "/tmp/nginx"}}})},
      {"resources", resources_json(f.resources)},
      {"livenessProbe", http_probe("/healthz", 10, 3, 5)},
      {"readinessProbe", http_probe("/healthz", 5, 3, 2)},
      {"securityContext", restricted_container_security_context()},
      {"volumeMounts", json::array({mount("tmp", "/tmp")})},
  };
  json pod_spec = {
      {"serviceAccountName", service_account_name(r)},
      {"automountServiceAccountToken", false},
      {"securityContext", restricted_pod_security_context(kFrontendUid)},
      {"containers", json::array({container})},
      {"volumes", json::array({empty_dir("tmp")})},
  };
  json strategy = {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", "25%"}, {"maxUnavailable", 0}}}};
  json tmpl = {{"metadata", pod_template_metadata(r, ctx, kFrontend, json::object())}, {"spec", pod_spec}};
  return deployment(r, f, kFrontend, strategy, tmpl);
}

}  // namespace sot::stillontime
