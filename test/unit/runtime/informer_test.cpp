// The informer against the in-memory API server: list then watch, the relist
// diff after a 410, reconnect backoff, label selectors, the cache reader.
#include "runtime/informer.h"

#include <doctest/doctest.h>

#include "runtime/owner.h"
#include "unit/runtime/fakes.h"

using namespace sot;
using namespace sot::runtime;
using namespace std::chrono_literals;
using sot::test::config_map;
using sot::test::eventually;
using sot::test::FakeClock;
using sot::test::FakeKubeClient;

namespace {

const kube::ResourceRef kCm = kube::resources::config_maps();

// Records notifications as "add ns/name", "update ns/name rv->rv", "delete ns/name".
struct Recorder {
  std::mutex mu;
  std::vector<std::string> log;
  std::shared_ptr<EventHandler> handler() {
    auto h = std::make_shared<FuncEventHandler>();
    h->add = [this](const ObjectPtr& o) { push("add " + key_of(*o).to_string()); };
    h->update = [this](const ObjectPtr& a, const ObjectPtr& b) {
      push("update " + key_of(*b).to_string() + " " + a->at("data").value("v", "") + "->" +
           b->at("data").value("v", ""));
    };
    h->remove = [this](const ObjectPtr& o) { push("delete " + key_of(*o).to_string()); };
    return h;
  }
  void push(std::string s) {
    std::lock_guard lock(mu);
    log.push_back(std::move(s));
  }
  std::vector<std::string> take() {
    std::lock_guard lock(mu);
    auto out = log;
    log.clear();
    std::sort(out.begin(), out.end());
    return out;
  }
  std::size_t size() {
    std::lock_guard lock(mu);
    return log.size();
  }
};

InformerOptions cm_options(std::vector<std::string> namespaces = {}, std::string selector = {}) {
  InformerOptions o;
  o.resource = kCm;
  o.namespaces = std::move(namespaces);
  o.label_selector = std::move(selector);
  return o;
}

Json with_managed_fields(Json o) {
  o["metadata"]["managedFields"] = Json::array({{{"manager", "kubectl"}, {"fieldsV1", {{"f:data", Json::object()}}}}});
  o["metadata"]["annotations"] = {{"kubectl.kubernetes.io/last-applied-configuration", "{...}"}, {"keep", "me"}};
  return o;
}

}  // namespace

TEST_CASE("Store::replace reports adds, changed objects and deletions, and leaves other namespaces alone") {
  Store store;
  auto obj = [](std::string ns, std::string name, std::string rv) {
    Json o = config_map(ns, name);
    o["metadata"]["resourceVersion"] = rv;
    return std::make_shared<const Json>(o);
  };
  (void)store.upsert(obj("a", "same", "1"));
  (void)store.upsert(obj("a", "changed", "2"));
  (void)store.upsert(obj("a", "gone", "3"));
  (void)store.upsert(obj("b", "other-ns", "4"));
  auto delta = store.replace("a", {obj("a", "same", "1"), obj("a", "changed", "9"), obj("a", "new", "10")});
  REQUIRE(delta.added.size() == 1);
  CHECK(key_of(*delta.added[0]).name == "new");
  REQUIRE(delta.updated.size() == 1);
  CHECK(resource_version_of(*delta.updated[0].first) == "2");
  CHECK(resource_version_of(*delta.updated[0].second) == "9");
  REQUIRE(delta.deleted.size() == 1);
  CHECK(key_of(*delta.deleted[0]).name == "gone");
  CHECK(store.size() == 4);
  CHECK(store.get({"b", "other-ns"}) != nullptr);
  // Scope "" replaces everything.
  auto all = store.replace("", {});
  CHECK(all.deleted.size() == 4);
  CHECK(store.size() == 0);
}

