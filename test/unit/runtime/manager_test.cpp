// Flags, logs, the probe and metrics endpoints, and a Manager end to end
// against the in-memory API server (HTTP on 127.0.0.1 port 0).
#include "runtime/manager.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sstream>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "runtime/http_server.h"
#include "unit/runtime/fakes.h"

using namespace sot;
using namespace sot::runtime;
using namespace std::chrono_literals;
using sot::test::config_map;
using sot::test::eventually;
using sot::test::FakeKubeClient;

namespace {

// GET http://127.0.0.1:port/path; returns {status, body}.
std::pair<int, std::string> http_get(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return {0, ""};
  }
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  (void)!write(fd, req.data(), req.size());
  std::string resp;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) resp.append(buf, static_cast<std::size_t>(n));
  close(fd);
  if (resp.size() < 12) return {0, ""};
  const int status = std::stoi(resp.substr(9, 3));
  const auto body = resp.find("\r\n\r\n");
  return {status, body == std::string::npos ? "" : resp.substr(body + 4)};
}

class CollectSink final : public LogSink {
 public:
  void write(std::string_view line) override {
    std::lock_guard lock(mu);
    lines.emplace_back(line);
  }
  std::mutex mu;
  std::vector<std::string> lines;
};

class CountingReconciler final : public Reconciler {
 public:
  explicit CountingReconciler(std::atomic<int>& n) : n_(n) {}
  ReconcileResult reconcile(const ObjectKey& key, Context& ctx) override {
    ctx.log().info("reconciling");
    const auto* cms = ctx.cache(kube::resources::config_maps());
    if (cms == nullptr || cms->get(key) == nullptr) return ReconcileResult::done();
    n_++;
    return ReconcileResult::done();
  }

 private:
  std::atomic<int>& n_;
};

// Counts reconciles per key.
class RecordingReconciler final : public Reconciler {
 public:
  struct Seen {
    std::mutex mu;
    std::map<ObjectKey, int> counts;
    int count(const ObjectKey& key) {
      std::lock_guard lock(mu);
      return counts[key];
    }
  };
  explicit RecordingReconciler(std::shared_ptr<Seen> seen) : seen_(std::move(seen)) {}
  ReconcileResult reconcile(const ObjectKey& key, Context&) override {
    std::lock_guard lock(seen_->mu);
    ++seen_->counts[key];
    return ReconcileResult::done();
  }

 private:
  std::shared_ptr<Seen> seen_;
};

}  // namespace

TEST_CASE("flags parse into options, with defaults matching issue 3") {
  auto d = parse_manager_flags({});
  REQUIRE(d.ok());
  CHECK(d->metrics_bind_address == ":8080");
  CHECK(d->health_probe_bind_address == ":8081");
  CHECK_FALSE(d->leader_elect);
  CHECK(d->max_concurrent_reconciles == 2);
  CHECK(d->resync_period == Duration(10min));
  CHECK(d->log_level == LogLevel::kInfo);
  CHECK(d->namespaces.empty());

  std::vector<std::string> rest;
  auto o = parse_manager_flags(
      {"run", "--kubeconfig", "/k", "--namespaces=a,b", "--metrics-bind-address", "127.0.0.1:0",
       "--health-probe-bind-address=:9000", "--leader-elect", "--leader-election-namespace", "ops",
       "--max-concurrent-reconciles=5", "--resync-period", "1h30m", "--log-level", "debug", "--other", "x"},
      &rest);
  REQUIRE_MESSAGE(o.ok(), o.error().message);
  CHECK(o->kubeconfig == "/k");
  CHECK(o->namespaces == std::vector<std::string>{"a", "b"});
  CHECK(o->metrics_bind_address == "127.0.0.1:0");
  CHECK(o->health_probe_bind_address == ":9000");
  CHECK(o->leader_elect);
  CHECK(o->leader_election_namespace == "ops");
  CHECK(o->max_concurrent_reconciles == 5);
  CHECK(o->resync_period == Duration(90min));
  CHECK(o->log_level == LogLevel::kDebug);
  CHECK(rest == std::vector<std::string>{"run", "--other", "x"});
}

TEST_CASE("bad flag values are refused with a message naming the flag") {
  auto msg = [](std::vector<std::string> args) {
    auto r = parse_manager_flags(args);
    REQUIRE_FALSE(r.ok());
    return r.error().message;
  };
  CHECK(msg({"--max-concurrent-reconciles", "0"}).find("--max-concurrent-reconciles") != std::string::npos);
  CHECK(msg({"--max-concurrent-reconciles=two"}).find("--max-concurrent-reconciles") != std::string::npos);
  CHECK(msg({"--metrics-bind-address", "8080"}).find("--metrics-bind-address") != std::string::npos);
  CHECK(msg({"--health-probe-bind-address", ":99999"}).find("--health-probe-bind-address") != std::string::npos);
  CHECK(msg({"--log-level", "loud"}).find("--log-level") != std::string::npos);
  CHECK(msg({"--namespaces", "Bad_NS"}).find("--namespaces") != std::string::npos);
  CHECK(msg({"--resync-period", "10 minutes"}).find("--resync-period") != std::string::npos);
  CHECK(msg({"--leader-elect=maybe"}).find("--leader-elect") != std::string::npos);
  CHECK(msg({"--kubeconfig"}).find("--kubeconfig needs a value") != std::string::npos);
  CHECK(msg({"--bogus"}).find("unknown flag --bogus") != std::string::npos);
}

