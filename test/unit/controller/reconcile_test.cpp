// One reconcile pass, stage by stage, against the in-memory API server: what a
// fresh resource creates, that an unchanged pass writes nothing, that a
// drifted child is repaired, and the passes that must not touch children
// (paused, an invalid spec, a missing user Secret).
#include <algorithm>

#include <doctest/doctest.h>

#include "stillontime/builders/common.h"
#include "stillontime/desired_state.h"
#include "stillontime/kinds.h"
#include "unit/controller/harness.h"

using namespace sot::stillontime;
using sot::stillontime::test::Cluster;
using Json = nlohmann::json;

namespace {

// Retain: no finalizer is needed in the resource's own namespace, so the first
// pass goes straight to the children (development's default, Delete, adds the
// finalizer first; claims_finalize_test.cpp covers that).
const Json kDevelopment = {{"environment", "development"}, {"version", "1.0.0"}, {"deletionPolicy", "Retain"}};

Json with(Json spec, const Json& patch) {
  spec.merge_patch(patch);
  return spec;
}

sot::kube::ResourceRef deployments() {
  return resource_ref("apps/v1", "Deployment");
}

}  // namespace

TEST_CASE("a fresh resource: every desired child is created, then status says it waits for the components") {
  Cluster c;
  c.put_resource("apps", "sot", kDevelopment);
  auto result = c.reconcile("apps", "sot");
  CHECK_FALSE(result.error);
  CHECK(result.requeue_after > sot::runtime::Duration::zero());  // a look again after writes

  // Generated Secrets are created (never applied over); the rest is applied.
  CHECK(c.calls("create", "secrets") == 3);
  CHECK(c.calls("create") == 3);
  CHECK(c.calls("apply") > 20);
  for (const auto& name : {"sot-backend", "sot-frontend"}) CHECK(c.get(deployments(), {"apps", name}).has_value());
  for (const auto& name : {"sot-postgres", "sot-redis"}) {
    CHECK(c.get("apps/v1", "StatefulSet", {"apps", name}).has_value());
  }
  const auto secret = c.get("v1", "Secret", {"apps", "sot-postgres-credentials"});
  REQUIRE(secret.has_value());
  CHECK((*secret)["metadata"]["labels"][kLabelOwner] == "apps.sot");
  // The backend's pod template carries the checksum of what its pods read.
  const auto backend = c.get(deployments(), {"apps", "sot-backend"});
  CHECK((*backend)["spec"]["template"]["metadata"]["annotations"].contains(kChecksumAnnotation));
  // Development: one replica, no HPA.
  CHECK((*backend)["spec"]["replicas"] == 1);
  CHECK(c.names(resource_ref("autoscaling/v2beta2", "HorizontalPodAutoscaler"), "apps").empty());

  const Json cr = c.resource("apps", "sot");
  CHECK(cr["status"]["phase"] == "Progressing");
  CHECK(cr["status"]["observedGeneration"] == 1);
  CHECK(c.condition("apps", "sot", "Reconciling")["reason"] == "WaitingForComponents");
  CHECK(c.condition("apps", "sot", "Stalled")["status"] == "False");
  CHECK(c.condition("apps", "sot", "Ready")["status"] == "False");
}

TEST_CASE("an unchanged pass writes nothing: no apply, no create, no status") {
  Cluster c;
  c.put_resource("apps", "sot", kDevelopment);
  (void)c.reconcile("apps", "sot");
  const int first = c.writes();
  CHECK(first > 20);
  auto result = c.reconcile("apps", "sot");
  CHECK_FALSE(result.error);
  CHECK(c.writes() == 0);
  CHECK(result.requeue_after == sot::runtime::Duration::zero());
}

TEST_CASE("a drifted child is repaired; a deleted one is made again; the rest is left alone") {
  Cluster c;
  c.put_resource("apps", "sot", kDevelopment);
  (void)c.reconcile("apps", "sot");
  (void)c.reconcile("apps", "sot");
  REQUIRE(c.writes() == 0);

  c.edit(deployments(), {"apps", "sot-backend"}, [](Json& d) {
    d["spec"]["replicas"] = 7;
    d["spec"]["template"]["spec"]["containers"][0]["image"] = "evil:latest";
  });
  c.api().erase(resource_ref("v1", "Service"), {"apps", "sot-frontend"});
  // Within the echo window of our own apply, the Service's absence may still be
  // our create on its way through the watch: the pass looks again shortly.
  auto soon = c.reconcile("apps", "sot");
  CHECK(c.calls("apply") == 1);
  CHECK(soon.requeue_after > sot::runtime::Duration::zero());
  CHECK_FALSE(c.get("v1", "Service", {"apps", "sot-frontend"}).has_value());
  c.advance(std::chrono::seconds(6));
  (void)c.reconcile("apps", "sot");
  CHECK(c.calls("apply") == 1);
  CHECK(c.child_writes() == 1);
  const auto backend = c.get(deployments(), {"apps", "sot-backend"});
  CHECK((*backend)["spec"]["replicas"] == 1);
  CHECK((*backend)["spec"]["template"]["spec"]["containers"][0]["image"] != "evil:latest");
  CHECK(c.get("v1", "Service", {"apps", "sot-frontend"}).has_value());
}