TEST_CASE("label selectors: equality, inequality, existence, set terms, on JSON and packed labels alike") {
  const Json labels = {{"app", "web"}, {"tier", "front"}, {"env", "prod"}, {"app.kubernetes.io/x", ""}};
  const PackedLabels packed(labels);
  auto m = [&](const char* s) {
    auto sel = LabelSelector::parse(s);
    REQUIRE_MESSAGE(sel.ok(), s);
    const bool on_json = sel->matches(labels);
    CHECK_MESSAGE(sel->matches(packed) == on_json, s);
    return on_json;
  };
  CHECK(m(""));
  CHECK(m("app=web"));
  CHECK(m("app==web,tier=front"));
  CHECK_FALSE(m("app=db"));
  CHECK(m("app!=db"));
  CHECK(m("env"));
  CHECK_FALSE(m("!env"));
  CHECK(m("!missing"));
  CHECK(m("env in (prod, staging)"));
  CHECK_FALSE(m("env notin (prod)"));
  CHECK(m("app.kubernetes.io/x!=y"));
  CHECK(m("app.kubernetes.io/x"));  // an empty value still exists
  CHECK(m("app.kubernetes.io/x="));
  CHECK_FALSE(m("app.kubernetes.io=x"));  // a key that prefixes another does not match it
  CHECK_FALSE(LabelSelector::parse("a=b,,c").ok());
  CHECK_FALSE(LabelSelector::parse("env in prod").ok());
}

TEST_CASE("strip_for_cache drops managedFields and last-applied-configuration only") {
  Json o = with_managed_fields(config_map("ns", "x"));
  strip_for_cache(o);
  CHECK_FALSE(o["metadata"].contains("managedFields"));
  CHECK(o["metadata"]["annotations"] == Json{{"keep", "me"}});
}

TEST_CASE("informer lists, then sees adds, updates and deletes from the watch; the cache is stripped") {
  FakeClock clock;
  FakeKubeClient api;
  (void)api.put(kCm, with_managed_fields(config_map("ns", "one", {{"v", "1"}})));
  Recorder rec;
  Informer inf(api, clock, cm_options());
  inf.add_handler(rec.handler());
  CHECK_FALSE(inf.has_synced());
  inf.start();
  REQUIRE(eventually([&] { return inf.has_synced(); }));
  CHECK(rec.take() == std::vector<std::string>{"add ns/one"});
  auto cached = inf.cache().get({"ns", "one"});
  REQUIRE(cached);
  CHECK_FALSE((*cached)["metadata"].contains("managedFields"));
  CHECK((*cached)["kind"] == "ConfigMap");

  REQUIRE(eventually([&] { return api.active_watches() == 1; }));
  (void)api.put(kCm, config_map("ns", "two", {{"v", "1"}}));
  (void)api.put(kCm, config_map("ns", "one", {{"v", "2"}}));
  api.erase(kCm, {"ns", "two"});
  REQUIRE(eventually([&] { return rec.size() == 3; }));
  CHECK(rec.take() == std::vector<std::string>{"add ns/two", "delete ns/two", "update ns/one 1->2"});
  CHECK(inf.cache().size() == 1);
  CHECK((*inf.cache().get({"ns", "one"}))["data"]["v"] == "2");
  inf.stop();
}

TEST_CASE("after a 410 the informer relists and notifies exactly what changed while it was away") {
  FakeClock clock;
  FakeKubeClient api;
  for (auto n : {"keep", "change", "drop"}) (void)api.put(kCm, config_map("ns", n, {{"v", "1"}}));
  Recorder rec;
  Informer inf(api, clock, cm_options());
  inf.add_handler(rec.handler());
  inf.start();
  REQUIRE(eventually([&] { return inf.has_synced() && api.active_watches() == 1; }));
  (void)rec.take();

  // The connection drops; changes happen; history is compacted away.
  api.set_unavailable(true);
  REQUIRE(clock.wait_for_waiters(1));  // the reflector is backing off
  api.set_unavailable(false);
  (void)api.put(kCm, config_map("ns", "change", {{"v", "2"}}));
  api.erase(kCm, {"ns", "drop"});
  (void)api.put(kCm, config_map("ns", "new", {{"v", "1"}}));
  api.compact();
  const int lists_before = api.count("list");
  clock.advance(31s);  // past any backoff

  REQUIRE(eventually([&] { return rec.size() == 3; }));
  CHECK(rec.take() == std::vector<std::string>{"add ns/new", "delete ns/drop", "update ns/change 1->2"});
  CHECK(api.count("list") == lists_before + 1);
  std::vector<std::string> names;
  for (const auto& o : inf.cache().list("ns")) names.push_back(key_of(*o).name);
  CHECK(names == std::vector<std::string>{"change", "keep", "new"});
  inf.stop();
}

