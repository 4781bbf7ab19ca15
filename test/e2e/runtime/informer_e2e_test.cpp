// The informer against a real kube-apiserver: latency of notifications,
// resuming after an API server restart without missing changes, and a forced
// 410 leading to a relist with the right notifications.
#include <algorithm>
#include <atomic>
#include <mutex>

#include <doctest/doctest.h>

#include "e2e/support.h"
#include "runtime/informer.h"

using namespace sot;
using namespace sot::runtime;
using namespace std::chrono_literals;
using kube::Json;

namespace {

Json config_map(const std::string& ns, const std::string& name, const std::string& v) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"data", {{"v", v}}}};
}

// Notifications with the time they arrived.
struct Recorder {
  std::mutex mu;
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> log;
  std::shared_ptr<EventHandler> handler() {
    auto h = std::make_shared<FuncEventHandler>();
    auto v = [](const ObjectPtr& o) { return o->value("data", Json::object()).value("v", ""); };
    h->add = [this, v](const ObjectPtr& o) { push("add " + key_of(*o).name + " " + v(o)); };
    h->update = [this, v](const ObjectPtr& a, const ObjectPtr& b) {
      if (v(a) != v(b)) push("update " + key_of(*b).name + " " + v(a) + "->" + v(b));
    };
    h->remove = [this](const ObjectPtr& o) { push("delete " + key_of(*o).name); };
    return h;
  }
  void push(std::string s) {
    std::lock_guard lock(mu);
    log.emplace_back(std::move(s), std::chrono::steady_clock::now());
  }
  std::optional<std::chrono::steady_clock::time_point> seen(const std::string& s) {
    std::lock_guard lock(mu);
    for (const auto& [e, t] : log) {
      if (e == s) return t;
    }
    return std::nullopt;
  }
  std::vector<std::string> since(std::size_t from) {
    std::lock_guard lock(mu);
    std::vector<std::string> out;
    for (std::size_t i = from; i < log.size(); ++i) out.push_back(log[i].first);
    std::sort(out.begin(), out.end());
    return out;
  }
  std::size_t size() {
    std::lock_guard lock(mu);
    return log.size();
  }
};

// Delegates to the real client; lets a test drop watch events on the floor
// (a connection that silently lost them), cut the running watch, and make the
// next watch start from resourceVersion 1, which the server answers with 410.
class MeddlingClient final : public kube::KubeClient {
 public:
  explicit MeddlingClient(kube::KubeClient& real) : real_(real) {}
  std::atomic<bool> drop_events{false};
  std::atomic<bool> expire_next_watch{false};
  std::atomic<int> gone_seen{0};

  void cut_watch() {
    std::lock_guard lock(mu_);
    if (inner_ != nullptr) inner_->cancel();
  }

  kube::Result<Json> get(const kube::ResourceRef& r, const kube::ObjectKey& k) override { return real_.get(r, k); }
  kube::Result<Json> list(const kube::ResourceRef& r, std::string_view ns, const kube::ListOptions& o) override {
    return real_.list(r, ns, o);
  }
  kube::Result<Json> create(const kube::ResourceRef& r, std::string_view ns, const Json& o) override {
    return real_.create(r, ns, o);
  }
  kube::Result<Json> apply(const kube::ResourceRef& r, const kube::ObjectKey& k, const Json& o,
                           const kube::ApplyOptions& a) override {
    return real_.apply(r, k, o, a);
  }
  kube::Result<Json> merge_patch(const kube::ResourceRef& r, const kube::ObjectKey& k, const Json& p,
                                 const kube::PatchOptions& o) override {
    return real_.merge_patch(r, k, p, o);
  }
  kube::Result<Json> update(const kube::ResourceRef& r, const Json& o, const kube::UpdateOptions& u) override {
    return real_.update(r, o, u);
  }
  kube::Status remove(const kube::ResourceRef& r, const kube::ObjectKey& k, const kube::DeleteOptions& d) override {
    return real_.remove(r, k, d);
  }
  kube::Result<kube::WatchEnd> watch(const kube::ResourceRef& r, std::string_view ns, const kube::WatchOptions& o,
                                     const kube::WatchHandler& h, kube::Cancellation& cancel) override {
    kube::WatchOptions opts = o;
    if (expire_next_watch.exchange(false)) opts.resource_version = "1";
    kube::Cancellation inner;
    const auto link = cancel.on_cancel([&inner] { inner.cancel(); });
    {
      std::lock_guard lock(mu_);
      inner_ = &inner;
    }
    auto end = real_.watch(
        r, ns, opts, [&](kube::WatchEvent&& ev) { return drop_events ? true : h(std::move(ev)); }, inner);
    {
      std::lock_guard lock(mu_);
      inner_ = nullptr;
    }
    cancel.remove(link);
    if (end.code() == kube::Code::kGone) gone_seen++;
    // Our cut looks like a dropped connection to the informer.
    if (end.ok() && *end == kube::WatchEnd::kCancelled && !cancel.cancelled()) {
      return kube::make_error(kube::Code::kUnavailable, "connection reset (cut by test)");
    }
    return end;
  }
  kube::Result<std::vector<kube::GroupVersion>> server_groups() override { return real_.server_groups(); }
  kube::Result<std::vector<kube::ApiResource>> server_resources(std::string_view g, std::string_view v) override {
    return real_.server_resources(g, v);
  }
  kube::Result<Json> server_version() override { return real_.server_version(); }

