// The Kubernetes client against a real kube-apiserver: authentication forms,
// TLS verification, CRUD and apply round trips, conflicts, watches, Gone,
// Forbidden and discovery.
#include <atomic>
#include <mutex>
#include <thread>

#include <doctest/doctest.h>

#include "e2e/support.h"
#include "kube/config.h"
#include "unit/kube/test_certs.h"

using namespace sot;
using namespace sot::kube;
using namespace std::chrono_literals;

namespace {

Json config_map(const std::string& ns, const std::string& name, Json data, Json labels = Json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
          {"data", data}};
}

const ResourceRef kWidgets{"e2e.stillontime.app", "v1", "widgets", "Widget", true};

void ensure_widget_crd(KubeClient& c) {
  static std::once_flag once;
  std::call_once(once, [&] {
    Json crd = Json::parse(R"({
      "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
      "metadata": {"name": "widgets.e2e.stillontime.app"},
      "spec": {"group": "e2e.stillontime.app", "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [{"name": "v1", "served": true, "storage": true,
          "subresources": {"status": {}},
          "schema": {"openAPIV3Schema": {"type": "object", "properties": {
            "spec": {"type": "object", "properties": {"size": {"type": "integer", "minimum": 1}, "color": {"type": "string"}}},
            "status": {"type": "object", "properties": {"phase": {"type": "string"}}}}}}}]}})");
    auto r =
        c.apply(resources::custom_resource_definitions(), {"", "widgets.e2e.stillontime.app"}, crd, ApplyOptions{});
    REQUIRE_MESSAGE(r.ok(), r.error().to_string());
    REQUIRE(e2e::eventually(
        [&] {
          auto got = c.get(resources::custom_resource_definitions(), {"", "widgets.e2e.stillontime.app"});
          if (!got.ok()) return false;
          for (const auto& cond : got->value("status", Json::object()).value("conditions", Json::array())) {
            if (cond.value("type", "") == "Established" && cond.value("status", "") == "True") return true;
          }
          return false;
        },
        20s));
    // Discovery of the new group can lag the Established condition a little.
    REQUIRE(e2e::eventually([&] { return c.list(kWidgets, "default", ListOptions{}).ok(); }, 20s));
  });
}

}  // namespace

TEST_CASE("bearer token and client certificate both authenticate") {
  for (const std::string user : {"", "token"}) {
    CAPTURE(user);
    auto c = e2e::client(user);
    auto v = c->server_version();
    REQUIRE_MESSAGE(v.ok(), v.error().to_string());
    CHECK(v->value("gitVersion", "").starts_with("v1.20"));
    auto ns = c->list(resources::namespaces(), "", ListOptions{});
    REQUIRE(ns.ok());
    CHECK(ns->at("items").size() >= 1);
  }
}

TEST_CASE("a wrong certificate authority fails the TLS handshake with a clear error") {
  auto cfg = load_kubeconfig(e2e::control_plane().kubeconfig("token"));
  REQUIRE(cfg.ok());
  cfg->ca_pem = test::make_self_signed("not-the-cluster-ca").cert_pem;
  auto c = RestClient::create(*cfg);
  auto v = c->server_version();
  REQUIRE_FALSE(v.ok());
  CHECK(v.code() == Code::kTls);
  CHECK(v.error().message.find("TLS handshake") != std::string::npos);
}

TEST_CASE("the system trust store alone does not trust the test cluster") {
  auto cfg = load_kubeconfig(e2e::control_plane().kubeconfig("token"));
  REQUIRE(cfg.ok());
  cfg->ca_pem.clear();
  CHECK(RestClient::create(*cfg)->server_version().code() == Code::kTls);
}

TEST_CASE("a token without RBAC rights is Forbidden; a bad token is Unauthorized") {
  e2e::TestNamespace ns("forbidden");
  auto nobody = e2e::client("nobody");
  auto r = nobody->list(resources::config_maps(), ns.name(), ListOptions{});
  CHECK(r.code() == Code::kForbidden);
  CHECK(r.error().message.find("forbidden") != std::string::npos);

  auto cfg = load_kubeconfig(e2e::control_plane().kubeconfig("token"));
  REQUIRE(cfg.ok());
  cfg->token = "not-a-valid-token";
  CHECK(RestClient::create(*cfg)->server_version().code() == Code::kUnauthorized);
}

