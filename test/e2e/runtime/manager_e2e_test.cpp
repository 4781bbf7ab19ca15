// The Manager against a real kube-apiserver: leader election between two
// operator processes (one reconciles; kill -9 and SIGTERM hand over), and
// /metrics in Prometheus text format with counters that move.
#include <arpa/inet.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <optional>
#include <regex>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "e2e/support.h"
#include "e2e/tcp_proxy.h"
#include "runtime/manager.h"

extern char** environ;

using namespace sot;
using namespace sot::runtime;
using namespace std::chrono_literals;
using kube::Json;

namespace {

const char* kStamp = "e2e.stillontime.app/reconciled-by";

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
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) resp.append(buf, static_cast<std::size_t>(n));
  close(fd);
  if (resp.size() < 12) return {0, ""};
  const auto body = resp.find("\r\n\r\n");
  return {std::stoi(resp.substr(9, 3)), body == std::string::npos ? "" : resp.substr(body + 4)};
}

// Checks every line is Prometheus text format 0.0.4; returns samples by "name{labels}".
std::map<std::string, double> parse_prometheus(const std::string& text) {
  static const std::regex kSample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? ([-+0-9.eE]+|NaN|\+Inf|-Inf)( [0-9]+)?$)");
  static const std::regex kComment(R"(^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$)");
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      CHECK_MESSAGE(std::regex_match(line, kComment), line);
      continue;
    }
    std::smatch m;
    const bool ok = std::regex_match(line, m, kSample);
    CHECK_MESSAGE(ok, line);
    if (!ok) continue;
    const auto sp = line.rfind(' ');
    out[line.substr(0, sp)] = std::stod(m[5].str());
  }
  return out;
}

double sum_of(const std::map<std::string, double>& samples, const std::string& prefix) {
  double s = 0;
  for (const auto& [k, v] : samples) {
    if (k.rfind(prefix, 0) == 0) s += v;
  }
  return s;
}

// One runtime_e2e_operator process.
class OperatorProcess {
 public:
  OperatorProcess(const std::string& name, const std::string& ns, const std::string& kubeconfig = "") : name_(name) {
    const std::string dir = STILLONTIME_BINARY_DIR "/e2e-runtime-" + ns;
    std::filesystem::create_directories(dir);
    port_file_ = dir + "/" + name + ".ports";
    log_ = dir + "/" + name + ".log";
    std::vector<std::string> args = {STILLONTIME_BINARY_DIR "/bin/runtime_e2e_operator",
                                     "--kubeconfig",
                                     kubeconfig.empty() ? e2e::control_plane().kubeconfig() : kubeconfig,
                                     "--namespaces",
                                     ns,
                                     "--leader-elect",
                                     "--leader-election-namespace",
                                     ns,
                                     "--metrics-bind-address",
                                     "127.0.0.1:0",
                                     "--health-probe-bind-address",
                                     "127.0.0.1:0",
                                     "--port-file",
                                     port_file_};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::string(*e).rfind("POD_NAME=", 0) != 0) env_strings.emplace_back(*e);
    }
    env_strings.push_back("POD_NAME=" + name);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    REQUIRE(posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), envp.data()) == 0);
    posix_spawn_file_actions_destroy(&fa);
    REQUIRE_MESSAGE(e2e::eventually([&] { return std::filesystem::exists(port_file_); }, 20s), log());
    std::ifstream in(port_file_);
    in >> metrics_port_ >> health_port_ >> identity_;
  }
  ~OperatorProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  void signal(int sig) { kill(pid_, sig); }
  // Exit code, or -1 if it did not exit within `timeout`.
  int wait_exit(std::chrono::milliseconds timeout) {
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }
  const std::string& identity() const { return identity_; }
  int metrics_port() const { return metrics_port_; }
  int health_port() const { return health_port_; }
  std::string log() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  std::string name_;
  std::string port_file_;
  std::string log_;
  pid_t pid_ = -1;
  int metrics_port_ = 0;
  int health_port_ = 0;
  std::string identity_;
};