TEST_CASE("Go durations") {
  CHECK(*parse_go_duration("10m") == Duration(10min));
  CHECK(*parse_go_duration("1h30m") == Duration(90min));
  CHECK(*parse_go_duration("250ms") == Duration(250ms));
  CHECK(*parse_go_duration("1.5s") == Duration(1500ms));
  CHECK_FALSE(parse_go_duration("10").ok());
  CHECK_FALSE(parse_go_duration("m").ok());
}

TEST_CASE("logs are JSON lines with level, message and context; credentials are redacted; levels filter") {
  auto sink = std::make_shared<CollectSink>();
  Logger log(sink, LogLevel::kInfo);
  log.with("controller", "stillontime")
      .with("namespace", "crs")
      .with("name", "prod")
      .with("reconcileID", "r-1")
      .info("applied", {{"kind", "Deployment"}, {"token", "s3cr3t"}});
  log.debug("hidden");
  REQUIRE(sink->lines.size() == 1);
  const Json line = Json::parse(sink->lines[0]);
  CHECK(line["level"] == "info");
  CHECK(line["msg"] == "applied");
  CHECK(line["controller"] == "stillontime");
  CHECK(line["namespace"] == "crs");
  CHECK(line["name"] == "prod");
  CHECK(line["reconcileID"] == "r-1");
  CHECK(line["kind"] == "Deployment");
  CHECK(line["token"] == "<redacted>");
  CHECK(line["time"].get<std::string>().size() == 27);
}

TEST_CASE("the HTTP adapter serves routes, 404s others, and reports its port") {
  auto server = make_http_server(BindAddress{"127.0.0.1", 0}, {{"/hello", [] {
                                                                  return HttpReply{200, "text/plain", "hi"};
                                                                }}});
  REQUIRE(server->start().ok());
  REQUIRE(server->port() > 0);
  CHECK(http_get(server->port(), "/hello?x=1") == std::pair<int, std::string>{200, "hi"});
  CHECK(http_get(server->port(), "/nope").first == 404);
  server->stop();
  auto busy = make_http_server(BindAddress{"256.1.1.1", 1}, {});
  CHECK_FALSE(busy->start().ok());
  CHECK(parse_bind_address(":8080", "--x")->host == "0.0.0.0");
  CHECK(parse_bind_address("[::1]:9", "--x")->host == "::1");
}

TEST_CASE("a manager serves probes and metrics, reconciles from its caches, and shuts down cleanly") {
  auto api_owned = std::make_unique<FakeKubeClient>();
  FakeKubeClient& api = *api_owned;
  (void)api.put(kube::resources::config_maps(), config_map("ns", "cm1"));
  ManagerOptions o;
  o.metrics_bind_address = "127.0.0.1:0";
  o.health_probe_bind_address = "127.0.0.1:0";
  auto sink = std::make_shared<CollectSink>();
  Manager mgr(o, std::move(api_owned), nullptr, real_clock(), Logger(sink, LogLevel::kInfo));
  std::atomic<int> reconciled{0};
  ControllerSpec spec;
  spec.name = "cms";
  spec.primary = kube::resources::config_maps();
  spec.owner_label = "example.com/owner";
  spec.owns.push_back({kube::resources::secrets(), "", false});
  mgr.add_controller(std::move(spec), std::make_unique<CountingReconciler>(reconciled));
  REQUIRE(mgr.start().ok());
  CHECK(http_get(mgr.health_port(), "/healthz").first == 200);
  REQUIRE(eventually([&] { return http_get(mgr.health_port(), "/readyz").first == 200; }));
  REQUIRE(eventually([&] { return reconciled >= 1; }));
  // A child labelled with its owner triggers the owner's reconcile.
  Json secret = config_map("ns", "child");
  secret["metadata"]["labels"]["example.com/owner"] = "ns.cm1";
  (void)api.put(kube::resources::secrets(), secret);
  REQUIRE(eventually([&] { return reconciled >= 2; }));

  auto [status, text] = http_get(mgr.metrics_port(), "/metrics");
  CHECK(status == 200);
  for (const char* name :
       {"controller_runtime_reconcile_total{controller=\"cms\",result=\"success\"}",
        "controller_runtime_reconcile_errors_total", "controller_runtime_reconcile_time_seconds_bucket",
        "controller_runtime_max_concurrent_reconciles{controller=\"cms\"} 2", "controller_runtime_active_workers",
        "workqueue_depth{name=\"cms\"}", "workqueue_adds_total", "workqueue_retries_total",
        "workqueue_queue_duration_seconds_bucket", "workqueue_work_duration_seconds_bucket"}) {
    CHECK_MESSAGE(text.find(name) != std::string::npos, name);
  }
  mgr.stop();
  CHECK(mgr.wait_and_shutdown() == 0);
  std::lock_guard lock(sink->mu);
  bool saw_reconcile_line = false;
  for (const auto& l : sink->lines) {
    const Json j = Json::parse(l);
    if (j["msg"] == "reconciling") {
      saw_reconcile_line = j["controller"] == "cms" && j["namespace"] == "ns" && j.contains("reconcileID");
    }
  }
  CHECK(saw_reconcile_line);
}