TEST_CASE("ConfigMap round trip: create, get, list, apply, merge patch, conflict, delete") {
  e2e::TestNamespace ns("configmaps");
  auto c = e2e::client();

  auto created = c->create(e2e::kConfigMap, ns.name(), config_map(ns.name(), "a", {{"k", "1"}}, {{"app", "x"}}));
  REQUIRE_MESSAGE(created.ok(), created.error().to_string());
  CHECK(c->create(e2e::kConfigMap, ns.name(), config_map(ns.name(), "a", {})).code() == Code::kAlreadyExists);

  auto got = c->get(e2e::kConfigMap, {ns.name(), "a"});
  REQUIRE(got.ok());
  CHECK((*got)["data"]["k"] == "1");
  CHECK(c->get(e2e::kConfigMap, {ns.name(), "missing"}).code() == Code::kNotFound);

  for (int i = 0; i < 5; ++i) {
    REQUIRE(
        c->create(e2e::kConfigMap, ns.name(), config_map(ns.name(), "page-" + std::to_string(i), {}, {{"page", "yes"}}))
            .ok());
  }
  ListOptions lo;
  lo.label_selector = "page=yes";
  lo.limit = 2;
  auto first = c->list(e2e::kConfigMap, ns.name(), lo);
  REQUIRE(first.ok());
  CHECK((*first)["items"].size() == 2);
  CHECK_FALSE((*first)["metadata"].value("continue", "").empty());
  auto all = list_all(*c, e2e::kConfigMap, ns.name(), lo);
  REQUIRE(all.ok());
  CHECK(all->items.size() == 5);
  CHECK_FALSE(all->resource_version.empty());

  // Server-side apply creates, then updates; force takes over fields.
  auto applied =
      c->apply(e2e::kConfigMap, {ns.name(), "applied"}, config_map(ns.name(), "applied", {{"x", "1"}}), ApplyOptions{});
  REQUIRE_MESSAGE(applied.ok(), applied.error().to_string());
  const auto& managers = (*applied)["metadata"]["managedFields"];
  REQUIRE(managers.size() == 1);
  CHECK(managers[0]["manager"] == e2e::kFieldManager);
  CHECK(managers[0]["operation"] == "Apply");
  auto reapplied =
      c->apply(e2e::kConfigMap, {ns.name(), "applied"}, config_map(ns.name(), "applied", {{"x", "2"}}), ApplyOptions{});
  REQUIRE(reapplied.ok());
  CHECK((*reapplied)["data"]["x"] == "2");
  ApplyOptions other;
  other.field_manager = "someone-else";
  other.force = false;
  auto contested =
      c->apply(e2e::kConfigMap, {ns.name(), "applied"}, config_map(ns.name(), "applied", {{"x", "3"}}), other);
  CHECK(contested.code() == Code::kConflict);

  auto patched =
      c->merge_patch(e2e::kConfigMap, {ns.name(), "a"}, {{"data", {{"k", nullptr}, {"n", "2"}}}}, PatchOptions{});
  REQUIRE(patched.ok());
  CHECK_FALSE((*patched)["data"].contains("k"));
  CHECK((*patched)["data"]["n"] == "2");

  // A stale resourceVersion is a Conflict, a current one succeeds.
  Json stale = *got;
  Json fresh = *patched;
  fresh["data"]["n"] = "3";
  REQUIRE(c->update(e2e::kConfigMap, fresh, UpdateOptions{}).ok());
  stale["data"]["n"] = "4";
  auto conflict = c->update(e2e::kConfigMap, stale, UpdateOptions{});
  CHECK(conflict.code() == Code::kConflict);

  DeleteOptions wrong_uid;
  wrong_uid.precondition_uid = "00000000-0000-0000-0000-000000000000";
  CHECK(c->remove(e2e::kConfigMap, {ns.name(), "a"}, wrong_uid).code() == Code::kConflict);
  DeleteOptions by_uid;
  by_uid.precondition_uid = (*created)["metadata"]["uid"];
  by_uid.propagation = Propagation::kBackground;
  CHECK(c->remove(e2e::kConfigMap, {ns.name(), "a"}, by_uid).ok());
  CHECK(c->get(e2e::kConfigMap, {ns.name(), "a"}).code() == Code::kNotFound);
  CHECK(c->remove(e2e::kConfigMap, {ns.name(), "a"}, DeleteOptions{}).code() == Code::kNotFound);
}

