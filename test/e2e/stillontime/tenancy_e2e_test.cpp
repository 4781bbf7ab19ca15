// Multi-tenancy end to end, as a tenant of a shared cluster would try it: the
// users tenant-a and tenant-b are bound by RBAC to a namespace each, and the
// operator runs as the user stillontime-operator with exactly the RBAC of
// manifests/default (cluster-wide rights). Tenant a must not get anything made
// in, or read from, a namespace it has no rights over through a StillOnTime.
// What the operator sent where is read from the API server's audit log, not
// from the operator's own account of it.
#include <cstdio>
#include <thread>

#include <doctest/doctest.h>

#include "e2e/support.h"
#include "operator_process.h"
#include "stillontime/api_versions.h"
#include "stillontime/kinds.h"

using namespace sot;
using namespace sot::kube;
using namespace std::chrono_literals;

namespace {

const char* const kTenantA = "tenant-a";
const char* const kTenantB = "tenant-b";
const char* const kWriteVerbs[] = {"create", "update", "patch", "delete", "deletecollection"};

// A tenant's rights in its own namespace: StillOnTime resources, Secrets,
// ConfigMaps, Deployments. With `may_consent`, also get and patch of its own
// Namespace object, the one right consent needs (a cluster admin grants it).
void bind_tenant(KubeClient& admin, const std::string& user, const std::string& ns, bool may_consent) {
  Json rules = Json::array({
      {{"apiGroups", {"stillontime.app"}},
       {"resources", {"stillontimes"}},
       {"verbs", {"get", "list", "watch", "create", "update", "patch", "delete"}}},
      {{"apiGroups", {""}}, {"resources", {"secrets", "configmaps"}}, {"verbs", {"get", "list", "create", "delete"}}},
      {{"apiGroups", {"apps"}}, {"resources", {"deployments"}}, {"verbs", {"get", "list", "create"}}},
  });
  if (may_consent) {
    rules.push_back(
        {{"apiGroups", {""}}, {"resources", {"namespaces"}}, {"resourceNames", {ns}}, {"verbs", {"get", "patch"}}});
  }
  auto role = admin.create(resources::roles(), ns,
                           {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                            {"kind", "Role"},
                            {"metadata", {{"name", "tenant"}, {"namespace", ns}}},
                            {"rules", rules}});
  REQUIRE_MESSAGE(role.ok(), role.error().to_string());
  auto binding =
      admin.create(resources::role_bindings(), ns,
                   {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                    {"kind", "RoleBinding"},
                    {"metadata", {{"name", "tenant"}, {"namespace", ns}}},
                    {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "tenant"}}},
                    {"subjects", {{{"kind", "User"}, {"apiGroup", "rbac.authorization.k8s.io"}, {"name", user}}}}});
  REQUIRE_MESSAGE(binding.ok(), binding.error().to_string());
}

// A client for a tenant, once its grants are in effect (RBAC is read from a cache).
std::unique_ptr<RestClient> tenant_client(const std::string& user, const std::string& ns) {
  auto c = e2e::client(user);
  REQUIRE(e2e::eventually([&] { return c->list(e2e::kStillOnTime, ns, ListOptions{}).ok(); }, 10s));
  return c;
}

