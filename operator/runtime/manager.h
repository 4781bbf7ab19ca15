// The Manager is what main() wires: it owns the API client, the shared
// informers, the controllers and their workers, leader election, the probe and
// metrics HTTP servers, the event recorder and signal handling, and runs them
// in controller-runtime's order:
//
//   start probes + /metrics ─► start informers ─► (leader election) ─► wait for
//   caches to sync ─► start workers ── SIGTERM/SIGINT ─► stop taking work ─►
//   let running reconciles finish (30 s at most) ─► release the lease ─► exit 0
//
// Only the leader runs workers; every replica runs informers, so a standby is
// ready (caches warm) the moment it takes over. Losing the lease shuts the
// queues at once and makes run() return 1 (the pod restarts as a standby), as
// controller-runtime exits on "leader election lost".
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/registry.h>

#include "kube/client.h"
#include "runtime/clock.h"
#include "runtime/controller.h"
#include "runtime/event_recorder.h"
#include "runtime/http_server.h"
#include "runtime/informer.h"
#include "runtime/leader_election.h"
#include "runtime/logger.h"

namespace sot::runtime {

struct ManagerOptions {
  // Who the program is, set by the program (this layer names none): the field
  // manager of its writes, the source of its Events and, unless
  // leader_election_id is set, the name of its Lease; and its HTTP User-Agent.
  std::string name;
  std::string user_agent;
  std::string kubeconfig;                           // --kubeconfig ("" : $KUBECONFIG, in-cluster, ~/.kube/config)
  std::string metrics_bind_address = ":8080";       // --metrics-bind-address ("0" disables)
  std::string health_probe_bind_address = ":8081";  // --health-probe-bind-address ("0" disables)
  bool leader_elect = false;                        // --leader-elect
  std::string leader_election_namespace;            // --leader-election-namespace (default: the pod's namespace)
  std::string leader_election_id;                   // "" : name
  Duration lease_duration = std::chrono::seconds(15);
  Duration renew_deadline = std::chrono::seconds(10);
  Duration retry_period = std::chrono::seconds(2);
  int max_concurrent_reconciles = 2;                              // --max-concurrent-reconciles
  Duration resync_period = std::chrono::minutes(10);              // --resync-period (Go duration: 10m, 30s, 1h30m)
  LogLevel log_level = LogLevel::kInfo;                           // --log-level debug|info|warn|error
  std::vector<std::string> namespaces;                            // --namespaces a,b (empty: all)
  Duration graceful_shutdown_timeout = std::chrono::seconds(30);  // --graceful-shutdown-timeout
};

// Parses the manager's flags ("--flag value" or "--flag=value"; --leader-elect
// alone means true). Arguments it does not know go to `rest` in order when
// `rest` is given (so main can take subcommands and its own flags); without
// `rest` they are an error. Every error names the flag.
kube::Result<ManagerOptions> parse_manager_flags(const std::vector<std::string>& args,
                                                 std::vector<std::string>* rest = nullptr);
// The flags and their defaults, for --help.
std::string manager_flags_help();
// "90s", "10m", "1h30m", "250ms".
kube::Result<Duration> parse_go_duration(std::string_view text);
// The namespace this process runs in: $POD_NAMESPACE, else the in-cluster
// service-account namespace file; "" outside a cluster.
std::string pod_namespace();

// A child kind the controller watches, mapped to the owning CR's key.
struct OwnedResource {
  kube::ResourceRef resource;
  std::string label_selector;  // e.g. "app.kubernetes.io/managed-by=<the controller>"
  // Children may live in other namespaces (targetNamespace): watch all of them.
  // false: the manager's --namespaces.
  bool all_namespaces = false;
};

// Another kind whose changes concern some primary objects without being their
// children (e.g. the Namespaces that resources target): `map` names the
// primary keys an object concerns, with the primary cache at hand (its index
// answers "which resources point here" without a scan).
struct WatchedResource {
  kube::ResourceRef resource;
  std::string label_selector;
  std::function<std::vector<kube::ObjectKey>(const Json& object, const CacheReader& primary)> map;
};

struct ControllerSpec {
  std::string name;           // metrics and logs: controller="<name>"
  kube::ResourceRef primary;  // the CR
  std::string owner_label;    // children elsewhere name their CR here (owner.h); "": references only
  std::string primary_label_selector;
  std::vector<OwnedResource> owns;
  std::vector<WatchedResource> watches;  // always all namespaces (or cluster-scoped)
  int max_concurrent_reconciles = 0;     // 0: the manager's
  // Owned objects' events reach the queue this long after they arrive (zero:
  // at once). Applying a child set echoes one event per child over a few
  // hundred milliseconds; a short delay turns them into one pass instead of a
  // pass per handful of echoes.
  Duration owned_event_delay = Duration::zero();
  // The primary's updates that change nothing but status are not queued: a
  // reconciler's own status write would otherwise bring it straight back.
  bool skip_status_only_updates = false;
  // The primary cache's index (CacheReader::by_index); empty for none.
  Indexer primary_index;
  std::unique_ptr<RateLimiter> rate_limiter;  // null: default
};

class Manager final : public CacheProvider {
 public:
  // Loads the kubeconfig and builds the real client (with rest_client_* metrics).
  static kube::Result<std::unique_ptr<Manager>> create(ManagerOptions options);