TEST_CASE("custom resources: schema validation, apply, status subresource, delete") {
  auto c = e2e::client();
  ensure_widget_crd(*c);
  e2e::TestNamespace ns("crd");
  Json w = {{"apiVersion", "e2e.stillontime.app/v1"},
            {"kind", "Widget"},
            {"metadata", {{"name", "w1"}, {"namespace", ns.name()}}},
            {"spec", {{"size", 3}, {"color", "red"}}}};
  auto created = c->apply(kWidgets, {ns.name(), "w1"}, w, ApplyOptions{});
  REQUIRE_MESSAGE(created.ok(), created.error().to_string());
  CHECK((*created)["metadata"]["generation"] == 1);

  Json bad = w;
  bad["spec"]["size"] = 0;
  CHECK(c->apply(kWidgets, {ns.name(), "w1"}, bad, ApplyOptions{}).code() == Code::kInvalid);

  ApplyOptions status_opts;
  status_opts.subresource = "status";
  Json st = {{"apiVersion", "e2e.stillontime.app/v1"},
             {"kind", "Widget"},
             {"metadata", {{"name", "w1"}, {"namespace", ns.name()}}},
             {"status", {{"phase", "Ready"}}}};
  auto status = c->apply(kWidgets, {ns.name(), "w1"}, st, status_opts);
  REQUIRE_MESSAGE(status.ok(), status.error().to_string());
  CHECK((*status)["status"]["phase"] == "Ready");
  CHECK((*status)["metadata"]["generation"] == 1);  // status writes do not bump generation

  PatchOptions po;
  po.subresource = "status";
  auto patched = c->merge_patch(kWidgets, {ns.name(), "w1"}, {{"status", {{"phase", "Degraded"}}}}, po);
  REQUIRE(patched.ok());
  CHECK((*patched)["status"]["phase"] == "Degraded");

  auto merged = c->merge_patch(kWidgets, {ns.name(), "w1"}, {{"spec", {{"color", "blue"}}}}, PatchOptions{});
  REQUIRE(merged.ok());
  CHECK((*merged)["spec"]["color"] == "blue");
  CHECK((*merged)["metadata"]["generation"] == 2);

  CHECK(c->remove(kWidgets, {ns.name(), "w1"}, DeleteOptions{}).ok());
  CHECK(c->get(kWidgets, {ns.name(), "w1"}).code() == Code::kNotFound);
}

TEST_CASE("a watch delivers ADDED, MODIFIED, DELETED and BOOKMARK as they happen") {
  e2e::TestNamespace ns("watch");
  auto c = e2e::client();
  auto list = c->list(e2e::kConfigMap, ns.name(), ListOptions{});
  REQUIRE(list.ok());

  struct Seen {
    EventType type;
    std::string name;
    std::chrono::steady_clock::time_point at;
  };
  std::mutex mu;
  std::vector<Seen> seen;
  Cancellation cancel;
  WatchOptions wo;
  wo.resource_version = (*list)["metadata"]["resourceVersion"];
  wo.timeout_seconds = 6;  // the 1.20 server sends a bookmark shortly before the timeout
  Result<WatchEnd> end = make_error(Code::kInternal, "not finished");
  std::thread watcher([&] {
    auto wc = e2e::client();
    end = wc->watch(
        e2e::kConfigMap, ns.name(), wo,
        [&](WatchEvent&& ev) {
          std::lock_guard lock(mu);
          seen.push_back({ev.type, ev.object["metadata"].value("name", ""), std::chrono::steady_clock::now()});
          return true;
        },
        cancel);
  });
  auto wait_for = [&](EventType type, const std::string& name) {
    return e2e::eventually(
        [&] {
          std::lock_guard lock(mu);
          for (const auto& s : seen) {
            if (s.type == type && s.name == name) return true;
          }
          return false;
        },
        1s);
  };
  std::this_thread::sleep_for(200ms);
  REQUIRE(c->create(e2e::kConfigMap, ns.name(), config_map(ns.name(), "w", {{"a", "1"}})).ok());
  CHECK(wait_for(EventType::kAdded, "w"));
  REQUIRE(c->merge_patch(e2e::kConfigMap, {ns.name(), "w"}, {{"data", {{"a", "2"}}}}, PatchOptions{}).ok());
  CHECK(wait_for(EventType::kModified, "w"));
  REQUIRE(c->remove(e2e::kConfigMap, {ns.name(), "w"}, DeleteOptions{}).ok());
  CHECK(wait_for(EventType::kDeleted, "w"));
  CHECK(e2e::eventually(
      [&] {
        std::lock_guard lock(mu);
        for (const auto& s : seen) {
          if (s.type == EventType::kBookmark) return true;
        }
        return false;
      },
      10s));
  watcher.join();
  REQUIRE_MESSAGE(end.ok(), end.error().to_string());
  CHECK(*end == WatchEnd::kServerClosed);
}

TEST_CASE("a watch is cancelled promptly from another thread") {
  e2e::TestNamespace ns("cancel");
  auto c = e2e::client();
  Cancellation cancel;
  std::atomic<bool> done{false};
  Result<WatchEnd> end = make_error(Code::kInternal, "not finished");
  WatchOptions wo;
  wo.timeout_seconds = 300;
  std::thread watcher([&] {
    end = c->watch(
        resources::config_maps(), ns.name(), wo, [](WatchEvent&&) { return true; }, cancel);
    done = true;
  });
  std::this_thread::sleep_for(500ms);
  CHECK_FALSE(done.load());
  const auto t0 = std::chrono::steady_clock::now();
  cancel.cancel();
  CHECK(e2e::eventually([&] { return done.load(); }, 2s));
  watcher.join();
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  REQUIRE(end.ok());
  CHECK(*end == WatchEnd::kCancelled);
}