TEST_CASE("a watched kind's events queue the primary keys its map names, found through the primary index") {
  auto api_owned = std::make_unique<FakeKubeClient>();
  FakeKubeClient& api = *api_owned;
  (void)api.put(kube::resources::config_maps(), config_map("a", "cm1", {{"points-at", "b"}}));
  (void)api.put(kube::resources::config_maps(), config_map("a", "cm2", {{"points-at", "c"}}));
  ManagerOptions o;
  o.metrics_bind_address = "0";
  o.health_probe_bind_address = "0";
  o.max_concurrent_reconciles = 1;  // one worker: keys run in the order they were queued
  Manager mgr(o, std::move(api_owned), nullptr, real_clock(),
              Logger(std::make_shared<CollectSink>(), LogLevel::kError));
  auto seen = std::make_shared<RecordingReconciler::Seen>();
  ControllerSpec spec;
  spec.name = "pointers";
  spec.primary = kube::resources::config_maps();
  spec.primary_index = [](const Json& cm) { return cm.value("data", Json::object()).value("points-at", ""); };
  WatchedResource watched;
  watched.resource = kube::resources::namespaces();
  watched.map = [](const Json& ns, const CacheReader& primary) {
    std::vector<ObjectKey> keys;
    for (const auto& cm : primary.by_index(ns["metadata"].value("name", ""))) keys.push_back(key_of(*cm));
    return keys;
  };
  spec.watches.push_back(std::move(watched));
  mgr.add_controller(std::move(spec), std::make_unique<RecordingReconciler>(seen));
  REQUIRE(mgr.start().ok());
  REQUIRE(eventually([&] { return seen->count({"a", "cm1"}) == 1 && seen->count({"a", "cm2"}) == 1; }));
  auto ns = [](const std::string& name) {
    return Json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
  };
  (void)api.put(kube::resources::namespaces(), ns("b"));  // concerns cm1, which points at b
  REQUIRE(eventually([&] { return seen->count({"a", "cm1"}) == 2; }));
  (void)api.put(kube::resources::namespaces(), ns("z"));  // concerns nobody
  Json b = ns("b");
  b["metadata"]["labels"]["changed"] = "yes";
  (void)api.put(kube::resources::namespaces(), b);
  REQUIRE(eventually([&] { return seen->count({"a", "cm1"}) >= 3; }));  // an update maps old and new: 1 or 2 passes
  CHECK(seen->count({"a", "cm2"}) == 1);                                // z queued nothing before b's update
  mgr.stop();
  CHECK(mgr.wait_and_shutdown() == 0);
}

TEST_CASE("with leader election only the leader reconciles; stop releases the lease") {
  auto api_owned = std::make_unique<FakeKubeClient>();
  FakeKubeClient& api = *api_owned;
  (void)api.put(kube::resources::config_maps(), config_map("ns", "cm1"));
  // Someone else holds a fresh lease.
  (void)api.put(kube::resources::leases(), {{"metadata", {{"name", "test-operator"}, {"namespace", "ops"}}},
                                            {"spec", {{"holderIdentity", "other"}, {"leaseDurationSeconds", 15}}}});
  ManagerOptions o;
  o.metrics_bind_address = "0";
  o.health_probe_bind_address = "127.0.0.1:0";
  o.name = "test-operator";
  o.leader_elect = true;
  o.leader_election_namespace = "ops";
  o.retry_period = 20ms;
  auto sink = std::make_shared<CollectSink>();
  Manager mgr(o, std::move(api_owned), nullptr, real_clock(), Logger(sink, LogLevel::kInfo));
  std::atomic<int> reconciled{0};
  ControllerSpec spec;
  spec.name = "cms";
  spec.primary = kube::resources::config_maps();
  mgr.add_controller(std::move(spec), std::make_unique<CountingReconciler>(reconciled));
  REQUIRE(mgr.start().ok());
  // Standing by is ready.
  REQUIRE(eventually([&] { return http_get(mgr.health_port(), "/readyz").first == 200; }));
  std::this_thread::sleep_for(100ms);
  CHECK(reconciled == 0);
  CHECK_FALSE(mgr.is_leader());
  // The other holder releases.
  auto lease = *api.stored(kube::resources::leases(), {"ops", "test-operator"});
  lease["spec"]["holderIdentity"] = "";
  (void)api.put(kube::resources::leases(), lease);
  REQUIRE(eventually([&] { return mgr.is_leader() && reconciled >= 1; }));
  mgr.stop();
  CHECK(mgr.wait_and_shutdown() == 0);
  CHECK((*api.stored(kube::resources::leases(), {"ops", "test-operator"}))["spec"]["holderIdentity"] == "");
}
