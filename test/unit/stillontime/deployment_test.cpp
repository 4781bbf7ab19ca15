// Backend and frontend Deployments: names, labels, probes, ports, env wiring, security, checksum.
#include <doctest/doctest.h>

#include "common/digest.h"
#include "stillontime/builders/builders.h"
#include "stillontime/builders/common.h"
#include "stillontime/desired_state.h"
#include "unit/stillontime/helpers.h"

namespace sot::stillontime {
namespace {

using test::make_resource;

const json& env_named(const json& env, const std::string& name) {
  for (const auto& e : env) {
    if (e["name"] == name) return e;
  }
  static const json kNull;
  FAIL("no env " << name);
  return kNull;
}

TEST_CASE("backend deployment") {
  auto r = make_resource({{"environment", "development"}});
  BuildContext ctx;
  ctx.checksums[kBackend] = "abc";
  auto d = build_backend_deployment(r, ctx);
  CHECK(d["apiVersion"] == "apps/v1");
  CHECK(d["kind"] == "Deployment");
  CHECK(d["metadata"]["name"] == "sot-backend");
  test::check_contract_labels(d, "backend");
  CHECK(d["spec"]["replicas"] == 1);
  CHECK(d["spec"]["selector"]["matchLabels"] == selector_labels(r, kBackend));
  // ReadWriteOnce volumes: one pod at a time, no surge pod, never all at once.
  CHECK(d["spec"]["strategy"] ==
        json{{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", 0}, {"maxUnavailable", 1}}}});
  const auto& tmpl = d["spec"]["template"];
  test::check_contract_labels(tmpl, "backend");
  CHECK(tmpl["metadata"]["annotations"]["stillontime.app/checksum"] == "abc");
  CHECK(tmpl["metadata"]["annotations"]["prometheus.io/scrape"] == "true");
  CHECK(tmpl["metadata"]["annotations"]["prometheus.io/port"] == "9090");
  CHECK(tmpl["metadata"]["annotations"]["prometheus.io/path"] == "/metrics");
  const auto& pod = tmpl["spec"];
  test::check_restricted(pod);
  CHECK(pod["serviceAccountName"] == "sot-app");
  CHECK(pod["automountServiceAccountToken"] == false);
  const auto& c = pod["containers"][0];
  CHECK(c["image"] == "ghcr.io/ruvnet/stillontime/backend:1.4.2");
  CHECK(c["ports"] == json::array({{{"name", "http"}, {"containerPort", 3000}, {"protocol", "TCP"}},
                                   {{"name", "metrics"}, {"containerPort", 9090}, {"protocol", "TCP"}}}));
  CHECK(c["livenessProbe"]["httpGet"]["path"] == "/health/live");
  CHECK(c["readinessProbe"]["httpGet"]["path"] == "/ready");
  CHECK(c["startupProbe"]["httpGet"]["path"] == "/health");
  CHECK(c["readinessProbe"]["httpGet"]["port"] == "http");
  // volumes: tmp emptyDir + the two claims
  std::vector<std::string> claims;
  for (const auto& v : pod["volumes"]) {
    if (v.contains("persistentVolumeClaim")) claims.push_back(v["persistentVolumeClaim"]["claimName"]);
  }
  CHECK(claims == std::vector<std::string>{"sot-backend-logs", "sot-backend-uploads"});
}

TEST_CASE("backend env is exactly what stillontime-server reads, secrets by secretKeyRef") {
  auto r = make_resource({{"environment", "production"}, {"backend", {{"secretRef", {{"name", "external"}}}}}});
  auto c = build_backend_deployment(r, BuildContext{})["spec"]["template"]["spec"]["containers"][0];
  const auto& env = c["env"];
  std::vector<std::string> names;
  for (const auto& e : env) names.push_back(e["name"]);
  CHECK(names == std::vector<std::string>{"APP_ENV", "PORT", "METRICS_PORT", "DATABASE_URL", "REDIS_URL",
                                          "REDIS_PASSWORD", "JWT_SECRET", "FRONTEND_URL", "SHUTDOWN_TIMEOUT_SECONDS",
                                          "SHUTDOWN_DELAY_SECONDS"});
  CHECK(env_named(env, "SHUTDOWN_TIMEOUT_SECONDS")["value"] == "25");
  CHECK(env_named(env, "SHUTDOWN_DELAY_SECONDS")["value"] == "5");
  CHECK(env_named(env, "APP_ENV")["value"] == "production");
  CHECK(env_named(env, "PORT")["value"] == "3000");
  CHECK(env_named(env, "METRICS_PORT")["value"] == "9090");
  CHECK(env_named(env, "DATABASE_URL")["valueFrom"]["secretKeyRef"] ==
        json{{"name", "sot-postgres-credentials"}, {"key", "DATABASE_URL"}});
  CHECK(env_named(env, "REDIS_URL")["valueFrom"]["secretKeyRef"] ==
        json{{"name", "sot-redis-credentials"}, {"key", "REDIS_URL"}});
  CHECK(env_named(env, "REDIS_PASSWORD")["valueFrom"]["secretKeyRef"] ==
        json{{"name", "sot-redis-credentials"}, {"key", "REDIS_PASSWORD"}});
  CHECK(env_named(env, "JWT_SECRET")["valueFrom"]["secretKeyRef"] ==
        json{{"name", "sot-app-secrets"}, {"key", "JWT_SECRET"}});
  CHECK(env_named(env, "FRONTEND_URL")["value"] == "http://sot-frontend.apps.svc:8080");
  // Every secret key the env names is one the generated Secrets carry.
  for (const auto& e : env) {
    if (!e.contains("valueFrom")) continue;
    const auto& ref = e["valueFrom"]["secretKeyRef"];
    json secret = ref["name"] == "sot-postgres-credentials" ? build_postgres_secret(r, placeholder_credentials())
                  : ref["name"] == "sot-redis-credentials"  ? build_redis_secret(r, placeholder_credentials())
                                                            : build_app_secret(r, placeholder_credentials());
    CHECK(secret["data"].contains(ref["key"].get<std::string>()));
  }
  // The user's Secret comes in whole; never envFrom for the generated ones.
  CHECK(c["envFrom"] == json::array({{{"secretRef", {{"name", "external"}}}}}));
}

TEST_CASE("user env replaces or extends; ingress host sets FRONTEND_URL; external database") {
  auto r = make_resource(
      {{"backend",
        {{"env", json::array({{{"name", "PORT"}, {"value", "3000"}}, {{"name", "LOG_LEVEL"}, {"value", "debug"}}})}}},
       {"ingress", {{"enabled", true}, {"host", "app.example.com"}}},
       {"postgres", {{"external", {{"secretRef", {{"name", "db"}, {"key", "url"}}}}}}}});
  auto env = backend_env(r);
  int ports = 0;
  for (const auto& e : env) ports += e["name"] == "PORT";
  CHECK(ports == 1);
  CHECK(env_named(env, "LOG_LEVEL")["value"] == "debug");
  CHECK(env_named(env, "FRONTEND_URL")["value"] == "https://app.example.com");
  CHECK(env_named(env, "DATABASE_URL")["valueFrom"]["secretKeyRef"] == json{{"name", "db"}, {"key", "url"}});
}

TEST_CASE("20,000 user env vars: ours replaced in place, the rest in order, in linear time") {
  json vars = json::array();
  for (int i = 0; i < 20000; ++i) vars.push_back({{"name", "VAR_" + std::to_string(i)}, {"value", "v"}});
  vars.push_back({{"name", "PORT"}, {"value", "4000"}});
  auto env = backend_env(make_resource({{"backend", {{"env", vars}}}}));
  CHECK(env[1]["name"] == "PORT");
  CHECK(env[1]["value"] == "4000");
  CHECK(env.size() == 20000 + 10);  // the operator's 10 (no ingress), PORT replaced
  CHECK(env[10]["name"] == "VAR_0");
  CHECK(env.back()["name"] == "VAR_19999");
}

TEST_CASE("the pod's grace period covers the server's shutdown timeout") {
  auto d = build_backend_deployment(make_resource({{"environment", "production"}}), BuildContext{});
  CHECK(d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 35);  // 5 s serving + 25 s drain + 5 s
  auto slow =
      make_resource({{"backend", {{"env", json::array({{{"name", "SHUTDOWN_TIMEOUT_SECONDS"}, {"value", "50"}}})}}}});
  auto d2 = build_backend_deployment(slow, BuildContext{});
  CHECK(d2["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 60);
  CHECK(env_named(d2["spec"]["template"]["spec"]["containers"][0]["env"], "SHUTDOWN_TIMEOUT_SECONDS")["value"] == "50");
}

TEST_CASE("behind the Ingress the server trusts in-cluster proxies for X-Forwarded-For") {
  auto without = backend_env(make_resource({{"environment", "production"}}));
  for (const auto& e : without) CHECK(e["name"] != "TRUSTED_PROXIES");
  auto with = backend_env(
      make_resource({{"environment", "production"}, {"ingress", {{"enabled", true}, {"host", "app.example.com"}}}}));
  CHECK(env_named(with, "TRUSTED_PROXIES")["value"] ==
        "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,fc00::/7");
  // A user who knows the controller's addresses narrows it.
  auto narrowed = backend_env(
      make_resource({{"ingress", {{"enabled", true}, {"host", "app.example.com"}}},
                     {"backend", {{"env", json::array({{{"name", "TRUSTED_PROXIES"}, {"value", "10.42.0.0/16"}}})}}}}));
  CHECK(env_named(narrowed, "TRUSTED_PROXIES")["value"] == "10.42.0.0/16");
}

TEST_CASE("autoscaled deployments leave replicas to the HPA") {
  auto r = make_resource({{"environment", "production"}});
  auto d = build_backend_deployment(r, BuildContext{});
  CHECK_FALSE(d["spec"].contains("replicas"));
  CHECK(d["spec"]["strategy"]["type"] == "RollingUpdate");
}

TEST_CASE("frontend deployment") {
  auto r = make_resource({{"environment", "staging"}, {"frontend", {{"autoscaling", {{"enabled", false}}}}}});
  auto d = build_frontend_deployment(r, BuildContext{});
  CHECK(d["metadata"]["name"] == "sot-frontend");
  test::check_contract_labels(d, "frontend");
  CHECK(d["spec"]["replicas"] == 2);
  const auto& pod = d["spec"]["template"]["spec"];
  test::check_restricted(pod);
  const auto& c = pod["containers"][0];
  CHECK(c["image"] == "ghcr.io/ruvnet/stillontime/frontend:1.4.2");
  CHECK(c["ports"] == json::array({{{"name", "http"}, {"containerPort", 8080}, {"protocol", "TCP"}}}));
  CHECK(c["resources"]["limits"]["memory"] == "64Mi");

  // The contract of the image built from app/web/Dockerfile (docs/frontend.md): nginx answers
  // /healthz itself, reaches the backend Service through BACKEND_URL, listens on 8080 as uid 101,
  // and writes only under /tmp (an emptyDir) with a read-only root filesystem.
  CHECK(c["livenessProbe"]["httpGet"]["path"] == "/healthz");
  CHECK(c["readinessProbe"]["httpGet"]["path"] == "/healthz");
  CHECK(c["livenessProbe"]["httpGet"]["port"] == "http");
  CHECK(env_named(c["env"], "BACKEND_URL")["value"] == "http://sot-backend.apps.svc:3000");
  CHECK(env_named(c["env"], "NGINX_LISTEN")["value"] == "8080");
  CHECK(env_named(c["env"], "NGINX_RUNTIME_DIR")["value"] == "/tmp/nginx");
  CHECK(c["env"].size() == 3);
  CHECK(c["securityContext"]["readOnlyRootFilesystem"] == true);
  CHECK(pod["securityContext"]["runAsUser"] == 101);
  CHECK(c["volumeMounts"] == json::array({{{"name", "tmp"}, {"mountPath", "/tmp"}}}));
  CHECK(pod["volumes"] == json::array({{{"name", "tmp"}, {"emptyDir", json::object()}}}));
  CHECK_FALSE(c.contains("envFrom"));  // no secret reaches the frontend
}

TEST_CASE("checksum on the pod template changes when a secret input changes") {
  auto r = make_resource({{"backend", {{"secretRef", {{"name", "ext"}}}}}});
  BuildContext a;
  auto sum = [&](const BuildContext& ctx, const char* component) {
    auto objects = desired_state(r, ctx);
    const json* d = test::find(
        objects,
        std::string(component) == kBackend || std::string(component) == kFrontend ? "Deployment" : "StatefulSet",
        std::string("sot-") + component);
    REQUIRE(d != nullptr);
    return (*d)["spec"]["template"]["metadata"]["annotations"].value(kChecksumAnnotation, "");
  };
  const std::string base = sum(a, kBackend);
  CHECK(base.size() == 64);
  CHECK(sum(a, kBackend) == base);  // deterministic
  BuildContext jwt = a;
  jwt.credentials.jwt_secret = "another-secret-that-is-at-least-32-bytes";
  CHECK(sum(jwt, kBackend) != base);
  CHECK(sum(jwt, kPostgres) == sum(a, kPostgres));  // postgres does not read the JWT secret
  BuildContext user = a;
  user.user_secret_fingerprint = "rv-2";
  CHECK(sum(user, kBackend) != base);
  BuildContext pg = a;
  pg.credentials.postgres_password = "other";
  CHECK(sum(pg, kBackend) != base);
  CHECK(sum(pg, kPostgres) != sum(a, kPostgres));
  BuildContext rd = a;
  rd.credentials.redis_password = "other";
  CHECK(sum(rd, kRedis) != sum(a, kRedis));
}

TEST_CASE("the backend's checksum is no oracle for the user's Secret: it cannot be recomputed from a guess alone") {
  // Someone who may read the Deployment but not the Secrets (Kubernetes'
  // built-in `view` role) sees the checksum. Guessing the user Secret's
  // contents right is not enough to reproduce it: the generated credentials,
  // random and secret, go into the same hash.
  auto r = make_resource({{"backend", {{"secretRef", {{"name", "ext"}}}}}});
  auto backend_sum = [&](const BuildContext& ctx) {
    const auto objects = desired_state(r, ctx);
    const json* d = test::find(objects, "Deployment", "sot-backend");
    REQUIRE(d != nullptr);
    return (*d)["spec"]["template"]["metadata"]["annotations"].value(kChecksumAnnotation, "");
  };
  BuildContext guess;
  guess.user_secret_fingerprint = "fingerprint-of-the-guessed-contents";
  BuildContext real = guess;
  real.credentials.postgres_password = "drawn-at-random-by-the-operator-1";
  real.credentials.redis_password = "drawn-at-random-by-the-operator-2";
  real.credentials.jwt_secret = "drawn-at-random-by-the-operator-3-at-least-32-bytes";
  CHECK(backend_sum(real) != backend_sum(guess));
  CHECK(backend_sum(real) != common::sha256_hex(guess.user_secret_fingerprint));
  CHECK(backend_sum(real) != common::sha256_hex("user:ext:" + guess.user_secret_fingerprint));
  CHECK(backend_sum(real).find(guess.user_secret_fingerprint) == std::string::npos);
}

}  // namespace
}  // namespace sot::stillontime
