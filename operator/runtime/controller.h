// A controller: a work queue of primary-object keys fed by informer handlers,
// and a fixed pool of workers that call the Reconciler for each key. This is
// controller-runtime's controller reduced to what we use:
//  - reconcile is level-based: the reconciler gets only a key and reads the
//    current state from the caches (Context::cache) and the API server;
//  - an error retries the key with per-key exponential backoff, a requeue
//    retries with backoff, requeue_after retries after exactly that long, and
//    a success forgets the key's backoff;
//  - every key is re-queued each resync period, so drift that produced no
//    event is still repaired;
//  - the queue guarantees one worker per key at a time.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/registry.h>

#include "kube/client.h"
#include "runtime/clock.h"
#include "runtime/event_recorder.h"
#include "runtime/informer.h"
#include "runtime/logger.h"
#include "runtime/metrics.h"
#include "runtime/workqueue.h"

namespace sot::runtime {

struct [[nodiscard]] ReconcileResult {
  bool requeue = false;
  Duration requeue_after{0};
  std::optional<kube::Error> error;

  static ReconcileResult done() { return {}; }
  static ReconcileResult failed(kube::Error e) { return {false, Duration{0}, std::move(e)}; }
  static ReconcileResult after(Duration d) { return {false, d, std::nullopt}; }
  static ReconcileResult again() { return {true, Duration{0}, std::nullopt}; }
};

// Finds the informer cache for a resource kind.
class CacheProvider {
 public:
  virtual ~CacheProvider() = default;
  // nullptr when no informer watches `resource`.
  virtual const CacheReader* cache_for(const kube::ResourceRef& resource) const = 0;
};

// What a reconcile call gets besides the key.
class Context {
 public:
  Context(std::string reconcile_id, Logger logger, kube::KubeClient& client, const CacheProvider& caches,
          EventRecorder* events, Clock& clock)
      : reconcile_id_(std::move(reconcile_id)),
        logger_(std::move(logger)),
        client_(client),
        caches_(caches),
        events_(events),
        clock_(clock) {}

  const std::string& reconcile_id() const { return reconcile_id_; }
  // Carries controller, namespace, name and reconcileID.
  const Logger& log() const { return logger_; }
  kube::KubeClient& client() { return client_; }
  const CacheReader* cache(const kube::ResourceRef& resource) const { return caches_.cache_for(resource); }
  // nullptr when the controller has no event recorder.
  EventRecorder* events() { return events_; }
  Clock& clock() { return clock_; }

 private:
  std::string reconcile_id_;
  Logger logger_;
  kube::KubeClient& client_;
  const CacheProvider& caches_;
  EventRecorder* events_;
  Clock& clock_;
};

class Reconciler {
 public:
  virtual ~Reconciler() = default;
  virtual ReconcileResult reconcile(const kube::ObjectKey& key, Context& ctx) = 0;
};

struct ControllerOptions {
  std::string name;
  int max_concurrent_reconciles = 2;
  Duration resync_period = std::chrono::minutes(10);  // 0: no resync
  // null: controller-runtime's default (5 ms .. 1000 s per key, 10 qps / 100 burst overall).
  std::unique_ptr<RateLimiter> rate_limiter;
};

struct ControllerDeps {
  kube::KubeClient& client;
  Clock& clock;
  const CacheProvider& caches;
  EventRecorder* events = nullptr;
  Logger logger;
  prometheus::Registry* registry = nullptr;  // null: no metrics
};

// True when two versions of an object differ in nothing but status and the
// bookkeeping the server changes with every write (resourceVersion,
// managedFields).
bool only_status_changed(const Json& before, const Json& after);

class Controller {
 public:
  Controller(ControllerOptions options, std::unique_ptr<Reconciler> reconciler, ControllerDeps deps);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  const std::string& name() const { return options_.name; }
  WorkQueue& queue() { return *queue_; }

  // Resync re-queues every key of this cache.
  void set_primary_cache(const CacheReader* cache) { primary_ = cache; }

  // Event handlers feeding this controller's queue:
  //   the object's own key (for the primary resource); with
  //   `skip_status_only`, an update that changed nothing but status (our own
  //   status write coming back) is not queued;
  std::shared_ptr<EventHandler> enqueue_self(bool skip_status_only = false);
  //   the owning CR's key (controller ownerReference of `owner_kind`, else the
  //   label `owner_label`, see owner.h);
  std::shared_ptr<EventHandler> enqueue_owner(std::string owner_kind, std::string owner_group, std::string owner_label,
                                              Duration delay = Duration::zero());
  //   any keys a function maps the object to. A non-zero delay queues them that
  //   much later (the earliest pending time wins, so a burst makes one entry).
  std::shared_ptr<EventHandler> enqueue_mapped(std::function<std::vector<kube::ObjectKey>(const Json&)> map,
                                               Duration delay = Duration::zero());

  // Starts the workers and the resync timer.
  void start();
  // Stops handing out keys, waits up to `grace` for running reconciles to
  // finish, then joins. Returns false when some reconcile was still running
  // (its thread is then detached; the process is about to exit).
  bool stop(Duration grace);

  // Processes one key synchronously (tests); false when the queue is shut down
  // or nothing is ready by `deadline`.
  bool process_next(TimePoint deadline = TimePoint::max());
  // Queues every key of the primary cache.
  void resync();

  int active_workers() const { return active_.load(); }

 private:
  void worker();
  void run_one(const kube::ObjectKey& key);
  void trim_heap();

  ControllerOptions options_;
  std::unique_ptr<Reconciler> reconciler_;
  ControllerDeps deps_;
  std::optional<ControllerMetrics> metrics_;
  std::unique_ptr<WorkQueue> queue_;
  const CacheReader* primary_ = nullptr;
  StopSignal resync_stop_;
  std::thread resync_thread_;
  std::vector<std::thread> workers_;
  std::atomic<int> active_{0};
  std::atomic<int> running_workers_{0};
  std::mutex trim_mu_;
  TimePoint last_trim_{};
  std::mutex exit_mu_;
  std::condition_variable exit_cv_;
};

// A random reconcile id (UUID v4 text), as controller-runtime logs.
std::string new_reconcile_id();

}  // namespace sot::runtime
