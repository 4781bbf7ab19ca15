// The rate-limited work queue between informer events and reconcile workers,
// with client-go's semantics:
//  - a key waiting in the queue is stored once, however often it is added;
//  - a key being processed is never handed to a second worker; if it is added
//    meanwhile it is marked dirty and queued again once done() is called;
//  - add_after() delays a key (the earliest pending time wins), and
//    add_rate_limited() delays it by the rate limiter (per-key backoff);
//  - shut_down() wakes every get() with nullopt; keys still queued are dropped.
// Delayed keys are promoted lazily by get() against the injected Clock, so a
// test that advances a fake clock sees them become ready without sleeping.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kube/resource.h"
#include "runtime/clock.h"
#include "runtime/metrics.h"
#include "runtime/rate_limiter.h"

namespace sot::runtime {

class WorkQueue {
 public:
  // `metrics` may be null (no metrics).
  WorkQueue(Clock& clock, std::unique_ptr<RateLimiter> limiter, std::optional<QueueMetrics> metrics = std::nullopt);

  void add(const ObjectKey& key);
  void add_after(const ObjectKey& key, Duration delay);
  // Delays `key` by the limiter's backoff and counts a retry.
  void add_rate_limited(const ObjectKey& key);
  // Forgets the key's failure history (call after a success).
  void forget(const ObjectKey& key);
  int num_requeues(const ObjectKey& key);

  // Blocks until a key is ready; nullopt once shut down.
  [[nodiscard]] std::optional<ObjectKey> get();
  // Like get() but gives up at `deadline` on the queue's clock.
  [[nodiscard]] std::optional<ObjectKey> get_until(TimePoint deadline);
  // Marks a key from get() as finished.
  void done(const ObjectKey& key);

  void shut_down();
  bool shutting_down() const;

  // Keys ready to be handed out (not counting delayed or in-process keys).
  std::size_t len() const;
  // Keys waiting for a delay to pass.
  std::size_t delayed_len() const;
  // Keys currently being processed.
  std::size_t processing_len() const;
  // Earliest time a delayed key becomes ready (nullopt when none is delayed).
  std::optional<TimePoint> next_ready() const;

  // Refreshes the unfinished-work gauges (called by the metrics scrape loop).
  void update_unfinished_work();

 private:
  void add_locked(const ObjectKey& key);
  void promote_due_locked(TimePoint now);
  void set_depth_locked();

  Clock& clock_;
  std::unique_ptr<RateLimiter> limiter_;
  std::optional<QueueMetrics> metrics_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool shutting_down_ = false;
  std::deque<ObjectKey> queue_;
  std::set<ObjectKey> dirty_;
  std::map<ObjectKey, TimePoint> processing_;  // key -> when it was handed out
  std::map<ObjectKey, TimePoint> added_at_;    // for queue_duration
  std::map<ObjectKey, TimePoint> waiting_;     // delayed key -> ready time
  std::multimap<TimePoint, ObjectKey> waiting_by_time_;
};

}  // namespace sot::runtime
