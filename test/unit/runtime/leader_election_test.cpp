// Leader election against the in-memory API server on a fake clock.
#include "runtime/leader_election.h"

#include <doctest/doctest.h>

#include "runtime/metrics.h"
#include "unit/runtime/fakes.h"

using namespace sot;
using namespace sot::runtime;
using namespace std::chrono_literals;
using sot::test::eventually;
using sot::test::FakeClock;
using sot::test::FakeKubeClient;

namespace {

LeaderElectionOptions opts(std::string id) {
  LeaderElectionOptions o;
  o.lease_namespace = "ops";
  o.lease_name = "test-operator";
  o.identity = std::move(id);
  return o;
}

std::string holder(FakeKubeClient& api) {
  auto l = api.stored(kube::resources::leases(), {"ops", "test-operator"});
  return l ? (*l)["spec"].value("holderIdentity", "") : "<none>";
}

}  // namespace

TEST_CASE("the first candidate creates the lease; another cannot take it while it is renewed") {
  FakeClock clock;
  FakeKubeClient api;
  prometheus::Registry registry;
  auto& gauge = make_leader_gauge(registry, "test-operator");
  LeaderElector a(api, clock, opts("a"), {}, Logger(), &gauge);
  LeaderElector b(api, clock, opts("b"), {});
  CHECK(a.try_acquire_or_renew());
  CHECK(holder(api) == "a");
  auto lease = *api.stored(kube::resources::leases(), {"ops", "test-operator"});
  CHECK(lease["spec"]["leaseDurationSeconds"] == 15);
  CHECK(parse_time(lease["spec"]["renewTime"]).has_value());
  CHECK_FALSE(b.try_acquire_or_renew());
  clock.advance(10s);
  CHECK(a.try_acquire_or_renew());  // renewed: the record changed
  CHECK_FALSE(b.try_acquire_or_renew());
  clock.advance(14s);
  CHECK_FALSE(b.try_acquire_or_renew());  // 14 s since b saw a change
  clock.advance(2s);
  CHECK(b.try_acquire_or_renew());  // unchanged for a whole lease duration
  CHECK(holder(api) == "b");
  auto taken = *api.stored(kube::resources::leases(), {"ops", "test-operator"});
  CHECK(taken["spec"]["leaseTransitions"] == 1);
  CHECK(gauge.Value() == 0);
}

TEST_CASE("run leads, renews every retry period, and releases the lease on stop") {
  FakeClock clock;
  FakeKubeClient api;
  std::atomic<int> started{0};
  std::atomic<int> stopped{0};
  LeaderElector a(api, clock, opts("a"), {[&] { started++; }, [&] { stopped++; }, nullptr});
  StopSignal stop(clock);
  std::atomic<bool> result{false};
  std::thread t([&] { result = a.run(stop); });
  REQUIRE(eventually([&] { return a.is_leader(); }));
  CHECK(started == 1);
  const int updates_before = api.count("update");
  for (int i = 0; i < 3; ++i) {
    REQUIRE(clock.wait_for_waiters(1));
    clock.advance(2s);
    REQUIRE(eventually([&] { return api.count("update") == updates_before + i + 1; }));
  }
  stop.stop();
  t.join();
  CHECK(result);
  CHECK(stopped == 1);
  CHECK(holder(api) == "");
  // A standby takes a released lease at its next try.
  LeaderElector b(api, clock, opts("b"), {});
  CHECK(b.try_acquire_or_renew());
}

TEST_CASE("a leader that cannot renew within the renew deadline stops leading") {
  FakeClock clock;
  FakeKubeClient api;
  std::atomic<int> stopped{0};
  LeaderElector a(api, clock, opts("a"), {nullptr, [&] { stopped++; }, nullptr});
  StopSignal stop(clock);
  std::atomic<bool> result{true};
  std::thread t([&] { result = a.run(stop); });
  REQUIRE(eventually([&] { return a.is_leader(); }));
  api.set_unavailable(true);
  // Renew attempts every 2 s; after 10 s without success leadership ends.
  int rounds = 0;
  while (a.is_leader() && rounds < 20) {
    REQUIRE(eventually([&] { return clock.waiters() >= 1 || !a.is_leader(); }));
    if (!a.is_leader()) break;
    clock.advance(*clock.next_deadline() - clock.now());
    ++rounds;
  }
  CHECK(rounds == 6);  // the first renew at 2 s, then 5 failed attempts until 12 s
  t.join();
  CHECK_FALSE(result);
  CHECK_FALSE(a.is_leader());
  CHECK(stopped == 1);
}

TEST_CASE("every Lease request ends by the renew deadline, so a hung API server cannot keep a leader") {
  FakeClock clock;
  FakeKubeClient api;
  LeaderElector a(api, clock, opts("a"), {});
  StopSignal stop(clock);
  std::thread t([&] { (void)a.run(stop); });
  REQUIRE(eventually([&] { return a.is_leader(); }));
  const std::size_t before = api.calls().size();
  api.set_unavailable(true);
  while (a.is_leader()) {
    REQUIRE(eventually([&] { return clock.waiters() >= 1 || !a.is_leader(); }));
    if (!a.is_leader()) break;
    clock.advance(*clock.next_deadline() - clock.now());
  }
  t.join();
  // The failed round: attempts at 0, 2, 4, 6 and 8 s of its 10 s, each bounded
  // by what was left (a transport times out there instead of after 30 s).
  std::vector<double> left;
  const auto calls = api.calls();
  for (std::size_t i = before; i < calls.size(); ++i) {
    REQUIRE(calls[i].plural == "leases");
    REQUIRE(calls[i].time_left.has_value());
    left.push_back(std::chrono::duration<double>(*calls[i].time_left).count());
  }
  REQUIRE(left.size() == 5);
  for (std::size_t i = 0; i < left.size(); ++i) {
    CHECK(left[i] <= 10.0 - 2.0 * static_cast<double>(i));
    CHECK(left[i] > 10.0 - 2.0 * static_cast<double>(i) - 0.5);
  }
  // Acquiring and renewing calls carried a deadline too; none ran unbounded.
  for (const auto& c : calls) CHECK(c.time_left.has_value());
}

TEST_CASE("a conflict on update means someone else won") {
  FakeClock clock;
  FakeKubeClient api;
  LeaderElector a(api, clock, opts("a"), {});
  REQUIRE(a.try_acquire_or_renew());
  api.fail_next_update.push_back(kube::make_error(kube::Code::kConflict, "modified", 409));
  CHECK_FALSE(a.try_acquire_or_renew());
}

TEST_CASE("identity is the pod name or host name plus a random suffix") {
  setenv("POD_NAME", "op-7d9f", 1);
  const std::string id1 = default_identity();
  const std::string id2 = default_identity();
  CHECK(id1.rfind("op-7d9f_", 0) == 0);
  CHECK(id1 != id2);
  unsetenv("POD_NAME");
  CHECK(default_identity().find('_') != std::string::npos);
}
