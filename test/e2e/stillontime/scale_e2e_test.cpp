// 1,000 StillOnTime resources in one namespace against the real kube-apiserver
// (docs/reliability.md, "Operator under faults and scale"). Each resource in
// its own namespace is a full install of about 25 children, so the trial mixes
// what a crowded namespace holds: a few installs, resources refused as
// invalid, and paused ones (the operator reports on them and touches nothing).
// A watch counts every change of every resource: each status is written once.
// Then the operator rests (no writes), and a restarted operator, reconciling
// all 1,000 again from its caches, writes nothing. Memory and time are printed
// (MESSAGE lines); the all-installs version is test/bench/operator/bench.sh
// --one-namespace (docs/benchmarks.md).
#include <map>
#include <mutex>
#include <thread>

#include <doctest/doctest.h>

#include "e2e/support.h"
#include "operator_process.h"

using namespace sot;
using namespace sot::kube;
using namespace std::chrono_literals;

namespace {

constexpr int kTotal = 1000;
constexpr int kInstalls = 10;
constexpr int kInvalid = 40;

enum class Kind { kInstall, kInvalid, kPaused };

Kind kind_of(int i) {
  return i < kInstalls ? Kind::kInstall : i < kInstalls + kInvalid ? Kind::kInvalid : Kind::kPaused;
}

std::string name_of(int i) {
  return "sot-" + std::to_string(i);
}

Json spec_of(int i) {
  switch (kind_of(i)) {
    case Kind::kInstall:
      return {{"deletionPolicy", "Retain"}};  // no finalizer: status is the only change
    case Kind::kInvalid:
      return {{"backend", {{"autoscaling", {{"enabled", true}, {"minReplicas", 3}, {"maxReplicas", 2}}}}}};
    case Kind::kPaused:
      return {{"paused", true}};
  }
  return Json::object();
}

// True when the resource's status is what its kind leads to.
bool settled(int i, const Json& cr) {
  switch (kind_of(i)) {
    case Kind::kInstall:
      return e2e::condition_of(cr, "Reconciling", "reason") == "WaitingForComponents";
    case Kind::kInvalid:
      return e2e::condition_of(cr, "Stalled", "reason") == "InvalidSpec";
    case Kind::kPaused:
      return cr.is_object() && cr.value("status", Json::object()).value("phase", "") == "Paused";
  }
  return false;
}

// Counts MODIFIED events per resource name in a namespace, from a watch that
// starts before the first resource exists.
class ChangeCounter {
 public:
  explicit ChangeCounter(const std::string& ns) : ns_(ns) {
    auto c = e2e::client();
    auto list = c->list(e2e::kStillOnTime, ns_, ListOptions{});
    REQUIRE(list.ok());
    version_ = (*list)["metadata"].value("resourceVersion", "");
    thread_ = std::thread([this] { run(); });
  }
  ~ChangeCounter() {
    cancel_.cancel();
    thread_.join();
  }
  std::map<std::string, int> counts() {
    std::lock_guard lock(mu_);
    return modified_;
  }

 private:
  void run() {
    auto c = e2e::client();
    while (!cancel_.cancelled()) {
      WatchOptions wo;
      wo.resource_version = version_;
      wo.timeout_seconds = 120;
      auto r = c->watch(
          e2e::kStillOnTime, ns_, wo,
          [&](WatchEvent&& ev) {
            version_ = ev.object["metadata"].value("resourceVersion", version_);
            if (ev.type == EventType::kModified) {
              std::lock_guard lock(mu_);
              ++modified_[ev.object["metadata"].value("name", "")];
            }
            return true;
          },
          cancel_);
      if (!r.ok() && !cancel_.cancelled()) std::this_thread::sleep_for(100ms);
    }
  }