TEST_CASE("a dropped watch resumes from the last resourceVersion without a relist") {
  FakeClock clock;
  FakeKubeClient api;
  Recorder rec;
  Informer inf(api, clock, cm_options());
  inf.add_handler(rec.handler());
  inf.start();
  REQUIRE(eventually([&] { return api.active_watches() == 1; }));
  (void)api.put(kCm, config_map("ns", "a", {{"v", "1"}}));
  REQUIRE(eventually([&] { return rec.size() == 1; }));
  api.break_watches();
  REQUIRE(clock.wait_for_waiters(1));
  (void)api.put(kCm, config_map("ns", "b", {{"v", "1"}}));  // while disconnected
  // The reconnect waits between 0.8 s and 1.6 s.
  auto deadline = clock.next_deadline();
  REQUIRE(deadline);
  CHECK(*deadline - clock.now() >= Duration(800ms));
  CHECK(*deadline - clock.now() <= Duration(1600ms));
  clock.advance(*deadline - clock.now());
  REQUIRE(eventually([&] { return rec.size() == 2; }));
  CHECK(rec.take() == std::vector<std::string>{"add ns/a", "add ns/b"});
  CHECK(api.count("list") == 1);
  // A server-side close (the watch timeout) reconnects at once.
  api.close_watches();
  REQUIRE(eventually([&] { return api.count("watch") == 3 && api.active_watches() == 1; }));
  inf.stop();
}

TEST_CASE("a failing list backs off and retries; has_synced waits for it") {
  FakeClock clock;
  FakeKubeClient api;
  api.set_unavailable(true);
  Informer inf(api, clock, cm_options());
  inf.start();
  REQUIRE(clock.wait_for_waiters(1));
  CHECK_FALSE(inf.has_synced());
  api.set_unavailable(false);
  clock.advance(2s);
  REQUIRE(eventually([&] { return inf.has_synced(); }));
  inf.stop();
}

TEST_CASE("namespaced informers with a selector cache only their scope") {
  FakeClock clock;
  FakeKubeClient api;
  const Json mine = {{"app.kubernetes.io/managed-by", "stillontime-operator"}};
  (void)api.put(kCm, config_map("a", "x", {}, mine));
  (void)api.put(kCm, config_map("b", "y", {}, mine));
  (void)api.put(kCm, config_map("c", "z", {}, mine));
  (void)api.put(kCm, config_map("a", "unlabelled"));
  Informer inf(api, clock, cm_options({"a", "b"}, "app.kubernetes.io/managed-by=stillontime-operator"));
  inf.start();
  REQUIRE(eventually([&] { return inf.has_synced(); }));
  CHECK(inf.cache().size() == 2);
  CHECK(inf.cache().get({"a", "x"}) != nullptr);
  CHECK(inf.cache().get({"c", "z"}) == nullptr);
  CHECK(inf.cache().list("b").size() == 1);
  auto sel = LabelSelector::parse("app.kubernetes.io/managed-by");
  CHECK(inf.cache().list("", &*sel).size() == 2);
  inf.stop();
}

TEST_CASE("a child maps to its owner by controller ownerReference first, by the owner label otherwise") {
  constexpr const char* kOwnerLabel = "example.com/owner";
  Json child = config_map("team", "web-backend");
  CHECK_FALSE(owner_key(child, "StillOnTime", "", kOwnerLabel).has_value());
  child["metadata"]["labels"][kOwnerLabel] = "crs.prod";
  CHECK(owner_key(child, "StillOnTime", "", kOwnerLabel) == kube::ObjectKey{"crs", "prod"});
  CHECK_FALSE(owner_key(child, "StillOnTime").has_value());  // no owner label named: references only
  child["metadata"]["ownerReferences"] = Json::array(
      {{{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}, {"name", "rs"}, {"controller", true}},
       {{"apiVersion", "stillontime.app/v1alpha1"}, {"kind", "StillOnTime"}, {"name", "notctl"}},
       {{"apiVersion", "stillontime.app/v1alpha1"}, {"kind", "StillOnTime"}, {"name", "web"}, {"controller", true}}});
  CHECK(owner_key(child, "StillOnTime", "stillontime.app", kOwnerLabel) == kube::ObjectKey{"team", "web"});
  CHECK(owner_key(child, "StillOnTime", "other.group", kOwnerLabel) == kube::ObjectKey{"crs", "prod"});
  CHECK(parse_owner_label("no-dot") == std::nullopt);
  CHECK(owner_label_value({"a", "b.c"}) == "a.b.c");
  CHECK(parse_owner_label("a.b.c") == kube::ObjectKey{"a", "b.c"});
}
