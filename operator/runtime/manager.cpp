#include "runtime/manager.h"

#include <cctype>
#include <charconv>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <signal.h>
#include <sstream>
#include <unistd.h>

#include <prometheus/text_serializer.h>

#include "kube/config.h"
#include "kube/metrics.h"

namespace sot::runtime {

using kube::Code;
using kube::make_error;

// ---------------------------------------------------------------- flags

kube::Result<Duration> parse_go_duration(std::string_view text) {
  if (text.empty()) return make_error(Code::kInvalid, "empty duration");
  double total_ns = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.')) ++j;
    if (j == i)
      return make_error(Code::kInvalid, "\"" + std::string(text) + "\" is not a duration like 90s, 10m, 1h30m");
    const double value = std::stod(std::string(text.substr(i, j - i)));
    std::size_t k = j;
    while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
    const std::string_view unit = text.substr(j, k - j);
    double scale = 0;
    if (unit == "ns")
      scale = 1;
    else if (unit == "us" || unit == "µs")
      scale = 1e3;
    else if (unit == "ms")
      scale = 1e6;
    else if (unit == "s")
      scale = 1e9;
    else if (unit == "m")
      scale = 60e9;
    else if (unit == "h")
      scale = 3600e9;
    else
      return make_error(Code::kInvalid, "\"" + std::string(text) + "\" is not a duration like 90s, 10m, 1h30m");
    total_ns += value * scale;
    i = k;
  }
  return std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(static_cast<std::int64_t>(total_ns)));
}

namespace {

bool valid_namespace_name(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!std::isalnum(static_cast<unsigned char>(s.front())) || !std::isalnum(static_cast<unsigned char>(s.back()))) {
    return false;
  }
  for (char c : s) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return true;
}

kube::Status check_address(const std::string& value, std::string_view flag) {
  if (value == "0") return kube::ok_status();
  auto a = parse_bind_address(value, flag);
  if (!a.ok()) return a.error();
  return kube::ok_status();
}

}  // namespace

std::string manager_flags_help() {
  return "  --kubeconfig PATH                   kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)\n"
         "  --namespaces a,b                    watch only these namespaces (default: all)\n"
         "  --metrics-bind-address ADDR         Prometheus /metrics address, \"0\" disables (default :8080)\n"
         "  --health-probe-bind-address ADDR    /healthz and /readyz address, \"0\" disables (default :8081)\n"
         "  --leader-elect                      elect a leader on a Lease before reconciling\n"
         "  --leader-election-namespace NS      namespace of the Lease (default: the pod's namespace)\n"
         "  --max-concurrent-reconciles N       reconcile workers (default 2)\n"
         "  --resync-period DURATION            re-queue every object this often (default 10m)\n"
         "  --graceful-shutdown-timeout DURATION  let running reconciles finish this long (default 30s)\n"
         "  --log-level LEVEL                   debug, info, warn or error (default info)\n";
}