std::string lease_holder(kube::KubeClient& c, const std::string& ns) {
  auto l = c.get(kube::resources::leases(), {ns, "runtime-e2e-operator"});
  if (!l.ok()) return {};
  return l->value("spec", Json::object()).value("holderIdentity", "");
}

std::string stamp_of(kube::KubeClient& c, const std::string& ns, const std::string& name) {
  auto cm = c.get(e2e::kConfigMap, {ns, name});
  if (!cm.ok()) return {};
  return (*cm)["metadata"].value("annotations", Json::object()).value(kStamp, "");
}

Json config_map(const std::string& ns, const std::string& name) {
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}, {"namespace", ns}}}};
}

// leader_election_master_status of a process: 1 leading, 0 not, -1 when its
// metrics cannot be read (it has exited).
int master_status(const OperatorProcess& p) {
  auto [status, text] = http_get(p.metrics_port(), "/metrics");
  if (status != 200) return -1;
  const std::string metric = "leader_election_master_status{name=\"runtime-e2e-operator\"} ";
  const auto at = text.find(metric);
  if (at == std::string::npos) return -1;
  return text.compare(at + metric.size(), 1, "1") == 0 ? 1 : 0;
}

// The admin kubeconfig with its server moved to 127.0.0.1:`port`.
std::string kubeconfig_via(int port, const std::string& dir) {
  std::ifstream in(e2e::control_plane().kubeconfig());
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = std::regex_replace(ss.str(), std::regex(R"(server: https://127\.0\.0\.1:[0-9]+)"),
                                              "server: https://127.0.0.1:" + std::to_string(port));
  REQUIRE(text != ss.str());
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/kubeconfig-via-proxy";
  std::ofstream(path) << text;
  return path;
}

int api_port() {
  std::ifstream in(e2e::control_plane().kubeconfig());
  std::stringstream ss;
  ss << in.rdbuf();
  std::smatch m;
  const std::string text = ss.str();
  REQUIRE(std::regex_search(text, m, std::regex(R"(server: https://127\.0\.0\.1:([0-9]+))")));
  return std::stoi(m[1].str());
}

double reconciles(const OperatorProcess& p) {
  auto [status, text] = http_get(p.metrics_port(), "/metrics");
  if (status != 200) return -1;
  auto samples = parse_prometheus(text);
  return sum_of(samples, "controller_runtime_reconcile_total{controller=\"stamp\"");
}

}  // namespace

TEST_CASE("two operators with --leader-elect: exactly one reconciles; kill -9 hands over within 20 s") {
  e2e::TestNamespace ns("rt-leader");
  auto c = e2e::client();
  OperatorProcess a("op-a", ns.name());
  REQUIRE_MESSAGE(e2e::eventually([&] { return lease_holder(*c, ns.name()) == a.identity(); }, 20s), a.log());
  OperatorProcess b("op-b", ns.name());
  REQUIRE(e2e::eventually([&] { return http_get(b.health_port(), "/readyz").first == 200; }, 20s));

  for (int i = 0; i < 5; ++i)
    REQUIRE(c->create(e2e::kConfigMap, ns.name(), config_map(ns.name(), "cm" + std::to_string(i))).ok());
  REQUIRE_MESSAGE(e2e::eventually(
                      [&] {
                        for (int i = 0; i < 5; ++i) {
                          if (stamp_of(*c, ns.name(), "cm" + std::to_string(i)).empty()) return false;
                        }
                        return true;
                      },
                      20s),
                  a.log());
  for (int i = 0; i < 5; ++i) CHECK(stamp_of(*c, ns.name(), "cm" + std::to_string(i)) == a.identity());
  CHECK(reconciles(a) >= 5);
  CHECK(reconciles(b) == 0);
  CHECK(http_get(a.metrics_port(), "/metrics")
            .second.find("leader_election_master_status{name=\"runtime-e2e-operator\"} 1") != std::string::npos);
  CHECK(http_get(b.metrics_port(), "/metrics")
            .second.find("leader_election_master_status{name=\"runtime-e2e-operator\"} 0") != std::string::npos);

  const auto killed_at = std::chrono::steady_clock::now();
  a.signal(SIGKILL);
  REQUIRE(a.wait_exit(5s) == 128 + SIGKILL);
  REQUIRE_MESSAGE(e2e::eventually([&] { return lease_holder(*c, ns.name()) == b.identity(); }, 25s), b.log());
  const auto takeover = std::chrono::steady_clock::now() - killed_at;
  MESSAGE("takeover after kill -9: " << std::chrono::duration<double>(takeover).count() << " s");
  CHECK(takeover < 20s);
  // The new leader reconciles; everything is re-stamped with its identity.
  CHECK_MESSAGE(e2e::eventually([&] { return stamp_of(*c, ns.name(), "cm0") == b.identity(); }, 10s), b.log());
}