Json resource(const std::string& ns, const std::string& name, const std::string& target, Json extra = Json::object()) {
  Json spec = {{"environment", "development"}, {"version", "1.0.0"}};
  if (!target.empty()) spec["targetNamespace"] = target;
  spec.update(extra);
  return {{"apiVersion", "stillontime.app/v1alpha1"},
          {"kind", "StillOnTime"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", spec}};
}

std::string stalled(KubeClient& c, const ObjectKey& key, const std::string& field = "status") {
  const Json cr = e2e::get_or_null(c, e2e::kStillOnTime, key);
  if (!cr.is_object()) return "";
  for (const auto& cond : cr.value("status", Json::object()).value("conditions", Json::array())) {
    if (cond.value("type", "") == "Stalled") return cond.value(field, "");
  }
  return "";
}

bool wait_stalled(KubeClient& c, const ObjectKey& key, const std::string& reason,
                  std::chrono::milliseconds timeout = 20s) {
  return e2e::eventually([&] { return stalled(c, key) == "True" && stalled(c, key, "reason") == reason; }, timeout);
}

// Every child kind the operator makes, labelled as the child of `owner`, in `ns`.
std::vector<std::string> children_in(KubeClient& admin, const std::string& ns, const std::string& owner) {
  std::vector<std::string> out;
  ListOptions lo;
  lo.label_selector = "stillontime.app/owner=" + owner;
  for (const auto& kind : stillontime::child_kinds(stillontime::ApiVersions::k8s_1_20())) {
    auto list = admin.list(kind, ns, lo);
    REQUIRE_MESSAGE(list.ok(), list.error().to_string());
    for (const auto& item : (*list)["items"]) out.push_back(kind.kind + "/" + item["metadata"].value("name", ""));
  }
  return out;
}

// The audit log's events of the operator's requests concerning namespace `ns`
// (its cluster-wide lists and watches name no namespace), received at or after
// `since`.
std::vector<Json> operator_requests_in(const std::string& ns, const std::string& since) {
  return e2e::audit_events(
      [&](const Json& e) {
        const Json ref = e.value("objectRef", Json::object());
        return e.value("user", Json::object()).value("username", "") == e2e::kOperatorUser &&
               ref.value("namespace", "") == ns && e.value("requestReceivedTimestamp", "") >= since;
      },
      "\"namespace\":\"" + ns + "\"");
}

// The operator's requests for Namespace objects (its informer's list and watch).
std::vector<Json> operator_namespace_requests(const std::string& since) {
  return e2e::audit_events(
      [&](const Json& e) {
        return e.value("user", Json::object()).value("username", "") == e2e::kOperatorUser &&
               e.value("objectRef", Json::object()).value("resource", "") == "namespaces" &&
               e.value("requestReceivedTimestamp", "") >= since;
      },
      "\"resource\":\"namespaces\"");
}

std::string show(const std::vector<Json>& events) {
  std::string out;
  for (const auto& e : events) out += "  " + e.value("verb", "") + " " + e.value("requestURI", "") + "\n";
  return out;
}

// Requests (one audit event each: the one that completes it) with one of `verbs`.
std::size_t count_verbs(const std::vector<Json>& events, std::initializer_list<const char*> verbs,
                        const std::string& resource = "") {
  std::size_t n = 0;
  for (const auto& e : events) {
    if (e.value("stage", "") != "ResponseComplete") continue;
    if (!resource.empty() && e.value("objectRef", Json::object()).value("resource", "") != resource) continue;
    for (const char* v : verbs) n += e.value("verb", "") == v;
  }
  return n;
}

std::size_t writes(const std::vector<Json>& events) {
  std::size_t n = 0;
  for (const char* v : kWriteVerbs) n += count_verbs(events, {v});
  return n;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE(
    "tenant a reaches namespace b through a StillOnTime only while b consents; withdrawn, nothing in b is touched") {
  e2e::OperatorGrants grants;
  auto admin = e2e::client();
  e2e::TestNamespace a("tenancy-a");
  e2e::TestNamespace b("tenancy-b");
  bind_tenant(*admin, kTenantA, a.name(), false);
  bind_tenant(*admin, kTenantB, b.name(), true);
  auto tenant_a = tenant_client(kTenantA, a.name());
  auto tenant_b = tenant_client(kTenantB, b.name());

  // b's own Secret, which tenant a must never see.
  REQUIRE(admin
              ->create(resources::secrets(), b.name(),
                       {{"apiVersion", "v1"},
                        {"kind", "Secret"},
                        {"metadata", {{"name", "b-database"}, {"namespace", b.name()}}},
                        {"stringData", {{"PASSWORD", "b-only"}}}})
              .ok());

  // Directly, tenant a can do nothing in b: no objects, no Secrets, no consent.
  const Json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "x"}, {"namespace", b.name()}}}};
  CHECK(tenant_a->create(resources::config_maps(), b.name(), cm).code() == Code::kForbidden);
  CHECK(tenant_a->get(resources::secrets(), {b.name(), "b-database"}).code() == Code::kForbidden);
  CHECK(tenant_a
            ->merge_patch(resources::namespaces(), {"", b.name()},
                          {{"metadata", {{"annotations", {{"stillontime.app/accept-from", a.name()}}}}}},
                          PatchOptions{"kubectl"})
            .code() == Code::kForbidden);
  Json own = cm;
  own["metadata"]["namespace"] = a.name();
  CHECK(tenant_a->create(resources::config_maps(), a.name(), own).ok());  // in its own namespace it may

  const std::string before_resource = e2e::audit_now();
  e2e::OperatorProcess op({"--kubeconfig", e2e::control_plane().kubeconfig("operator"), "--namespaces", a.name()},
                          {{"POD_NAMESPACE", e2e::kOperatorNamespace}});

  // Through a StillOnTime: an image of a's choice in b, with b's Secret in its environment.
  const ObjectKey key{a.name(), "app"};
  const std::string owner = a.name() + ".app";
  auto created = tenant_a->create(
      e2e::kStillOnTime, a.name(),
      resource(a.name(), "app", b.name(),
               {{"backend", {{"image", "registry.example/a/steal:1"}, {"secretRef", {{"name", "b-database"}}}}}}));
  REQUIRE_MESSAGE(created.ok(), created.error().to_string());
  REQUIRE_MESSAGE(wait_stalled(*tenant_a, key, "TargetNamespaceNotPermitted"), ("operator log: " + op.log_path()));
  // The tenant reads, on its own resource, what b must do.
  CHECK(stalled(*tenant_a, key, "message") ==
        "spec.targetNamespace: namespace " + b.name() + " has not consented to children of StillOnTime resources in " +
            a.name() + "; someone who may update namespace " + b.name() +
            " consents with: kubectl annotate namespace " + b.name() + " stillontime.app/accept-from=" + a.name());
  std::this_thread::sleep_for(2s);  // room for a wrong write to show
  CHECK(children_in(*admin, b.name(), owner).empty());
  const auto refused = operator_requests_in(b.name(), before_resource);
  CHECK_MESSAGE(refused.empty(), ("the operator sent requests into b before consent:\n" + show(refused)));
  // Consent is read from a watch of the Namespaces (which this check would see).
  CHECK_FALSE(operator_namespace_requests(before_resource).empty());
  std::printf("tenancy: before consent, operator requests in b: %zu (Secret reads: %zu)\n", refused.size(),
              count_verbs(refused, {"get", "list", "watch"}, "secrets"));

  // b consents (tenant b itself, with its one extra right): the same resource reconciles.
  const auto consent_at = std::chrono::steady_clock::now();
  e2e::set_accept_from(*tenant_b, b.name(), a.name());
  REQUIRE_MESSAGE(e2e::eventually(
                      [&] {
                        return admin->get(resources::deployments(), {b.name(), "app-backend"}).ok();
                      },
                      20s),
                  ("operator log: " + op.log_path()));
  const double consent_seconds = seconds_since(consent_at);
  CHECK(e2e::eventually([&] { return stalled(*tenant_a, key) == "False"; }, 10s));
  const Json backend = e2e::get_or_null(*admin, resources::deployments(), {b.name(), "app-backend"});
  CHECK(backend["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example/a/steal:1");
  // The user Secret is read now that b allows it, and not before.
  const auto consented = operator_requests_in(b.name(), before_resource);
  CHECK(count_verbs(consented, {"get"}, "secrets") >= 1);
  CHECK(writes(consented) > 0);
  std::printf("tenancy: consent to first child in b: %.2f s\n", consent_seconds);

  // Consent withdrawn: Stalled again, and from then on nothing in b is
  // written or read, not even to put back a child someone deleted there.
  const auto withdraw_at = std::chrono::steady_clock::now();
  e2e::set_accept_from(*tenant_b, b.name(), "");
  REQUIRE(wait_stalled(*tenant_a, key, "TargetNamespaceNotPermitted", 10s));
  std::printf("tenancy: consent withdrawn to Stalled: %.2f s\n", seconds_since(withdraw_at));
  const std::string withdrawn = e2e::audit_now();
  const std::string backend_version =
      e2e::get_or_null(*admin, resources::deployments(), {b.name(), "app-backend"})["metadata"]["resourceVersion"];
  REQUIRE(admin->remove(resources::services(), {b.name(), "app-frontend"}, DeleteOptions{}).ok());
  REQUIRE(
      tenant_a->merge_patch(e2e::kStillOnTime, key, {{"spec", {{"version", "1.0.1"}}}}, PatchOptions{"kubectl"}).ok());
  CHECK(e2e::eventually(
      [&] {
        const Json cr = e2e::get_or_null(*tenant_a, e2e::kStillOnTime, key);
        return cr["status"].value("observedGeneration", 0) == cr["metadata"].value("generation", -1);
      },
      10s));
  std::this_thread::sleep_for(3s);
  CHECK_FALSE(admin->get(resources::services(), {b.name(), "app-frontend"}).ok());
  CHECK(e2e::get_or_null(*admin, resources::deployments(), {b.name(), "app-backend"})["metadata"]["resourceVersion"] ==
        backend_version);
  auto after = operator_requests_in(b.name(), withdrawn);
  CHECK_MESSAGE(after.empty(), ("the operator sent requests into b after consent was withdrawn:\n" + show(after)));

  // Deleted while b does not consent: the resource goes, what it made in b
  // stays for b to keep or remove, and the resource's Events say how.
  REQUIRE(tenant_a->remove(e2e::kStillOnTime, key, DeleteOptions{}).ok());
  CHECK(e2e::eventually([&] { return !admin->get(e2e::kStillOnTime, key).ok(); }, 20s));
  CHECK(admin->get(resources::deployments(), {b.name(), "app-backend"}).ok());
  CHECK_FALSE(children_in(*admin, b.name(), owner).empty());
  after = operator_requests_in(b.name(), withdrawn);
  CHECK_MESSAGE(after.empty(), ("the operator sent requests into b while finalizing:\n" + show(after)));
  CHECK(e2e::eventually(
      [&] {
        ListOptions lo;
        lo.field_selector = "involvedObject.name=app,reason=TargetNamespaceNotPermitted";
        auto events = admin->list(resources::events(), a.name(), lo);
        if (!events.ok()) return false;
        for (const auto& e : (*events)["items"]) {
          if (e.value("message", "").find("kubectl delete -n " + b.name() + " -l stillontime.app/owner=" + owner) !=
              std::string::npos) {
            return true;
          }
        }
        return false;
      },
      10s));
  op.stop();
}