 private:
  kube::KubeClient& real_;
  std::mutex mu_;
  kube::Cancellation* inner_ = nullptr;
};

InformerOptions cm_informer(const std::string& ns) {
  InformerOptions o;
  o.resource = e2e::kConfigMap;
  o.namespaces = {ns};
  return o;
}

}  // namespace

TEST_CASE("an informer sees creates, updates and deletes within 1 s") {
  e2e::TestNamespace ns("rt-informer");
  auto c = e2e::client();
  Recorder rec;
  Informer inf(*c, real_clock(), cm_informer(ns.name()));
  inf.add_handler(rec.handler());
  inf.start();
  REQUIRE(e2e::eventually([&] { return inf.has_synced(); }, 10s));
  std::this_thread::sleep_for(200ms);  // the watch is established

  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(c->create(e2e::kConfigMap, ns.name(), config_map(ns.name(), "a", "1")).ok());
  REQUIRE(e2e::eventually([&] { return rec.seen("add a 1").has_value(); }, 5s));
  const auto create_latency = *rec.seen("add a 1") - t0;

  t0 = std::chrono::steady_clock::now();
  REQUIRE(c->merge_patch(e2e::kConfigMap, {ns.name(), "a"}, {{"data", {{"v", "2"}}}}, kube::PatchOptions{}).ok());
  REQUIRE(e2e::eventually([&] { return rec.seen("update a 1->2").has_value(); }, 5s));
  const auto update_latency = *rec.seen("update a 1->2") - t0;

  t0 = std::chrono::steady_clock::now();
  REQUIRE(c->remove(e2e::kConfigMap, {ns.name(), "a"}, kube::DeleteOptions{}).ok());
  REQUIRE(e2e::eventually([&] { return rec.seen("delete a").has_value(); }, 5s));
  const auto delete_latency = *rec.seen("delete a") - t0;

  MESSAGE("latency ms: create " << std::chrono::duration<double, std::milli>(create_latency).count() << ", update "
                                << std::chrono::duration<double, std::milli>(update_latency).count() << ", delete "
                                << std::chrono::duration<double, std::milli>(delete_latency).count());
  CHECK(create_latency < 1s);
  CHECK(update_latency < 1s);
  CHECK(delete_latency < 1s);
  CHECK(inf.cache().get({ns.name(), "a"}) == nullptr);
  inf.stop();
}