TEST_CASE("a watch from a compacted resourceVersion returns Gone") {
  e2e::TestNamespace ns("gone");
  auto c = e2e::client();
  const auto& env = e2e::control_plane().env;
  REQUIRE(env.count("ETCD_ENDPOINT") == 1);
  // PodTemplates bypass the API server's watch cache on the test control plane
  // (--watch-cache-sizes=podtemplates#0), so a watch on them reads etcd itself
  // and sees etcd's compaction, as a watch on any resource does once its
  // resourceVersion falls out of the watch cache's window.
  const ResourceRef templates{"", "v1", "podtemplates", "PodTemplate", true};
  auto pod_template = [&](const std::string& name) {
    return Json{{"apiVersion", "v1"},
                {"kind", "PodTemplate"},
                {"metadata", {{"name", name}, {"namespace", ns.name()}}},
                {"template", {{"spec", {{"containers", {{{"name", "c"}, {"image", "busybox"}}}}}}}}};
  };
  auto first = c->create(templates, ns.name(), pod_template("t0"));
  REQUIRE_MESSAGE(first.ok(), first.error().to_string());
  const std::string old_rv = (*first)["metadata"]["resourceVersion"];
  for (int i = 1; i < 4; ++i) REQUIRE(c->create(templates, ns.name(), pod_template("t" + std::to_string(i))).ok());

  // Compact etcd at its current revision through its HTTP gateway.
  auto rev = e2e::run("curl -fsS -X POST " + env.at("ETCD_ENDPOINT") +
                      "/v3/kv/range -d '{\"key\":\"AA==\"}' | python3 -c 'import json,sys; "
                      "print(json.load(sys.stdin)[\"header\"][\"revision\"])'");
  REQUIRE_MESSAGE(rev.exit_code == 0, rev.output);
  auto compact = e2e::run("curl -fsS -X POST " + env.at("ETCD_ENDPOINT") + "/v3/kv/compaction -d '{\"revision\":\"" +
                          rev.output.substr(0, rev.output.find('\n')) + "\",\"physical\":true}'");
  REQUIRE_MESSAGE(compact.exit_code == 0, compact.output);

  Cancellation cancel;
  WatchOptions wo;
  wo.resource_version = old_rv;
  wo.timeout_seconds = 10;
  int events = 0;
  auto end = c->watch(
      templates, ns.name(), wo, [&](WatchEvent&&) { return ++events < 100; }, cancel);
  CHECK(end.code() == Code::kGone);
  CHECK(events == 0);

  // A list-then-watch from a fresh resourceVersion works again.
  auto list = c->list(templates, ns.name(), ListOptions{});
  REQUIRE(list.ok());
  wo.resource_version = (*list)["metadata"]["resourceVersion"];
  wo.timeout_seconds = 1;
  auto again = c->watch(
      templates, ns.name(), wo, [&](WatchEvent&&) { return true; }, cancel);
  REQUIRE_MESSAGE(again.ok(), again.error().to_string());
}

TEST_CASE("discovery lists served group versions and their resources") {
  auto c = e2e::client();
  auto groups = c->server_groups();
  REQUIRE(groups.ok());
  auto has = [&](const std::string& g, const std::string& v) {
    for (const auto& gv : *groups) {
      if (gv.group == g && gv.version == v) return true;
    }
    return false;
  };
  CHECK(has("", "v1"));
  CHECK(has("apps", "v1"));
  CHECK(has("batch", "v1beta1"));
  CHECK(has("autoscaling", "v2beta2"));
  CHECK(has("policy", "v1beta1"));
  CHECK_FALSE(has("monitoring.coreos.com", "v1"));

  auto batch = c->server_resources("batch", "v1beta1");
  REQUIRE(batch.ok());
  bool cronjobs = false;
  for (const auto& r : *batch) cronjobs = cronjobs || (r.name == "cronjobs" && r.namespaced && r.kind == "CronJob");
  CHECK(cronjobs);
  auto batch_v1 = c->server_resources("batch", "v1");
  REQUIRE(batch_v1.ok());
  for (const auto& r : *batch_v1) CHECK(r.name != "cronjobs");  // CronJob is v1beta1 only on 1.20
  CHECK(c->server_resources("nope.example.com", "v1").code() == Code::kNotFound);
}
