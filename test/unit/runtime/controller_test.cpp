// Controllers: what each reconcile result does to the queue, resync, and the
// guarantee of one worker per key with several workers running.
#include "runtime/controller.h"

#include <doctest/doctest.h>

#include "unit/runtime/fakes.h"

using namespace sot;
using namespace sot::runtime;
using namespace std::chrono_literals;
using sot::test::config_map;
using sot::test::eventually;
using sot::test::FakeClock;
using sot::test::FakeKubeClient;

namespace {

struct NoCaches final : CacheProvider {
  const CacheReader* cache_for(const kube::ResourceRef&) const override { return nullptr; }
};

// Answers from a script and records every call.
class ScriptedReconciler final : public Reconciler {
 public:
  std::function<ReconcileResult(const ObjectKey&, Context&)> fn;
  std::atomic<int> calls{0};
  ReconcileResult reconcile(const ObjectKey& key, Context& ctx) override {
    calls++;
    return fn ? fn(key, ctx) : ReconcileResult::done();
  }
};

struct Fixture {
  FakeClock clock;
  FakeKubeClient api;
  NoCaches caches;
  prometheus::Registry registry;
  ScriptedReconciler* reconciler = nullptr;
  std::unique_ptr<Controller> controller;

  explicit Fixture(int workers = 1, Duration resync = Duration::zero()) {
    auto r = std::make_unique<ScriptedReconciler>();
    reconciler = r.get();
    ControllerOptions o;
    o.name = "test";
    o.max_concurrent_reconciles = workers;
    o.resync_period = resync;
    o.rate_limiter = std::make_unique<ExponentialRateLimiter>(5ms, 1000s);
    controller = std::make_unique<Controller>(std::move(o), std::move(r),
                                              ControllerDeps{api, clock, caches, nullptr, Logger(), &registry});
  }
  double total(const std::string& result) {
    return make_controller_metrics(registry, "test").reconcile_success->Value() * (result == "success") +
           make_controller_metrics(registry, "test").reconcile_error->Value() * (result == "error") +
           make_controller_metrics(registry, "test").reconcile_requeue_after->Value() * (result == "requeue_after");
  }
};

const ObjectKey kA{"ns", "a"};

}  // namespace

TEST_CASE("an error retries the key with growing backoff; success forgets it") {
  Fixture f;
  int fail = 3;
  f.reconciler->fn = [&](const ObjectKey&, Context& ctx) {
    CHECK(!ctx.reconcile_id().empty());
    if (fail-- > 0) return ReconcileResult::failed(kube::make_error(kube::Code::kUnavailable, "boom"));
    return ReconcileResult::done();
  };
  f.controller->queue().add(kA);
  REQUIRE(f.controller->process_next(f.clock.now()));
  for (Duration d : {Duration(5ms), Duration(10ms), Duration(20ms)}) {
    REQUIRE(f.controller->queue().next_ready().has_value());
    CHECK(*f.controller->queue().next_ready() - f.clock.now() == d);
    CHECK_FALSE(f.controller->process_next(f.clock.now()));
    f.clock.advance(d);
    REQUIRE(f.controller->process_next(f.clock.now()));
  }
  CHECK(f.reconciler->calls == 4);
  CHECK(f.controller->queue().num_requeues(kA) == 0);
  CHECK(f.total("error") == 3);
  CHECK(f.total("success") == 1);
  CHECK(make_controller_metrics(f.registry, "test").reconcile_errors->Value() == 3);
}

TEST_CASE("requeue_after runs the key again after exactly that long") {
  Fixture f;
  f.reconciler->fn = [](const ObjectKey&, Context&) { return ReconcileResult::after(90s); };
  f.controller->queue().add(kA);
  REQUIRE(f.controller->process_next(f.clock.now()));
  f.clock.advance(89s);
  CHECK_FALSE(f.controller->process_next(f.clock.now()));
  f.clock.advance(1s);
  CHECK(f.controller->process_next(f.clock.now()));
  CHECK(f.total("requeue_after") == 2);
}

TEST_CASE("a throwing reconciler counts as an error and the worker survives") {
  Fixture f;
  f.reconciler->fn = [](const ObjectKey&, Context&) -> ReconcileResult { throw std::runtime_error("bug"); };
  f.controller->queue().add(kA);
  REQUIRE(f.controller->process_next(f.clock.now()));
  CHECK(f.total("error") == 1);
  CHECK(f.controller->queue().delayed_len() == 1);
}

TEST_CASE("with several workers one key is never reconciled twice at once, and an add during a run runs once more") {
  Fixture f(4);
  std::mutex mu;
  std::map<ObjectKey, int> running;
  std::atomic<int> overlap{0};
  std::atomic<bool> readded{false};
  f.reconciler->fn = [&](const ObjectKey& key, Context&) {
    {
      std::lock_guard lock(mu);
      if (++running[key] > 1) overlap++;
    }
    if (key == kA && !readded.exchange(true)) f.controller->queue().add(kA);  // while running
    std::this_thread::sleep_for(1ms);
    {
      std::lock_guard lock(mu);
      --running[key];
    }
    return ReconcileResult::done();
  };
  f.controller->start();
  for (int i = 0; i < 200; ++i) f.controller->queue().add(ObjectKey{"ns", i % 2 ? "a" : "b"});
  REQUIRE(eventually([&] {
    return f.controller->queue().len() == 0 && f.controller->queue().processing_len() == 0 && f.reconciler->calls >= 3;
  }));
  CHECK(f.controller->stop(5s));
  CHECK(overlap == 0);
  CHECK(make_controller_metrics(f.registry, "test").max_concurrent->Value() == 4);
}