TEST_CASE("a claim on a namespace that did not consent does not count: no squatting") {
  e2e::OperatorGrants grants;
  auto admin = e2e::client();
  e2e::TestNamespace a("tenancy-squat");
  e2e::TestNamespace c("tenancy-owner");
  e2e::TestNamespace b("tenancy-wanted");
  e2e::OperatorProcess op(
      {"--kubeconfig", e2e::control_plane().kubeconfig("operator"), "--namespaces", a.name() + "," + c.name()});
  // a names b first; b consents only to c, whose resource comes a second later.
  REQUIRE(admin->create(e2e::kStillOnTime, a.name(), resource(a.name(), "first", b.name())).ok());
  REQUIRE(wait_stalled(*admin, {a.name(), "first"}, "TargetNamespaceNotPermitted"));
  std::this_thread::sleep_for(1100ms);  // creationTimestamp has one-second resolution
  e2e::set_accept_from(*admin, b.name(), c.name());
  REQUIRE(admin->create(e2e::kStillOnTime, c.name(), resource(c.name(), "second", b.name())).ok());
  CHECK_MESSAGE(e2e::eventually(
                    [&] {
                      return admin->get(resources::deployments(), {b.name(), "second-backend"}).ok();
                    },
                    20s),
                ("operator log: " + op.log_path()));
  CHECK(e2e::eventually([&] { return stalled(*admin, {c.name(), "second"}) == "False"; }, 10s));
  CHECK(stalled(*admin, {a.name(), "first"}, "reason") == "TargetNamespaceNotPermitted");
  CHECK(children_in(*admin, b.name(), a.name() + ".first").empty());
  op.stop();
}