TEST_CASE("generated credentials are read back, never drawn again, and a changed Secret is not overwritten") {
  Cluster c;
  c.put_resource("apps", "sot", kDevelopment);
  (void)c.reconcile("apps", "sot");
  const auto before = c.get(deployments(), {"apps", "sot-backend"});
  // Someone rotates the Redis password in the Secret itself.
  c.edit(resource_ref("v1", "Secret"), {"apps", "sot-redis-credentials"}, [](Json& s) {
    s["data"]["REDIS_PASSWORD"] = "cm90YXRlZA=="; /* "rotated" */
  });
  (void)c.reconcile("apps", "sot");
  CHECK(c.calls("create", "secrets") == 0);
  CHECK(c.calls("apply", "secrets") == 0);
  CHECK((*c.get("v1", "Secret", {"apps", "sot-redis-credentials"}))["data"]["REDIS_PASSWORD"] == "cm90YXRlZA==");
  // The backend's checksum follows the Secret's new content: its pods roll.
  const auto after = c.get(deployments(), {"apps", "sot-backend"});
  CHECK((*after)["spec"]["template"]["metadata"]["annotations"][kChecksumAnnotation] !=
        (*before)["spec"]["template"]["metadata"]["annotations"][kChecksumAnnotation]);
}

TEST_CASE("a spec that changes drops children no longer desired (prune)") {
  Cluster c;
  c.put_resource("apps", "sot", with(kDevelopment, {{"ingress", {{"enabled", true}, {"host", "app.example.com"}}}}));
  (void)c.reconcile("apps", "sot");
  REQUIRE(c.get("networking.k8s.io/v1", "Ingress", {"apps", "sot"}).has_value());
  c.put_resource("apps", "sot", with(kDevelopment, {{"ingress", {{"enabled", false}}}}));
  (void)c.reconcile("apps", "sot");
  CHECK(c.calls("delete", "ingresses") == 1);
  CHECK_FALSE(c.get("networking.k8s.io/v1", "Ingress", {"apps", "sot"}).has_value());
  // Data and credentials are never pruned.
  CHECK(c.calls("delete", "secrets") == 0);
  CHECK(c.calls("delete", "persistentvolumeclaims") == 0);
}

TEST_CASE("paused: nothing is created or repaired, status says Paused") {
  Cluster c;
  c.put_resource("apps", "sot", with(kDevelopment, {{"paused", true}}));
  auto result = c.reconcile("apps", "sot");
  CHECK_FALSE(result.error);
  CHECK(c.child_writes() == 0);
  CHECK(c.names(deployments(), "apps").empty());
  const Json cr = c.resource("apps", "sot");
  CHECK(cr["status"]["phase"] == "Paused");
  CHECK(c.condition("apps", "sot", "Reconciling")["reason"] == "Paused");

  // Unpaused, the children come; paused again, a drift stays as it is.
  c.put_resource("apps", "sot", kDevelopment);
  (void)c.reconcile("apps", "sot");
  REQUIRE(c.get(deployments(), {"apps", "sot-backend"}).has_value());
  c.put_resource("apps", "sot", with(kDevelopment, {{"paused", true}}));
  c.edit(deployments(), {"apps", "sot-backend"}, [](Json& d) { d["spec"]["replicas"] = 4; });
  (void)c.reconcile("apps", "sot");
  CHECK(c.child_writes() == 0);
  CHECK((*c.get(deployments(), {"apps", "sot-backend"}))["spec"]["replicas"] == 4);
}

TEST_CASE("an invalid spec stalls, naming the field, and touches no child") {
  Cluster c;
  c.put_resource("apps", "sot", {{"environment", "qa"}, {"version", "1.0.0"}, {"backend", {{"replicas", -2}}}});
  auto result = c.reconcile("apps", "sot");
  CHECK_FALSE(result.error);
  CHECK(c.child_writes() == 0);
  CHECK(c.calls("get") == 0);  // nothing in the target namespace was read either
  const Json stalled = c.condition("apps", "sot", "Stalled");
  CHECK(stalled["status"] == "True");
  CHECK(stalled["reason"] == "InvalidSpec");
  CHECK(stalled["message"].get<std::string>().find("spec.environment") != std::string::npos);
  CHECK(c.condition("apps", "sot", "Ready")["status"] == "False");
  // The same refusal again writes nothing at all.
  (void)c.reconcile("apps", "sot");
  CHECK(c.writes() == 0);
}

TEST_CASE("a missing spec.backend.secretRef stalls with SecretMissing and is looked for again") {
  Cluster c;
  c.put_resource("apps", "sot", with(kDevelopment, {{"backend", {{"secretRef", {{"name", "app-keys"}}}}}}));
  auto result = c.reconcile("apps", "sot");
  CHECK(c.child_writes() == 0);
  CHECK(result.requeue_after > sot::runtime::Duration::zero());
  const Json stalled = c.condition("apps", "sot", "Stalled");
  CHECK(stalled["reason"] == "SecretMissing");
  CHECK(stalled["message"].get<std::string>().find("spec.backend.secretRef.name") != std::string::npos);

  c.api().put(resource_ref("v1", "Secret"),
              {{"metadata", {{"name", "app-keys"}, {"namespace", "apps"}}}, {"data", {{"SMTP_HOST", "eA=="}}}});
  (void)c.reconcile("apps", "sot");
  CHECK(c.get(deployments(), {"apps", "sot-backend"}).has_value());
  CHECK(c.condition("apps", "sot", "Stalled")["status"] == "False");
}