kube::Result<ManagerOptions> parse_manager_flags(const std::vector<std::string>& args, std::vector<std::string>* rest) {
  ManagerOptions o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!arg.starts_with("--")) {
      if (rest != nullptr) {
        rest->push_back(arg);
        continue;
      }
      return make_error(Code::kInvalid, "unexpected argument \"" + arg + "\"");
    }
    std::string name = arg;
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    auto value = [&]() -> kube::Result<std::string> {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size()) return make_error(Code::kInvalid, name + " needs a value");
      return args[++i];
    };
    auto duration = [&](Duration& out) -> kube::Status {
      auto v = value();
      if (!v.ok()) return v.error();
      auto d = parse_go_duration(*v);
      if (!d.ok()) return make_error(Code::kInvalid, name + ": " + d.error().message);
      if (*d <= Duration::zero() && name != "--resync-period")
        return make_error(Code::kInvalid, name + " must be positive");
      out = *d;
      return kube::ok_status();
    };
    kube::Status st = kube::ok_status();
    if (name == "--kubeconfig") {
      auto v = value();
      if (!v.ok()) return v.error();
      o.kubeconfig = *v;
    } else if (name == "--metrics-bind-address" || name == "--health-probe-bind-address") {
      auto v = value();
      if (!v.ok()) return v.error();
      st = check_address(*v, name);
      (name == "--metrics-bind-address" ? o.metrics_bind_address : o.health_probe_bind_address) = *v;
    } else if (name == "--leader-elect") {
      if (!inline_value || *inline_value == "true") {
        o.leader_elect = true;
      } else if (*inline_value == "false") {
        o.leader_elect = false;
      } else {
        return make_error(Code::kInvalid, "--leader-elect: \"" + *inline_value + "\" is not true or false");
      }
    } else if (name == "--leader-election-namespace") {
      auto v = value();
      if (!v.ok()) return v.error();
      if (!valid_namespace_name(*v)) {
        return make_error(Code::kInvalid, "--leader-election-namespace: \"" + *v + "\" is not a namespace name");
      }
      o.leader_election_namespace = *v;
    } else if (name == "--max-concurrent-reconciles") {
      auto v = value();
      if (!v.ok()) return v.error();
      int n = 0;
      auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
      if (ec != std::errc() || p != v->data() + v->size() || n < 1 || n > 1000) {
        return make_error(Code::kInvalid, "--max-concurrent-reconciles: \"" + *v + "\" is not a number from 1 to 1000");
      }
      o.max_concurrent_reconciles = n;
    } else if (name == "--resync-period") {
      st = duration(o.resync_period);
    } else if (name == "--graceful-shutdown-timeout") {
      st = duration(o.graceful_shutdown_timeout);
    } else if (name == "--log-level") {
      auto v = value();
      if (!v.ok()) return v.error();
      auto l = parse_log_level(*v);
      if (!l.ok()) return l.error();
      o.log_level = *l;
    } else if (name == "--namespaces") {
      auto v = value();
      if (!v.ok()) return v.error();
      o.namespaces.clear();
      std::stringstream ss(*v);
      std::string item;
      while (std::getline(ss, item, ',')) {
        if (item.empty()) continue;
        if (!valid_namespace_name(item)) {
          return make_error(Code::kInvalid, "--namespaces: \"" + item + "\" is not a namespace name");
        }
        o.namespaces.push_back(item);
      }
    } else if (rest != nullptr) {
      rest->push_back(arg);
    } else {
      return make_error(Code::kInvalid, "unknown flag " + name);
    }
    if (!st.ok()) return st.error();
  }
  return o;
}

// ---------------------------------------------------------------- signals

namespace {

int g_signal_pipe[2] = {-1, -1};

extern "C" void on_signal(int sig) {
  const char c = static_cast<char>(sig);
  if (g_signal_pipe[1] >= 0) (void)!write(g_signal_pipe[1], &c, 1);
}

// Turns SIGTERM/SIGINT into manager.stop() on a thread of its own (a signal
// handler may do nothing but write to a pipe). A second signal exits at once.
class SignalWatcher {
 public:
  explicit SignalWatcher(Manager& mgr) {
    if (pipe(g_signal_pipe) != 0) return;
    fcntl(g_signal_pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(g_signal_pipe[1], F_SETFD, FD_CLOEXEC);
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old_term_);
    sigaction(SIGINT, &sa, &old_int_);
    thread_ = std::thread([this, &mgr] {
      int signals = 0;
      char c = 0;
      while (read(g_signal_pipe[0], &c, 1) == 1) {
        if (c == 0) return;  // our own wake-up at the end of run()
        if (++signals == 1) {
          mgr.logger().info("received signal, shutting down", {{"signal", c == SIGTERM ? "SIGTERM" : "SIGINT"}});
          mgr.stop(0);
        } else {
          mgr.logger().error("second signal, exiting immediately");
          _exit(1);
        }
      }
    });
  }
  ~SignalWatcher() {
    if (g_signal_pipe[1] < 0) return;
    sigaction(SIGTERM, &old_term_, nullptr);
    sigaction(SIGINT, &old_int_, nullptr);
    const char zero = 0;
    (void)!write(g_signal_pipe[1], &zero, 1);
    if (thread_.joinable()) thread_.join();
    close(g_signal_pipe[0]);
    close(g_signal_pipe[1]);
    g_signal_pipe[0] = g_signal_pipe[1] = -1;
  }

