// The claims stage (tenancy consent, one resource per target namespace, the
// finalizer) and the finalize stage (deletion under each deletionPolicy).
#include <algorithm>

#include <doctest/doctest.h>

#include "stillontime/kinds.h"
#include "unit/controller/harness.h"

using namespace sot::stillontime;
using sot::stillontime::test::Cluster;
using Json = nlohmann::json;

namespace {

Json spec_for(const std::string& target, const std::string& policy = "") {
  Json spec = {{"environment", "development"}, {"version", "1.0.0"}, {"targetNamespace", target}};
  if (!policy.empty()) spec["deletionPolicy"] = policy;
  return spec;
}

bool has(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

sot::kube::ResourceRef pvcs() {
  return resource_ref("v1", "PersistentVolumeClaim");
}

// Deletes the resource as the API server does while a finalizer holds it.
void start_deletion(Cluster& c, const std::string& ns, const std::string& name) {
  c.edit(stillontime_resource(), {ns, name},
         [](Json& cr) { cr["metadata"]["deletionTimestamp"] = "2024-05-02T00:00:00Z"; });
}

}  // namespace

TEST_CASE("a target namespace without consent stalls before anything there is read or written") {
  Cluster c;
  c.put_namespace("shared");  // no stillontime.app/accept-from
  c.put_resource("apps", "sot", spec_for("shared"));
  (void)c.reconcile("apps", "sot");
  CHECK(c.child_writes() == 0);
  CHECK(c.calls("get") == 0);
  CHECK(c.calls("update") == 0);  // no finalizer either
  const Json stalled = c.condition("apps", "sot", "Stalled");
  CHECK(stalled["status"] == "True");
  CHECK(stalled["reason"] == "TargetNamespaceNotPermitted");
}

TEST_CASE("a claim conflict: the older resource keeps the namespace, the younger stalls and writes nothing") {
  Cluster c;
  c.put_namespace("shared", "*");
  c.put_resource("a", "first", spec_for("shared"), {{"creationTimestamp", "2024-01-01T00:00:00Z"}});
  c.put_resource("b", "second", spec_for("shared"), {{"creationTimestamp", "2024-02-01T00:00:00Z"}});

  (void)c.reconcile("b", "second");
  CHECK(c.child_writes() == 0);
  CHECK(c.calls("update") == 0);
  const Json stalled = c.condition("b", "second", "Stalled");
  CHECK(stalled["status"] == "True");
  CHECK(stalled["reason"] == "TargetNamespaceClaimed");
  CHECK(stalled["message"].get<std::string>().find("spec.targetNamespace") != std::string::npos);
  CHECK(stalled["message"].get<std::string>().find("a/first") != std::string::npos);

  // The older one proceeds: first its finalizer (children across namespaces), then the children.
  (void)c.reconcile("a", "first");
  CHECK(c.calls("update", "stillontimes") == 1);
  CHECK(c.child_writes() == 0);
  const Json finalizers = c.resource("a", "first")["metadata"]["finalizers"];
  CHECK(std::find(finalizers.begin(), finalizers.end(), kFinalizer) != finalizers.end());
  (void)c.reconcile("a", "first");
  CHECK(c.child_writes() > 20);
  CHECK(has(c.names(resource_ref("apps/v1", "Deployment"), "shared"), "first-backend"));
  CHECK(c.names(resource_ref("apps/v1", "Deployment"), "b").empty());
}

TEST_CASE("deletion with deletionPolicy Retain: children in the target go, the data claims stay") {
  Cluster c;
  c.put_namespace("shared", "apps");
  c.put_resource("apps", "sot", spec_for("shared"));
  (void)c.reconcile("apps", "sot");  // the finalizer
  (void)c.reconcile("apps", "sot");  // the children
  REQUIRE(has(c.names(pvcs(), "shared"), "sot-backend-logs"));
  REQUIRE(has(c.names(resource_ref("v1", "Secret"), "shared"), "sot-postgres-credentials"));

  start_deletion(c, "apps", "sot");
  auto result = c.reconcile("apps", "sot");
  CHECK_FALSE(result.error);
  CHECK(c.calls("delete", "persistentvolumeclaims") == 0);
  CHECK(c.calls("delete", "deployments") == 2);
  CHECK(c.names(resource_ref("apps/v1", "Deployment"), "shared").empty());
  CHECK(c.names(resource_ref("v1", "Secret"), "shared").empty());
  CHECK(has(c.names(pvcs(), "shared"), "sot-backend-logs"));
  CHECK(has(c.names(pvcs(), "shared"), "sot-backend-uploads"));
  CHECK(c.resource("apps", "sot")["metadata"]["finalizers"].empty());
}

TEST_CASE("deletion with deletionPolicy Delete: the data claims go too") {
  Cluster c;
  c.put_resource("apps", "sot", spec_for("apps", "Delete"));
  (void)c.reconcile("apps", "sot");  // the finalizer: data goes with the resource
  CHECK(c.calls("update", "stillontimes") == 1);
  (void)c.reconcile("apps", "sot");
  REQUIRE(has(c.names(pvcs(), "apps"), "sot-backend-uploads"));

  start_deletion(c, "apps", "sot");
  auto result = c.reconcile("apps", "sot");
  CHECK_FALSE(result.error);
  CHECK(c.calls("delete", "persistentvolumeclaims") == 2);
  CHECK(c.names(pvcs(), "apps").empty());
  CHECK(c.names(resource_ref("apps/v1", "StatefulSet"), "apps").empty());
  CHECK(c.resource("apps", "sot")["metadata"]["finalizers"].empty());
}

TEST_CASE("deletion after consent was withdrawn: nothing in the target is touched, the finalizer still goes") {
  Cluster c;
  c.put_namespace("shared", "apps");
  c.put_resource("apps", "sot", spec_for("shared", "Delete"));
  (void)c.reconcile("apps", "sot");
  (void)c.reconcile("apps", "sot");
  c.put_namespace("shared");  // consent withdrawn
  start_deletion(c, "apps", "sot");
  (void)c.reconcile("apps", "sot");
  CHECK(c.child_writes() == 0);
  CHECK(has(c.names(pvcs(), "shared"), "sot-backend-logs"));
  CHECK(has(c.names(resource_ref("apps/v1", "Deployment"), "shared"), "sot-backend"));
  CHECK(c.resource("apps", "sot")["metadata"]["finalizers"].empty());
}

TEST_CASE("a resource being deleted without our finalizer is left to owner references") {
  Cluster c;
  c.put_resource("apps", "sot", spec_for("apps", "Retain"));
  (void)c.reconcile("apps", "sot");
  REQUIRE_FALSE(c.resource("apps", "sot")["metadata"].contains("finalizers"));
  start_deletion(c, "apps", "sot");
  auto result = c.reconcile("apps", "sot");
  CHECK_FALSE(result.error);
  CHECK(c.writes() == 0);
}