TEST_CASE("--cross-namespace=false: another namespace is refused even when it consents; the own namespace works") {
  e2e::OperatorGrants grants;
  auto admin = e2e::client();
  e2e::TestNamespace a("tenancy-closed-a");
  e2e::TestNamespace b("tenancy-closed-b");
  bind_tenant(*admin, kTenantA, a.name(), false);
  auto tenant_a = tenant_client(kTenantA, a.name());
  e2e::set_accept_from(*admin, b.name(), "*");
  const std::string since = e2e::audit_now();
  e2e::OperatorProcess op({"--kubeconfig", e2e::control_plane().kubeconfig("operator"), "--namespaces", a.name(),
                           "--cross-namespace=false"});
  REQUIRE(tenant_a->create(e2e::kStillOnTime, a.name(), resource(a.name(), "away", b.name())).ok());
  REQUIRE(tenant_a->create(e2e::kStillOnTime, a.name(), resource(a.name(), "home", "")).ok());
  REQUIRE_MESSAGE(wait_stalled(*tenant_a, {a.name(), "away"}, "TargetNamespaceNotPermitted"),
                  ("operator log: " + op.log_path()));
  CHECK(stalled(*tenant_a, {a.name(), "away"}, "message").find("--cross-namespace=false") != std::string::npos);
  CHECK(e2e::eventually([&] { return admin->get(resources::deployments(), {a.name(), "home-backend"}).ok(); }, 20s));
  std::this_thread::sleep_for(2s);
  CHECK(children_in(*admin, b.name(), a.name() + ".away").empty());
  const auto sent = operator_requests_in(b.name(), since);
  CHECK_MESSAGE(sent.empty(), ("requests into b:\n" + show(sent)));
  // With targets off the operator does not even watch Namespaces.
  const auto namespace_reads = operator_namespace_requests(since);
  CHECK_MESSAGE(namespace_reads.empty(), show(namespace_reads));
  op.stop();
}

