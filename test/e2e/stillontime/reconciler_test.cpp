// The StillOnTime operator end to end: a real kube-apiserver (with the garbage
// collector), the CRD, and the operator binary running as a child process.
// No kubelet runs, so workload readiness is simulated through the status
// subresource, as envtest users do.
#include <thread>

#include <doctest/doctest.h>

#include "e2e/support.h"
#include "operator_process.h"

using namespace sot;
using namespace sot::kube;
using namespace std::chrono_literals;

namespace {

Json resource(const std::string& ns, const std::string& name, Json spec) {
  Json base = {{"environment", "development"}, {"version", "1.0.0"}};
  base.update(spec);
  return {{"apiVersion", "stillontime.app/v1alpha1"},
          {"kind", "StillOnTime"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", base}};
}

Json create(KubeClient& c, const std::string& ns, const std::string& name, Json spec = Json::object()) {
  e2e::shared_operator();
  auto r = c.create(e2e::kStillOnTime, ns, resource(ns, name, std::move(spec)));
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
  return *r;
}

std::string condition(const Json& cr, const std::string& type, const std::string& field = "status") {
  if (!cr.is_object()) return "";
  for (const auto& cond : cr.value("status", Json::object()).value("conditions", Json::array())) {
    if (cond.value("type", "") == type) return cond.value(field, "");
  }
  return "";
}

// Waits until the CR's condition `type` has `status`.
bool wait_condition(KubeClient& c, const ObjectKey& key, const std::string& type, const std::string& status,
                    std::chrono::milliseconds timeout = 15s) {
  return e2e::eventually([&] { return condition(e2e::get_or_null(c, e2e::kStillOnTime, key), type) == status; },
                         timeout);
}

Json status_of(KubeClient& c, const ObjectKey& key) {
  const Json cr = e2e::get_or_null(c, e2e::kStillOnTime, key);
  return cr.is_object() ? cr.value("status", Json::object()) : Json::object();
}

bool exists(KubeClient& c, const ResourceRef& ref, const ObjectKey& key) {
  return c.get(ref, key).ok();
}

}  // namespace

TEST_CASE("a StillOnTime gets every child, labelled and owned; simulated readiness makes it Ready") {
  auto c = e2e::client();
  e2e::TestNamespace ns("sot-create");
  const Json cr = create(*c, ns.name(), "app");
  const std::string uid = cr["metadata"]["uid"];

  REQUIRE(e2e::eventually(
      [&] {
        return exists(*c, e2e::kDeployment, {ns.name(), "app-backend"}) &&
               exists(*c, e2e::kDeployment, {ns.name(), "app-frontend"}) &&
               exists(*c, e2e::kStatefulSet, {ns.name(), "app-postgres"}) &&
               exists(*c, e2e::kStatefulSet, {ns.name(), "app-redis"});
      },
      20s));
  for (const auto& [ref, name] :
       std::vector<std::pair<ResourceRef, std::string>>{{e2e::kDeployment, "app-backend"},
                                                        {e2e::kDeployment, "app-frontend"},
                                                        {e2e::kStatefulSet, "app-postgres"},
                                                        {e2e::kStatefulSet, "app-redis"},
                                                        {e2e::kService, "app-backend"},
                                                        {e2e::kService, "app-frontend"},
                                                        {e2e::kService, "app-postgres"},
                                                        {e2e::kService, "app-redis"},
                                                        {resources::secrets(), "app-postgres-credentials"},
                                                        {resources::secrets(), "app-redis-credentials"},
                                                        {resources::secrets(), "app-app-secrets"},
                                                        {resources::network_policies(), "app-default-deny"},
                                                        {resources::service_accounts(), "app-app"}}) {
    CAPTURE(name);
    auto obj = c->get(ref, {ns.name(), name});
    REQUIRE_MESSAGE(obj.ok(), obj.error().to_string());
    const Json& labels = (*obj)["metadata"]["labels"];
    CHECK(labels["app.kubernetes.io/name"] == "stillontime");
    CHECK(labels["app.kubernetes.io/instance"] == "app");
    CHECK(labels["app.kubernetes.io/managed-by"] == "stillontime-operator");
    CHECK(labels["stillontime.app/owner"] == ns.name() + ".app");
    const Json& owners = (*obj)["metadata"]["ownerReferences"];
    REQUIRE(owners.size() == 1);
    CHECK(owners[0]["uid"] == uid);
    CHECK(owners[0]["controller"] == true);
  }

  // The backend gets what stillontime-server reads, from the generated Secrets.
  auto backend = c->get(e2e::kDeployment, {ns.name(), "app-backend"});
  REQUIRE(backend.ok());
  const Json& container = (*backend)["spec"]["template"]["spec"]["containers"][0];
  std::map<std::string, Json> env;
  for (const auto& e : container["env"]) env[e["name"]] = e;
  CHECK(env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "app-postgres-credentials");
  CHECK(env["JWT_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "app-app-secrets");
  CHECK(container["readinessProbe"]["httpGet"]["path"] == "/ready");
  CHECK(container["image"].get<std::string>().ends_with(":1.0.0"));

  CHECK(wait_condition(*c, {ns.name(), "app"}, "Ready", "False"));
  auto progressing = c->get(e2e::kStillOnTime, {ns.name(), "app"});
  REQUIRE(progressing.ok());
  CHECK((*progressing)["status"]["observedGeneration"] == 1);
  CHECK(condition(*progressing, "Stalled") == "False");
  CHECK(condition(*progressing, "Ready", "message").find("0/1 ready") != std::string::npos);

  e2e::make_workloads_ready(*c, ns.name(), ns.name() + ".app");
  auto wait = e2e::run("kubectl wait --for=condition=Ready --timeout=20s -n " + ns.name() + " stillontime/app");
  CHECK_MESSAGE(wait.exit_code == 0, wait.output);
  auto ready = c->get(e2e::kStillOnTime, {ns.name(), "app"});
  REQUIRE(ready.ok());
  CHECK((*ready)["status"]["phase"] == "Ready");
  CHECK(condition(*ready, "Reconciling") == "False");
  CHECK((*ready)["status"]["components"]["backend"]["ready"] == 1);

  // At rest: nothing changes, so the operator writes nothing for a whole
  // 5-second window. (Namespaces of earlier suites may still be terminating
  // for a while, and their resources change as they go; hence "a window
  // within 30 s", not "the next 5 s".)
  auto& op = e2e::shared_operator();
  bool quiet = false;
  for (int attempt = 0; attempt < 6 && !quiet; ++attempt) {
    const double before = op.writes();
    std::this_thread::sleep_for(5s);
    quiet = op.writes() == before;
  }
  CHECK(quiet);
}

TEST_CASE("children that someone edits or deletes are put back") {
  auto c = e2e::client();
  e2e::TestNamespace ns("sot-drift");
  create(*c, ns.name(), "app");
  REQUIRE(e2e::eventually([&] { return exists(*c, e2e::kDeployment, {ns.name(), "app-frontend"}); }, 20s));

  REQUIRE(c->merge_patch(e2e::kDeployment, {ns.name(), "app-frontend"}, {{"spec", {{"replicas", 7}}}},
                         PatchOptions{"kubectl"})
              .ok());
  CHECK(e2e::eventually(
      [&] {
        return e2e::get_or_null(*c, e2e::kDeployment, {ns.name(), "app-frontend"})["spec"]["replicas"] == 1;
      },
      5s));

  auto d = c->get(e2e::kDeployment, {ns.name(), "app-backend"});
  REQUIRE(d.ok());
  Json edited = *d;
  edited["spec"]["template"]["spec"]["containers"][0]["image"] = "example.com/other:bad";
  REQUIRE(c->update(e2e::kDeployment, edited, UpdateOptions{"kubectl"}).ok());
  CHECK(e2e::eventually(
      [&] {
        return e2e::get_or_null(*c, e2e::kDeployment,
                                {ns.name(), "app-backend"})["spec"]["template"]["spec"]["containers"][0]["image"]
            .get<std::string>()
            .ends_with(":1.0.0");
      },
      5s));

  REQUIRE(c->remove(e2e::kService, {ns.name(), "app-redis"}, DeleteOptions{}).ok());
  CHECK(e2e::eventually([&] { return exists(*c, e2e::kService, {ns.name(), "app-redis"}); }, 5s));
}

TEST_CASE("a new spec.version rolls the images and observedGeneration follows") {
  auto c = e2e::client();
  e2e::TestNamespace ns("sot-version");
  create(*c, ns.name(), "app");
  REQUIRE(wait_condition(*c, {ns.name(), "app"}, "Ready", "False"));
  REQUIRE(
      c->merge_patch(e2e::kStillOnTime, {ns.name(), "app"}, {{"spec", {{"version", "1.1.0"}}}}, PatchOptions{"kubectl"})
          .ok());
  CHECK(e2e::eventually(
      [&] {
        const Json d = e2e::get_or_null(*c, e2e::kDeployment, {ns.name(), "app-backend"});
        const Json f = e2e::get_or_null(*c, e2e::kDeployment, {ns.name(), "app-frontend"});
        return d["spec"]["template"]["spec"]["containers"][0]["image"].get<std::string>().ends_with(":1.1.0") &&
               f["spec"]["template"]["spec"]["containers"][0]["image"].get<std::string>().ends_with(":1.1.0");
      },
      10s));
  CHECK(e2e::eventually(
      [&] {
        const Json st = status_of(*c, {ns.name(), "app"});
        return st.value("observedGeneration", 0) == 2 && st.value("version", "") == "1.1.0";
      },
      10s));
}

TEST_CASE("disabling the ingress deletes it") {
  auto c = e2e::client();
  e2e::TestNamespace ns("sot-ingress");
  create(*c, ns.name(), "app", {{"ingress", {{"enabled", true}, {"host", "app.example.com"}}}});
  REQUIRE(e2e::eventually([&] { return exists(*c, e2e::kIngress, {ns.name(), "app"}); }, 20s));
  REQUIRE(c->merge_patch(e2e::kStillOnTime, {ns.name(), "app"}, {{"spec", {{"ingress", {{"enabled", false}}}}}},
                         PatchOptions{"kubectl"})
              .ok());
  CHECK(e2e::eventually([&] { return !exists(*c, e2e::kIngress, {ns.name(), "app"}); }, 10s));
}

TEST_CASE("an invalid spec is Stalled with the field named, an Event, and no change to the children") {
  auto c = e2e::client();
  e2e::TestNamespace ns("sot-invalid");
  create(*c, ns.name(), "app");
  REQUIRE(e2e::eventually([&] { return exists(*c, e2e::kDeployment, {ns.name(), "app-backend"}); }, 20s));
  REQUIRE(wait_condition(*c, {ns.name(), "app"}, "Reconciling", "True"));
  std::this_thread::sleep_for(2s);
  const std::string rv_before =
      e2e::get_or_null(*c, e2e::kDeployment, {ns.name(), "app-backend"})["metadata"]["resourceVersion"];

  REQUIRE(
      c->merge_patch(e2e::kStillOnTime, {ns.name(), "app"},
                     {{"spec",
                       {{"version", "2.0.0"},
                        {"backend", {{"autoscaling", {{"enabled", true}, {"minReplicas", 3}, {"maxReplicas", 2}}}}}}}},
                     PatchOptions{"kubectl"})
          .ok());
  REQUIRE(wait_condition(*c, {ns.name(), "app"}, "Stalled", "True"));
  const Json cr = e2e::get_or_null(*c, e2e::kStillOnTime, {ns.name(), "app"});
  CHECK(condition(cr, "Stalled", "reason") == "InvalidSpec");
  CHECK(condition(cr, "Stalled", "message").find("spec.backend.autoscaling.maxReplicas") != std::string::npos);
  CHECK(cr["status"]["observedGeneration"] == 2);
  std::this_thread::sleep_for(2s);
  CHECK(e2e::get_or_null(*c, e2e::kDeployment, {ns.name(), "app-backend"})["metadata"]["resourceVersion"] == rv_before);
  CHECK(e2e::eventually(
      [&] {
        ListOptions lo;
        lo.field_selector = "involvedObject.name=app,reason=InvalidSpec";
        auto events = c->list(resources::events(), ns.name(), lo);
        return events.ok() && !(*events)["items"].empty();
      },
      5s));

  // Fixing the spec clears Stalled and applies the new version.
  REQUIRE(c->merge_patch(e2e::kStillOnTime, {ns.name(), "app"},
                         {{"spec", {{"backend", {{"autoscaling", {{"maxReplicas", 4}}}}}}}}, PatchOptions{"kubectl"})
              .ok());
  CHECK(wait_condition(*c, {ns.name(), "app"}, "Stalled", "False"));
  CHECK(e2e::eventually(
      [&] {
        return e2e::get_or_null(*c, e2e::kDeployment,
                                {ns.name(), "app-backend"})["spec"]["template"]["spec"]["containers"][0]["image"]
            .get<std::string>()
            .ends_with(":2.0.0");
      },
      10s));
}

TEST_CASE("a paused resource leaves an edited child as it is") {
  auto c = e2e::client();
  e2e::TestNamespace ns("sot-paused");
  create(*c, ns.name(), "app");
  REQUIRE(e2e::eventually([&] { return exists(*c, e2e::kDeployment, {ns.name(), "app-frontend"}); }, 20s));
  REQUIRE(c->merge_patch(e2e::kStillOnTime, {ns.name(), "app"}, {{"spec", {{"paused", true}}}}, PatchOptions{"kubectl"})
              .ok());
  REQUIRE(e2e::eventually([&] { return status_of(*c, {ns.name(), "app"}).value("phase", "") == "Paused"; }, 10s));
  REQUIRE(c->merge_patch(e2e::kDeployment, {ns.name(), "app-frontend"}, {{"spec", {{"replicas", 5}}}},
                         PatchOptions{"kubectl"})
              .ok());
  std::this_thread::sleep_for(3s);
  CHECK(e2e::get_or_null(*c, e2e::kDeployment, {ns.name(), "app-frontend"})["spec"]["replicas"] == 5);
  REQUIRE(
      c->merge_patch(e2e::kStillOnTime, {ns.name(), "app"}, {{"spec", {{"paused", false}}}}, PatchOptions{"kubectl"})
          .ok());
  CHECK(e2e::eventually(
      [&] {
        return e2e::get_or_null(*c, e2e::kDeployment, {ns.name(), "app-frontend"})["spec"]["replicas"] == 1;
      },
      10s));
}

TEST_CASE("targetNamespace: children go there, a missing namespace stalls until it appears, deletion removes them") {
  auto c = e2e::client();
  e2e::TestNamespace home("sot-home");
  const std::string target = "sot-target-" + e2e::random_suffix();
  create(*c, home.name(), "app", {{"targetNamespace", target}});
  REQUIRE(wait_condition(*c, {home.name(), "app"}, "Stalled", "True"));
  const Json stalled = e2e::get_or_null(*c, e2e::kStillOnTime, {home.name(), "app"});
  CHECK(condition(stalled, "Stalled", "reason") == "TargetNamespaceMissing");
  CHECK(condition(stalled, "Stalled", "message").find("spec.targetNamespace") != std::string::npos);

  // Created with its consent to resources of the home namespace (docs/install.md).
  REQUIRE(c->create(resources::namespaces(), "",
                    {{"metadata", {{"name", target}, {"annotations", {{"stillontime.app/accept-from", home.name()}}}}}})
              .ok());
  CHECK(e2e::eventually([&] { return exists(*c, e2e::kDeployment, {target, "app-backend"}); }, 30s));
  CHECK(wait_condition(*c, {home.name(), "app"}, "Stalled", "False"));
  const Json backend = e2e::get_or_null(*c, e2e::kDeployment, {target, "app-backend"});
  CHECK_FALSE(backend["metadata"].contains("ownerReferences"));
  CHECK(backend["metadata"]["labels"]["stillontime.app/owner"] == home.name() + ".app");
  const Json cr = e2e::get_or_null(*c, e2e::kStillOnTime, {home.name(), "app"});
  CHECK(cr["metadata"]["finalizers"] == Json::array({"stillontime.app/finalizer"}));
  CHECK(cr["status"]["targetNamespace"] == target);

  REQUIRE(c->remove(e2e::kStillOnTime, {home.name(), "app"}, DeleteOptions{}).ok());
  CHECK(e2e::eventually([&] { return !exists(*c, e2e::kStillOnTime, {home.name(), "app"}); }, 20s));
  CHECK(e2e::eventually(
      [&] {
        return !exists(*c, e2e::kDeployment, {target, "app-backend"}) &&
               !exists(*c, e2e::kStatefulSet, {target, "app-postgres"}) &&
               !exists(*c, e2e::kService, {target, "app-backend"});
      },
      20s));
  (void)c->remove(resources::namespaces(), {"", target}, DeleteOptions{});
}

TEST_CASE("two resources claiming one target namespace: the second is Stalled") {
  auto c = e2e::client();
  e2e::TestNamespace a("sot-claim-a");
  e2e::TestNamespace b("sot-claim-b");
  e2e::TestNamespace target("sot-claimed");
  e2e::set_accept_from(*c, target.name(), a.name() + "," + b.name());
  create(*c, a.name(), "first", {{"targetNamespace", target.name()}});
  REQUIRE(e2e::eventually([&] { return exists(*c, e2e::kDeployment, {target.name(), "first-backend"}); }, 20s));
  std::this_thread::sleep_for(1100ms);  // creationTimestamp has one-second resolution
  create(*c, b.name(), "second", {{"targetNamespace", target.name()}});
  REQUIRE(wait_condition(*c, {b.name(), "second"}, "Stalled", "True"));
  const Json second = e2e::get_or_null(*c, e2e::kStillOnTime, {b.name(), "second"});
  CHECK(condition(second, "Stalled", "reason") == "TargetNamespaceClaimed");
  CHECK(condition(second, "Stalled", "message").find(a.name() + "/first") != std::string::npos);
  CHECK_FALSE(exists(*c, e2e::kDeployment, {target.name(), "second-backend"}));
  CHECK(condition(e2e::get_or_null(*c, e2e::kStillOnTime, {a.name(), "first"}), "Stalled") == "False");
}

TEST_CASE("deleting a resource in its own namespace lets the garbage collector remove its children") {
  auto c = e2e::client();
  e2e::TestNamespace ns("sot-gc");
  create(*c, ns.name(), "app");
  REQUIRE(e2e::eventually([&] { return exists(*c, e2e::kDeployment, {ns.name(), "app-backend"}); }, 20s));
  DeleteOptions del;
  del.propagation = Propagation::kForeground;
  REQUIRE(c->remove(e2e::kStillOnTime, {ns.name(), "app"}, del).ok());
  CHECK(e2e::eventually(
      [&] {
        return !exists(*c, e2e::kStillOnTime, {ns.name(), "app"}) &&
               !exists(*c, e2e::kDeployment, {ns.name(), "app-backend"}) &&
               !exists(*c, e2e::kStatefulSet, {ns.name(), "app-redis"}) &&
               !exists(*c, e2e::kService, {ns.name(), "app-frontend"}) &&
               !exists(*c, resources::secrets(), {ns.name(), "app-redis-credentials"});
      },
      30s));
}
