// An informer keeps a local cache of one kind of object in step with the API
// server and tells handlers what changed, as client-go's reflector + indexer do:
//
//   list (paged) ──► replace cache, notify the diff ──► watch from the list's
//   resourceVersion (bookmarks on) ──► apply each event to the cache, notify
//        │ server closed the watch: watch again from the last resourceVersion
//        │ 410 Gone / Expired:       relist, notify what changed in the gap
//        └ any other error:          jittered backoff (0.8 s .. 30 s), watch again
//
// One reflector thread runs per namespace in scope (or one for all namespaces);
// they share one cache. Objects are passed through a transform (by default
// strip_for_cache) before they are stored. Handlers run on the reflector
// thread after the cache has been updated, so a reconciler triggered by an
// event reads a cache at least as new as that event. Handlers must be quick
// (enqueue a key), never block.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kube/client.h"
#include "runtime/backoff.h"
#include "runtime/clock.h"
#include "runtime/logger.h"
#include "runtime/store.h"

namespace sot::runtime {

class EventHandler {
 public:
  virtual ~EventHandler() = default;
  virtual void on_add(const ObjectPtr& object) = 0;
  virtual void on_update(const ObjectPtr& old_object, const ObjectPtr& new_object) = 0;
  virtual void on_delete(const ObjectPtr& object) = 0;
};

// An EventHandler from three functions (any may be empty).
class FuncEventHandler final : public EventHandler {
 public:
  std::function<void(const ObjectPtr&)> add;
  std::function<void(const ObjectPtr&, const ObjectPtr&)> update;
  std::function<void(const ObjectPtr&)> remove;
  void on_add(const ObjectPtr& o) override {
    if (add) add(o);
  }
  void on_update(const ObjectPtr& a, const ObjectPtr& b) override {
    if (update) update(a, b);
  }
  void on_delete(const ObjectPtr& o) override {
    if (remove) remove(o);
  }
};

struct InformerOptions {
  kube::ResourceRef resource;
  std::vector<std::string> namespaces;  // empty: all namespaces (or cluster-scoped)
  std::string label_selector;
  std::string field_selector;
  std::int64_t page_size = 100;
  BackoffOptions backoff;
  // The server closes a watch after a random time in [min, 2*min).
  int min_watch_timeout_seconds = 300;
  std::function<void(Json&)> transform = strip_for_cache;
  Indexer index;  // empty: the cache keeps no index (by_index() finds nothing)
};

class Informer {
 public:
  Informer(kube::KubeClient& client, Clock& clock, InformerOptions options, Logger logger = Logger());
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Handlers added after start() first receive an add for every cached object.
  void add_handler(std::shared_ptr<EventHandler> handler);
  void start();
  // Cancels the watches and joins the threads. Idempotent.
  void stop();

  // True once every namespace in scope has completed its first list.
  bool has_synced() const;
  const CacheReader& cache() const { return store_; }
  const InformerOptions& options() const { return options_; }
  // Completed lists (initial and relists), for tests and metrics.
  std::uint64_t list_count() const { return lists_.load(); }

 private:
  void reflect(const std::string& ns);
  [[nodiscard]] bool relist(const std::string& ns, std::string& resource_version);
  void dispatch(const PackedDelta& delta);
  void notify_add(const ObjectPtr& o);
  void notify_update(const ObjectPtr& a, const ObjectPtr& b);
  void notify_delete(const ObjectPtr& o);
  ObjectPtr prepare(Json&& object) const;

  kube::KubeClient& client_;
  Clock& clock_;
  InformerOptions options_;
  Logger logger_;
  Store store_;
  StopSignal stop_;

  std::mutex handlers_mu_;  // also serialises notifications
  std::vector<std::shared_ptr<EventHandler>> handlers_;

  std::mutex cancel_mu_;
  std::vector<kube::Cancellation*> active_watches_;

  std::vector<std::thread> threads_;
  std::atomic<std::size_t> synced_{0};
  std::atomic<std::uint64_t> lists_{0};
  std::atomic<bool> started_{false};
};

}  // namespace sot::runtime