  std::string ns_;
  std::string version_;
  Cancellation cancel_;
  std::mutex mu_;
  std::map<std::string, int> modified_;
  std::thread thread_;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE("1,000 resources in one namespace: each status written once, then rest; a restart writes nothing") {
  e2e::IsolatedOperator trial("sot-scale");
  auto& ns = trial.ns;
  auto& op = trial.op;
  ChangeCounter changes(ns.name());
  const double writes_before = op.writes();
  const double cpu_before = op.cpu_seconds();

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> creators;
  for (int t = 0; t < 4; ++t) {
    creators.emplace_back([&, t] {
      auto c = e2e::client();
      for (int i = t; i < kTotal; i += 4) {
        auto r = c->create(e2e::kStillOnTime, ns.name(), e2e::stillontime(ns.name(), name_of(i), spec_of(i)));
        CHECK_MESSAGE(r.ok(), name_of(i), ": ", (r.ok() ? "" : r.error().to_string()));
      }
    });
  }
  for (auto& t : creators) t.join();
  const double create_s = seconds_since(t0);

  auto c = e2e::client();
  int done = 0;
  const bool all_settled = e2e::eventually(
      [&] {
        auto list = list_all(*c, e2e::kStillOnTime, ns.name(), ListOptions{});
        if (!list.ok()) return false;
        done = 0;
        for (const auto& cr : list->items) {
          const std::string name = cr["metadata"]["name"];
          done += settled(std::stoi(name.substr(4)), cr);
        }
        return done == kTotal;
      },
      120s);
  const double settle_s = seconds_since(t0);
  CHECK_MESSAGE(all_settled, done, " of ", kTotal, " settled");
  const double burst_writes = op.writes() - writes_before;
  const double burst_cpu = op.cpu_seconds() - cpu_before;

  // At rest: no write for 10 s.
  std::this_thread::sleep_for(2s);
  const double rest_before = op.writes();
  std::this_thread::sleep_for(10s);
  const double rest_writes = op.writes() - rest_before;
  CHECK(rest_writes == 0);

  // Every resource changed exactly once after its creation (its status), the
  // installs at most twice (their components' counts once the children exist).
  auto counts = changes.counts();
  int once = 0, more = 0;
  std::string over;
  for (int i = 0; i < kTotal; ++i) {
    const int n = counts[name_of(i)];
    const int allowed = kind_of(i) == Kind::kInstall ? 2 : 1;
    once += n == 1;
    if (n > allowed || n == 0) {
      ++more;
      if (over.size() < 200) over += name_of(i) + "=" + std::to_string(n) + " ";
    }
  }
  CHECK_MESSAGE(more == 0, "changed other than expected: ", over);
  const long rss = op.memory_kib("VmRSS"), hwm = op.memory_kib("VmHWM");
  MESSAGE(kTotal, " resources (", kInstalls, " installs, ", kInvalid, " invalid, ", kTotal - kInstalls - kInvalid,
          " paused) created in ", create_s, " s, all settled ", settle_s,
          " s after the first; operator: ", burst_writes, " writes, ", burst_cpu, " s CPU, ", rest_writes,
          " writes in 10 s at rest, VmRSS ", rss / 1024, " MiB, VmHWM ", hwm / 1024, " MiB; ", once,
          " resources changed exactly once");
  // Status once per resource, about 25 children per install, an Event per invalid one.
  CHECK(burst_writes <= kTotal + kInstalls * 30 + kInvalid + 20);
  CHECK(hwm < 128 * 1024);

  // A restart reconciles all 1,000 again from fresh caches and writes nothing.
  op.stop();
  e2e::OperatorProcess second({"--namespaces", ns.name()});
  const auto t1 = std::chrono::steady_clock::now();
  CHECK(e2e::eventually([&] { return second.metric("controller_runtime_reconcile_total") >= kTotal; }, 60s));
  const double resync_s = seconds_since(t1);
  std::this_thread::sleep_for(5s);
  MESSAGE("restart: ", second.metric("controller_runtime_reconcile_total"), " reconciles in ", resync_s, " s, ",
          second.writes(), " writes; VmRSS ", second.memory_kib("VmRSS") / 1024, " MiB");
  CHECK(second.writes() == 0);
}