TEST_CASE("after an API server restart the informer resumes and misses nothing") {
  e2e::TestNamespace ns("rt-restart");
  auto c = e2e::client();
  for (auto n : {"keep", "change", "drop"})
    REQUIRE(c->create(e2e::kConfigMap, ns.name(), config_map(ns.name(), n, "1")).ok());
  Recorder rec;
  Informer inf(*c, real_clock(), cm_informer(ns.name()));
  inf.add_handler(rec.handler());
  inf.start();
  REQUIRE(e2e::eventually([&] { return inf.has_synced(); }, 10s));
  const std::size_t mark = rec.size();

  const auto& cp = e2e::control_plane();
  auto restart = e2e::run("bash " STILLONTIME_SOURCE_DIR "/scripts/control-plane.sh restart-apiserver --dir " + cp.dir +
                          " --pause 2");
  REQUIRE_MESSAGE(restart.exit_code == 0, restart.output);
  // Changed right after the server is back, while the informer is still
  // disconnected (backing off from the failed reconnects).
  auto c2 = e2e::client();
  REQUIRE(e2e::eventually([&] { return c2->get(e2e::kConfigMap, {ns.name(), "keep"}).ok(); }, 30s));
  REQUIRE(c2->merge_patch(e2e::kConfigMap, {ns.name(), "change"}, {{"data", {{"v", "2"}}}}, kube::PatchOptions{}).ok());
  REQUIRE(c2->remove(e2e::kConfigMap, {ns.name(), "drop"}, kube::DeleteOptions{}).ok());
  REQUIRE(c2->create(e2e::kConfigMap, ns.name(), config_map(ns.name(), "new", "1")).ok());

  const std::vector<std::string> expected{"add new 1", "delete drop", "update change 1->2"};
  const bool all_seen = e2e::eventually([&] { return rec.since(mark) == expected; }, 45s);
  CHECK_MESSAGE(
      all_seen, "notifications: " << [&] {
        std::string s;
        for (const auto& e : rec.since(mark)) s += e + "; ";
        return s;
      }());
  std::vector<std::string> cached;
  for (const auto& o : inf.cache().list(ns.name())) cached.push_back(key_of(*o).name);
  CHECK(cached == std::vector<std::string>{"change", "keep", "new"});
  // And it keeps watching.
  REQUIRE(c2->create(e2e::kConfigMap, ns.name(), config_map(ns.name(), "after", "1")).ok());
  CHECK(e2e::eventually([&] { return rec.seen("add after 1").has_value(); }, 5s));
  inf.stop();
}

TEST_CASE("a forced 410 Gone makes the informer relist and notify exactly what it missed") {
  e2e::TestNamespace ns("rt-gone");
  auto real = e2e::client();
  MeddlingClient c(*real);
  for (auto n : {"keep", "change", "drop"})
    REQUIRE(real->create(e2e::kConfigMap, ns.name(), config_map(ns.name(), n, "1")).ok());
  Recorder rec;
  Informer inf(c, real_clock(), cm_informer(ns.name()));
  inf.add_handler(rec.handler());
  inf.start();
  REQUIRE(e2e::eventually([&] { return inf.has_synced(); }, 10s));
  std::this_thread::sleep_for(300ms);
  const std::size_t mark = rec.size();
  const auto lists_before = inf.list_count();

  // Events are lost on the way...
  c.drop_events = true;
  REQUIRE(
      real->merge_patch(e2e::kConfigMap, {ns.name(), "change"}, {{"data", {{"v", "2"}}}}, kube::PatchOptions{}).ok());
  REQUIRE(real->remove(e2e::kConfigMap, {ns.name(), "drop"}, kube::DeleteOptions{}).ok());
  REQUIRE(real->create(e2e::kConfigMap, ns.name(), config_map(ns.name(), "new", "1")).ok());
  std::this_thread::sleep_for(500ms);
  CHECK(rec.size() == mark);
  // ...then the connection drops and the resourceVersion has expired.
  c.expire_next_watch = true;
  c.drop_events = false;
  c.cut_watch();

  const std::vector<std::string> expected{"add new 1", "delete drop", "update change 1->2"};
  CHECK(e2e::eventually([&] { return rec.since(mark) == expected; }, 15s));
  CHECK(c.gone_seen >= 1);
  CHECK(inf.list_count() == lists_before + 1);
  REQUIRE(real->create(e2e::kConfigMap, ns.name(), config_map(ns.name(), "after", "1")).ok());
  CHECK(e2e::eventually([&] { return rec.seen("add after 1").has_value(); }, 5s));
  inf.stop();
}