TEST_CASE("SIGTERM on the leader: it finishes, releases the lease, exits 0, and the standby leads within 5 s") {
  e2e::TestNamespace ns("rt-sigterm");
  auto c = e2e::client();
  OperatorProcess a("op-a", ns.name());
  REQUIRE(e2e::eventually([&] { return lease_holder(*c, ns.name()) == a.identity(); }, 20s));
  OperatorProcess b("op-b", ns.name());
  REQUIRE(e2e::eventually([&] { return http_get(b.health_port(), "/readyz").first == 200; }, 20s));
  REQUIRE(c->create(e2e::kConfigMap, ns.name(), config_map(ns.name(), "x")).ok());
  REQUIRE(e2e::eventually([&] { return stamp_of(*c, ns.name(), "x") == a.identity(); }, 20s));

  const auto signalled_at = std::chrono::steady_clock::now();
  a.signal(SIGTERM);
  const int code = a.wait_exit(35s);
  CHECK_MESSAGE(code == 0, a.log());
  REQUIRE_MESSAGE(e2e::eventually([&] { return lease_holder(*c, ns.name()) == b.identity(); }, 10s), b.log());
  const auto takeover = std::chrono::steady_clock::now() - signalled_at;
  MESSAGE("takeover after SIGTERM: " << std::chrono::duration<double>(takeover).count() << " s");
  CHECK(takeover < 5s);
  CHECK(a.log().find("released lease") != std::string::npos);
  REQUIRE(c->create(e2e::kConfigMap, ns.name(), config_map(ns.name(), "y")).ok());
  CHECK(e2e::eventually([&] { return stamp_of(*c, ns.name(), "y") == b.identity(); }, 10s));
}

TEST_CASE(
    "an API server that hangs: the leader gives up within the renew deadline, then the standby leads; never two") {
  e2e::TestNamespace ns("rt-hang");
  auto c = e2e::client();
  e2e::TcpProxy proxy(api_port());
  const std::string kubeconfig = kubeconfig_via(proxy.port(), STILLONTIME_BINARY_DIR "/e2e-runtime-" + ns.name());
  OperatorProcess a("op-a", ns.name(), kubeconfig);  // reaches the API server only through the proxy
  REQUIRE_MESSAGE(e2e::eventually([&] { return lease_holder(*c, ns.name()) == a.identity(); }, 20s), a.log());
  OperatorProcess b("op-b", ns.name());
  REQUIRE(e2e::eventually([&] { return http_get(b.health_port(), "/readyz").first == 200; }, 20s));
  REQUIRE(c->create(e2e::kConfigMap, ns.name(), config_map(ns.name(), "before")).ok());
  REQUIRE(e2e::eventually([&] { return stamp_of(*c, ns.name(), "before") == a.identity(); }, 20s));

  // The path to the API server stops answering; nothing is closed.
  const auto frozen_at = std::chrono::steady_clock::now();
  proxy.freeze();
  std::optional<double> a_stepped_down;
  std::optional<double> b_leads;
  int both = 0;
  while (!b_leads && std::chrono::steady_clock::now() - frozen_at < 40s) {
    const int sa = master_status(a);
    const int sb = master_status(b);
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - frozen_at).count();
    if (sa != 1 && !a_stepped_down) a_stepped_down = t;
    if (sb == 1) b_leads = t;
    if (sa == 1 && sb == 1) ++both;
    std::this_thread::sleep_for(50ms);
  }
  REQUIRE_MESSAGE(a_stepped_down.has_value(), a.log());
  REQUIRE_MESSAGE(b_leads.has_value(), b.log());
  MESSAGE("hung API server: the leader stepped down after " << *a_stepped_down << " s, the standby led after "
                                                            << *b_leads << " s");
  CHECK(both == 0);
  // The last renew was at most one retry period (2 s) before the freeze, so
  // the renew deadline (10 s) runs out by 12 s; the lease (15 s) outlives it.
  CHECK(*a_stepped_down <= 12.5);
  CHECK(*a_stepped_down < *b_leads);
  CHECK(lease_holder(*c, ns.name()) == b.identity());
  REQUIRE(c->create(e2e::kConfigMap, ns.name(), config_map(ns.name(), "after")).ok());
  CHECK(e2e::eventually([&] { return stamp_of(*c, ns.name(), "after") == b.identity(); }, 10s));
  // The old leader stops on lost leadership (exit 1) instead of waiting out the hang.
  CHECK_MESSAGE(a.wait_exit(45s) == 1, a.log());
  CHECK(a.log().find("leader election lost") != std::string::npos);
  proxy.thaw();
}