 private:
  struct sigaction old_term_ {};
  struct sigaction old_int_ {};
  std::thread thread_;
};

}  // namespace

// ---------------------------------------------------------------- manager

kube::Result<std::unique_ptr<Manager>> Manager::create(ManagerOptions options) {
  auto cfg = kube::load_default(options.kubeconfig);
  if (!cfg.ok()) return cfg.error();
  cfg->field_manager = options.name;
  cfg->user_agent = options.user_agent;
  auto registry = std::make_shared<prometheus::Registry>();
  std::string host = cfg->server;
  if (auto p = host.find("://"); p != std::string::npos) host = host.substr(p + 3);
  auto client = kube::RestClient::create(*cfg, kube::make_prometheus_observer(*registry, host));
  return std::make_unique<Manager>(std::move(options), std::move(client), registry);
}

Manager::Manager(ManagerOptions options, std::unique_ptr<kube::KubeClient> client,
                 std::shared_ptr<prometheus::Registry> registry, Clock& clock, std::optional<Logger> logger)
    : options_(std::move(options)),
      client_(std::move(client)),
      registry_(registry ? std::move(registry) : std::make_shared<prometheus::Registry>()),
      clock_(clock),
      logger_(logger ? *logger : Logger(std::make_shared<StreamLogSink>(std::cerr), options_.log_level)),
      identity_(default_identity()),
      stop_(clock),
      election_stop_(clock),
      sync_stop_(clock) {
  EventRecorderOptions eo;
  eo.component = options_.name;
  eo.instance = identity_;
  events_ = std::make_unique<EventRecorder>(*client_, clock_, eo, logger_.with("component", "events"));
}

Manager::~Manager() {
  if (started_ && !shutting_down_) {
    stop(0);
    (void)wait_and_shutdown();
  }
}

Informer& Manager::informer(InformerOptions opts) {
  for (auto& inf : informers_) {
    const auto& o = inf->options();
    if (o.resource == opts.resource && o.namespaces == opts.namespaces && o.label_selector == opts.label_selector &&
        o.field_selector == opts.field_selector) {
      return *inf;
    }
  }
  informers_.push_back(std::make_unique<Informer>(*client_, clock_, std::move(opts), logger_));
  if (started_) informers_.back()->start();
  return *informers_.back();
}

Controller& Manager::add_controller(ControllerSpec spec, std::unique_ptr<Reconciler> reconciler) {
  ControllerOptions co;
  co.name = spec.name;
  co.max_concurrent_reconciles =
      spec.max_concurrent_reconciles > 0 ? spec.max_concurrent_reconciles : options_.max_concurrent_reconciles;
  co.resync_period = options_.resync_period;
  co.rate_limiter = std::move(spec.rate_limiter);
  controllers_.push_back(
      std::make_unique<Controller>(std::move(co), std::move(reconciler),
                                   ControllerDeps{*client_, clock_, *this, events_.get(), logger_, registry_.get()}));
  Controller& c = *controllers_.back();

  InformerOptions primary;
  primary.resource = spec.primary;
  primary.namespaces = options_.namespaces;
  primary.label_selector = spec.primary_label_selector;
  primary.index = spec.primary_index;
  Informer& pinf = informer(std::move(primary));
  pinf.add_handler(c.enqueue_self(spec.skip_status_only_updates));
  c.set_primary_cache(&pinf.cache());

  for (const auto& owned : spec.owns) {
    InformerOptions child;
    child.resource = owned.resource;
    if (!owned.all_namespaces) child.namespaces = options_.namespaces;
    child.label_selector = owned.label_selector;
    Informer& cinf = informer(std::move(child));
    const auto slash = spec.primary.api_version().find('/');
    cinf.add_handler(c.enqueue_owner(spec.primary.kind, slash == std::string::npos ? "" : spec.primary.group,
                                     spec.owner_label, spec.owned_event_delay));
  }
  for (auto& watched : spec.watches) {
    InformerOptions other;
    other.resource = watched.resource;
    other.label_selector = watched.label_selector;
    Informer& winf = informer(std::move(other));
    winf.add_handler(c.enqueue_mapped(
        [map = std::move(watched.map), primary = &pinf.cache()](const Json& o) { return map(o, *primary); }));
  }
  return c;
}