TEST_CASE("kube-system and the operator's own namespace are never targets, even with consent, unless allowed") {
  e2e::OperatorGrants grants;
  auto admin = e2e::client();
  e2e::TestNamespace a("tenancy-sys-a");
  e2e::TestNamespace ops("tenancy-ops");  // the operator's own namespace in this case (POD_NAMESPACE)
  bind_tenant(*admin, kTenantA, a.name(), false);
  auto tenant_a = tenant_client(kTenantA, a.name());
  e2e::set_accept_from(*admin, "kube-system", a.name());
  e2e::set_accept_from(*admin, ops.name(), a.name());
  struct Unannotate {
    KubeClient& admin;
    ~Unannotate() { e2e::set_accept_from(admin, "kube-system", ""); }
  } unannotate{*admin};
  const std::vector<std::string> base = {"--kubeconfig", e2e::control_plane().kubeconfig("operator"), "--namespaces",
                                         a.name()};
  const std::map<std::string, std::string> env = {{"POD_NAMESPACE", ops.name()}};
  const ObjectKey to_system{a.name(), "to-system"};
  const ObjectKey to_ops{a.name(), "to-ops"};
  const std::string since = e2e::audit_now();
  {
    e2e::OperatorProcess op(base, env);
    REQUIRE(tenant_a->create(e2e::kStillOnTime, a.name(), resource(a.name(), "to-system", "kube-system")).ok());
    REQUIRE(tenant_a->create(e2e::kStillOnTime, a.name(), resource(a.name(), "to-ops", ops.name())).ok());
    for (const auto& [key, target] :
         {std::pair{to_system, std::string("kube-system")}, std::pair{to_ops, ops.name()}}) {
      CAPTURE(target);
      REQUIRE_MESSAGE(wait_stalled(*tenant_a, key, "TargetNamespaceNotPermitted"), ("operator log: " + op.log_path()));
      CHECK(stalled(*tenant_a, key, "message").find("is never a target") != std::string::npos);
      CHECK(stalled(*tenant_a, key, "message").find("--allow-target-namespaces=" + target) != std::string::npos);
    }
    std::this_thread::sleep_for(2s);
    CHECK(children_in(*admin, "kube-system", a.name() + ".to-system").empty());
    CHECK(children_in(*admin, ops.name(), a.name() + ".to-ops").empty());
    CHECK(operator_requests_in("kube-system", since).empty());
    CHECK(operator_requests_in(ops.name(), since).empty());
  }
  // Allowed by the operator's start-up flag, and consenting: the operator's
  // namespace is a target like any other; kube-system is still refused.
  e2e::OperatorProcess op(
      [&] {
        auto args = base;
        args.push_back("--allow-target-namespaces=" + ops.name());
        return args;
      }(),
      env);
  CHECK_MESSAGE(e2e::eventually(
                    [&] {
                      return admin->get(resources::deployments(), {ops.name(), "to-ops-backend"}).ok();
                    },
                    20s),
                ("operator log: " + op.log_path()));
  CHECK(e2e::eventually([&] { return stalled(*tenant_a, to_ops) == "False"; }, 10s));
  CHECK(stalled(*tenant_a, to_system, "reason") == "TargetNamespaceNotPermitted");
  CHECK(children_in(*admin, "kube-system", a.name() + ".to-system").empty());
  CHECK(operator_requests_in("kube-system", since).empty());
  // With consent, deleting the resource removes what it made there.
  REQUIRE(tenant_a->remove(e2e::kStillOnTime, to_ops, DeleteOptions{}).ok());
  CHECK(e2e::eventually(
      [&] {
        return !admin->get(resources::deployments(), {ops.name(), "to-ops-backend"}).ok();
      },
      20s));
  REQUIRE(tenant_a->remove(e2e::kStillOnTime, to_system, DeleteOptions{}).ok());
  CHECK(e2e::eventually([&] { return !admin->get(e2e::kStillOnTime, to_system).ok(); }, 20s));
  op.stop();
}