TEST_CASE("resync re-queues every key of the primary cache each period") {
  Fixture f(1, 10min);
  Store primary;
  for (auto n : {"x", "y", "z"}) (void)primary.upsert(std::make_shared<const Json>(config_map("ns", n)));
  f.controller->set_primary_cache(&primary);
  f.controller->start();
  // Parked: one worker in get(), the resync timer.
  REQUIRE(f.clock.wait_for_waiters(2));
  f.clock.advance(9min);
  REQUIRE(f.clock.wait_for_waiters(2));
  CHECK(f.reconciler->calls == 0);
  f.clock.advance(2min);  // past 10 min + up to 10 % jitter
  REQUIRE(eventually([&] { return f.reconciler->calls == 3; }));
  CHECK(f.controller->stop(5s));
}

TEST_CASE("stop lets a running reconcile finish within the grace period") {
  Fixture f(1);
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  std::atomic<bool> release{false};
  f.reconciler->fn = [&](const ObjectKey&, Context&) {
    started = true;
    while (!release) std::this_thread::sleep_for(1ms);
    finished = true;
    return ReconcileResult::done();
  };
  f.controller->start();
  f.controller->queue().add(kA);
  REQUIRE(eventually([&] { return started.load(); }));
  std::thread releaser([&] {
    std::this_thread::sleep_for(20ms);
    release = true;
  });
  // The fake clock never reaches the deadline: stop returns when the reconcile ends.
  CHECK(f.controller->stop(30s));
  CHECK(finished);
  releaser.join();
  f.controller->queue().add(kA);  // no more work after stop
  CHECK(f.controller->queue().len() == 0);
}

TEST_CASE("only_status_changed: status, resourceVersion and managedFields alone do not count") {
  Json before = config_map("ns", "a");
  before["metadata"]["resourceVersion"] = "1";
  before["status"] = {{"phase", "Progressing"}};
  Json after = before;
  after["metadata"]["resourceVersion"] = "2";
  after["metadata"]["managedFields"] = Json::array({{{"manager", "x"}}});
  after["status"]["phase"] = "Ready";
  CHECK(only_status_changed(before, after));
  after.erase("status");
  CHECK(only_status_changed(before, after));
  Json spec = after;
  spec["data"]["k"] = "changed";
  CHECK_FALSE(only_status_changed(before, spec));
  Json finalizer = after;
  finalizer["metadata"]["finalizers"] = Json::array({"x"});
  CHECK_FALSE(only_status_changed(before, finalizer));
  Json deleting = after;
  deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  CHECK_FALSE(only_status_changed(before, deleting));
  Json generation = after;
  generation["metadata"]["generation"] = 7;
  CHECK_FALSE(only_status_changed(before, generation));
  Json labelled = after;
  labelled["metadata"]["labels"]["new"] = "x";
  CHECK_FALSE(only_status_changed(before, labelled));
  CHECK_FALSE(only_status_changed(labelled, before));
  CHECK_FALSE(only_status_changed(Json(), after));
}

TEST_CASE("enqueue_self skips status-only updates when asked, and queues everything else") {
  Fixture f(1);
  Json before = config_map("ns", "a");
  before["metadata"]["resourceVersion"] = "1";
  Json status_only = before;
  status_only["metadata"]["resourceVersion"] = "2";
  status_only["status"] = {{"phase", "Ready"}};
  Json edited = status_only;
  edited["data"]["k"] = "v2";
  auto skipping = f.controller->enqueue_self(true);
  auto plain = f.controller->enqueue_self(false);
  auto ptr = [](const Json& j) { return std::make_shared<const Json>(j); };

  skipping->on_update(ptr(before), ptr(status_only));
  CHECK(f.controller->queue().len() == 0);
  skipping->on_update(ptr(status_only), ptr(edited));
  CHECK(f.controller->queue().len() == 1);
  auto g = f.controller->queue().get();
  REQUIRE(g);
  f.controller->queue().done(*g);
  plain->on_update(ptr(before), ptr(status_only));
  CHECK(f.controller->queue().len() == 1);
}

TEST_CASE("owned objects' events can reach the queue after a delay, a burst making one entry") {
  Fixture f(1);
  Json child = config_map("ns", "child");
  child["metadata"]["labels"] = {{"example.com/owner", "ns.a"}};
  child["metadata"]["ownerReferences"] =
      Json::array({{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"name", "a"}, {"uid", "u"}, {"controller", true}}});
  auto handler = f.controller->enqueue_owner("ConfigMap", "", "example.com/owner", 200ms);
  auto ptr = std::make_shared<const Json>(child);
  for (int i = 0; i < 5; ++i) handler->on_add(ptr);
  CHECK(f.controller->queue().len() == 0);
  CHECK(f.controller->queue().delayed_len() == 1);
  f.clock.advance(250ms);
  auto key = f.controller->queue().get_until(f.clock.now());
  REQUIRE(key);
  CHECK(*key == ObjectKey{"ns", "a"});
  f.controller->queue().done(*key);
  CHECK(f.controller->queue().len() + f.controller->queue().delayed_len() == 0);
}