const CacheReader* Manager::cache_for(const kube::ResourceRef& resource) const {
  for (const auto& inf : informers_) {
    if (inf->options().resource == resource) return &inf->cache();
  }
  return nullptr;
}

bool Manager::ready() const {
  if (!started_ || shutting_down_) return false;
  for (const auto& inf : informers_) {
    if (!inf->has_synced()) return false;
  }
  return true;
}

bool Manager::is_leader() const {
  return options_.leader_elect ? (elector_ && elector_->is_leader()) : started_.load();
}

std::string Manager::metrics_text() {
  for (auto& c : controllers_) c->queue().update_unfinished_work();
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

std::string pod_namespace() {
  if (const char* ns = std::getenv("POD_NAMESPACE"); ns != nullptr && *ns != '\0') return ns;
  std::ifstream in("/var/run/secrets/kubernetes.io/serviceaccount/namespace");
  std::string ns;
  if (in && std::getline(in, ns) && !ns.empty()) return ns;
  return {};
}

std::string Manager::default_lease_namespace() const {
  if (!options_.leader_election_namespace.empty()) return options_.leader_election_namespace;
  return pod_namespace();
}

kube::Status Manager::start() {
  if (started_.exchange(true)) return kube::ok_status();
  logger_.info("starting manager", {{"identity", identity_},
                                    {"leaderElect", options_.leader_elect},
                                    {"namespaces", options_.namespaces},
                                    {"maxConcurrentReconciles", options_.max_concurrent_reconciles}});
  if (options_.health_probe_bind_address != "0") {
    auto addr = parse_bind_address(options_.health_probe_bind_address, "--health-probe-bind-address");
    if (!addr.ok()) return addr.error();
    std::map<std::string, HttpRoute> routes;
    routes["/healthz"] = [this] { return HttpReply{healthy() ? 200 : 500, "text/plain; charset=utf-8", "ok"}; };
    routes["/readyz"] = [this] {
      const bool r = ready();
      return HttpReply{r ? 200 : 503, "text/plain; charset=utf-8", r ? "ok" : "caches not synced"};
    };
    health_server_ = make_http_server(*addr, std::move(routes), logger_);
    if (auto st = health_server_->start(); !st.ok()) {
      return make_error(st.error().code, "--health-probe-bind-address: " + st.error().message);
    }
    logger_.info("serving health probes", {{"port", health_server_->port()}});
  }
  if (options_.metrics_bind_address != "0") {
    auto addr = parse_bind_address(options_.metrics_bind_address, "--metrics-bind-address");
    if (!addr.ok()) return addr.error();
    std::map<std::string, HttpRoute> routes;
    routes["/metrics"] = [this] { return HttpReply{200, "text/plain; version=0.0.4; charset=utf-8", metrics_text()}; };
    metrics_server_ = make_http_server(*addr, std::move(routes), logger_);
    if (auto st = metrics_server_->start(); !st.ok()) {
      return make_error(st.error().code, "--metrics-bind-address: " + st.error().message);
    }
    logger_.info("serving metrics", {{"port", metrics_server_->port()}});
  }
  for (auto& inf : informers_) inf->start();

  if (options_.leader_elect) {
    LeaderElectionOptions lo;
    lo.lease_namespace = default_lease_namespace();
    if (lo.lease_namespace.empty()) {
      return make_error(Code::kInvalid,
                        "--leader-election-namespace is required when not running in a cluster (no POD_NAMESPACE)");
    }
    lo.lease_name = options_.leader_election_id.empty() ? options_.name : options_.leader_election_id;
    if (lo.lease_name.empty()) {
      return make_error(Code::kInvalid, "leader election needs a lease name (the manager's name)");
    }
    lo.identity = identity_;
    lo.lease_duration = options_.lease_duration;
    lo.renew_deadline = options_.renew_deadline;
    lo.retry_period = options_.retry_period;
    LeaderCallbacks cb;
    cb.on_started_leading = [this] { start_controllers_when_synced(); };
    cb.on_stopped_leading = [this] {
      if (!shutting_down_) on_lost_leadership();
    };
    elector_ = std::make_unique<LeaderElector>(*client_, clock_, lo, cb, logger_,
                                               &make_leader_gauge(*registry_, lo.lease_name));
    election_thread_ = std::thread([this] {
      if (!elector_->run(election_stop_)) on_lost_leadership();
    });
  } else {
    start_controllers_when_synced();
  }
  return kube::ok_status();
}

void Manager::start_controllers_when_synced() {
  // Called from the elector's thread; shutdown may be joining at the same time.
  std::lock_guard lock(sync_mu_);
  if (shutting_down_ || controllers_started_.exchange(true)) return;
  sync_thread_ = std::thread([this] {
    while (true) {
      bool synced = true;
      for (auto& inf : informers_) synced = synced && inf->has_synced();
      if (synced) break;
      if (!sync_stop_.sleep_for(std::chrono::milliseconds(50))) return;
    }
    if (shutting_down_) return;
    for (auto& c : controllers_) c->start();
  });
}

void Manager::on_lost_leadership() {
  // No split brain: stop handing out work before anything else.
  for (auto& c : controllers_) c->queue().shut_down();
  logger_.error("leader election lost, stopping");
  stop(1);
}

void Manager::stop(int exit_code) {
  if (exit_code != 0) exit_code_.store(exit_code);
  stop_.stop();
}

int Manager::wait_and_shutdown() {
  (void)stop_.wait();
  if (shutting_down_.exchange(true)) return exit_code_.load();
  logger_.info("shutting down: no new work; waiting for running reconciles",
               {{"timeoutSeconds", std::chrono::duration<double>(options_.graceful_shutdown_timeout).count()}});
  sync_stop_.stop();
  std::thread sync_thread;
  {
    std::lock_guard lock(sync_mu_);
    sync_thread = std::move(sync_thread_);
  }
  if (sync_thread.joinable()) sync_thread.join();
  const TimePoint deadline = clock_.now() + options_.graceful_shutdown_timeout;
  bool clean = true;
  for (auto& c : controllers_) {
    const Duration left = std::max(Duration::zero(), deadline - clock_.now());
    if (!c->stop(left)) clean = false;
  }
  election_stop_.stop();
  if (election_thread_.joinable()) election_thread_.join();  // releases the lease
  for (auto& inf : informers_) inf->stop();
  events_->shutdown();
  if (metrics_server_) metrics_server_->stop();
  if (health_server_) health_server_->stop();
  if (!clean) {
    logger_.error("reconciles still running after the grace period; exiting");
    // Worker threads are still inside reconcile and reference this manager:
    // leave without running destructors under them.
    std::_Exit(1);
  }
  logger_.info("shutdown complete", {{"exitCode", exit_code_.load()}});
  return exit_code_.load();
}

int Manager::run() {
  SignalWatcher signals(*this);
  if (auto st = start(); !st.ok()) {
    logger_.error("could not start", {{"error", st.error().message}});
    stop(1);
    (void)wait_and_shutdown();
    return 1;
  }
  return wait_and_shutdown();
}

}  // namespace sot::runtime