  Manager(ManagerOptions options, std::unique_ptr<kube::KubeClient> client,
          std::shared_ptr<prometheus::Registry> registry = nullptr, Clock& clock = real_clock(),
          std::optional<Logger> logger = std::nullopt);
  ~Manager() override;
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // A shared informer: the same resource, namespaces and selectors give the same one.
  Informer& informer(InformerOptions options);
  // Registers a controller: an informer for the primary resource enqueuing its
  // own keys, one per owned kind enqueuing the owner's key.
  Controller& add_controller(ControllerSpec spec, std::unique_ptr<Reconciler> reconciler);
  const CacheReader* cache_for(const kube::ResourceRef& resource) const override;

  // Installs SIGTERM/SIGINT handlers, start()s, blocks until a signal (a second
  // signal exits at once with 1) or stop(), shuts down. Returns the exit code:
  // 0 after a clean shutdown, 1 when the lease was lost, startup failed or
  // reconciles outlived the grace period.
  int run();
  // The non-blocking halves of run(), for tests and embedding.
  kube::Status start();
  int wait_and_shutdown();
  // Asks run()/wait_and_shutdown() to shut down (thread-safe).
  void stop(int exit_code = 0);

  bool healthy() const { return true; }
  // Caches synced (and, with leader election, the elector running).
  bool ready() const;
  bool is_leader() const;
  int metrics_port() const { return metrics_server_ ? metrics_server_->port() : 0; }
  int health_port() const { return health_server_ ? health_server_->port() : 0; }

  kube::KubeClient& client() { return *client_; }
  prometheus::Registry& registry() { return *registry_; }
  const Logger& logger() const { return logger_; }
  EventRecorder& events() { return *events_; }
  Clock& clock() { return clock_; }
  const ManagerOptions& options() const { return options_; }
  std::string identity() const { return identity_; }
  // Prometheus text exposition of the registry (what /metrics serves).
  std::string metrics_text();

 private:
  void start_controllers_when_synced();
  void on_lost_leadership();
  std::string default_lease_namespace() const;

  ManagerOptions options_;
  std::unique_ptr<kube::KubeClient> client_;
  std::shared_ptr<prometheus::Registry> registry_;
  Clock& clock_;
  Logger logger_;
  std::string identity_;
  std::unique_ptr<EventRecorder> events_;

  std::vector<std::unique_ptr<Informer>> informers_;
  std::vector<std::unique_ptr<Controller>> controllers_;
  std::unique_ptr<HttpServer> metrics_server_;
  std::unique_ptr<HttpServer> health_server_;
  std::unique_ptr<LeaderElector> elector_;

  StopSignal stop_;
  StopSignal election_stop_;
  StopSignal sync_stop_;
  std::thread election_thread_;
  std::mutex sync_mu_;  // guards sync_thread_ (started from the elector's thread)
  std::thread sync_thread_;
  std::atomic<int> exit_code_{0};
  std::atomic<bool> started_{false};
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> controllers_started_{false};
};

}  // namespace sot::runtime