TEST_CASE("/metrics parses as Prometheus text and its counters move") {
  e2e::TestNamespace ns("rt-metrics");
  ManagerOptions o;
  o.kubeconfig = e2e::control_plane().kubeconfig();
  o.namespaces = {ns.name()};
  o.metrics_bind_address = "127.0.0.1:0";
  o.health_probe_bind_address = "127.0.0.1:0";
  auto mgr = Manager::create(o);
  REQUIRE(mgr.ok());
  struct Noop final : Reconciler {
    ReconcileResult reconcile(const kube::ObjectKey&, Context&) override { return ReconcileResult::done(); }
  };
  ControllerSpec spec;
  spec.name = "noop";
  spec.primary = e2e::kConfigMap;
  (*mgr)->add_controller(std::move(spec), std::make_unique<Noop>());
  REQUIRE((*mgr)->start().ok());
  REQUIRE(e2e::eventually([&] { return http_get((*mgr)->health_port(), "/readyz").first == 200; }, 10s));

  auto [s1, t1] = http_get((*mgr)->metrics_port(), "/metrics");
  REQUIRE(s1 == 200);
  auto before = parse_prometheus(t1);
  auto c = e2e::client();
  for (int i = 0; i < 3; ++i)
    REQUIRE(c->create(e2e::kConfigMap, ns.name(), config_map(ns.name(), "m" + std::to_string(i))).ok());
  REQUIRE(e2e::eventually(
      [&] {
        auto after = parse_prometheus(http_get((*mgr)->metrics_port(), "/metrics").second);
        return sum_of(after, "controller_runtime_reconcile_total{controller=\"noop\",result=\"success\"}") >=
               sum_of(before, "controller_runtime_reconcile_total{controller=\"noop\",result=\"success\"}") + 3;
      },
      10s));
  auto after = parse_prometheus(http_get((*mgr)->metrics_port(), "/metrics").second);
  CHECK(sum_of(after, "workqueue_adds_total{name=\"noop\"}") >=
        sum_of(before, "workqueue_adds_total{name=\"noop\"}") + 3);
  CHECK(sum_of(after, "rest_client_requests_total") > 0);
  CHECK(sum_of(after, "controller_runtime_reconcile_time_seconds_count{controller=\"noop\"}") >= 3);
  for (const char* name : {"controller_runtime_reconcile_errors_total", "controller_runtime_max_concurrent_reconciles",
                           "controller_runtime_active_workers", "workqueue_depth", "workqueue_retries_total",
                           "workqueue_queue_duration_seconds_bucket", "workqueue_work_duration_seconds_bucket"}) {
    CHECK_MESSAGE(sum_of(after, name) >= 0, name);
    bool present = false;
    for (const auto& [k, v] : after) present = present || k.rfind(name, 0) == 0;
    CHECK_MESSAGE(present, name);
  }
  (*mgr)->stop();
  CHECK((*mgr)->wait_and_shutdown() == 0);
}
