#include "runtime/workqueue.h"

#include <algorithm>

namespace sot::runtime {
namespace {

double seconds(Duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

WorkQueue::WorkQueue(Clock& clock, std::unique_ptr<RateLimiter> limiter, std::optional<QueueMetrics> metrics)
    : clock_(clock), limiter_(std::move(limiter)), metrics_(metrics) {}

void WorkQueue::add(const ObjectKey& key) {
  {
    std::lock_guard lock(mu_);
    add_locked(key);
  }
  cv_.notify_one();
}

void WorkQueue::add_locked(const ObjectKey& key) {
  if (shutting_down_) return;
  if (dirty_.contains(key)) return;
  if (metrics_) metrics_->adds->Increment();
  dirty_.insert(key);
  added_at_.emplace(key, clock_.now());
  if (processing_.contains(key)) return;  // queued again by done()
  queue_.push_back(key);
  set_depth_locked();
}

void WorkQueue::add_after(const ObjectKey& key, Duration delay) {
  if (delay <= Duration::zero()) {
    add(key);
    return;
  }
  {
    std::lock_guard lock(mu_);
    if (shutting_down_) return;
    const TimePoint ready = clock_.now() + delay;
    auto it = waiting_.find(key);
    if (it != waiting_.end()) {
      if (it->second <= ready) return;  // already due sooner
      auto range = waiting_by_time_.equal_range(it->second);
      for (auto r = range.first; r != range.second; ++r) {
        if (r->second == key) {
          waiting_by_time_.erase(r);
          break;
        }
      }
      it->second = ready;
    } else {
      waiting_.emplace(key, ready);
    }
    waiting_by_time_.emplace(ready, key);
  }
  // A sleeping get() may need to wake earlier than it planned.
  cv_.notify_all();
}

void WorkQueue::add_rate_limited(const ObjectKey& key) {
  if (metrics_) metrics_->retries->Increment();
  add_after(key, limiter_->when(key));
}

void WorkQueue::forget(const ObjectKey& key) {
  limiter_->forget(key);
}

int WorkQueue::num_requeues(const ObjectKey& key) {
  return limiter_->num_requeues(key);
}

void WorkQueue::promote_due_locked(TimePoint now) {
  while (!waiting_by_time_.empty() && waiting_by_time_.begin()->first <= now) {
    ObjectKey key = waiting_by_time_.begin()->second;
    waiting_by_time_.erase(waiting_by_time_.begin());
    waiting_.erase(key);
    add_locked(key);
  }
}

std::optional<ObjectKey> WorkQueue::get() {
  return get_until(TimePoint::max());
}

std::optional<ObjectKey> WorkQueue::get_until(TimePoint deadline) {
  std::unique_lock lock(mu_);
  while (true) {
    if (shutting_down_) return std::nullopt;
    const TimePoint now = clock_.now();
    promote_due_locked(now);
    if (!queue_.empty()) break;
    if (now >= deadline) return std::nullopt;
    TimePoint wake = deadline;
    if (!waiting_by_time_.empty()) wake = std::min(wake, waiting_by_time_.begin()->first);
    clock_.wait_until(cv_, lock, wake);
  }
  ObjectKey key = queue_.front();
  queue_.pop_front();
  const TimePoint now = clock_.now();
  processing_[key] = now;
  dirty_.erase(key);
  if (auto it = added_at_.find(key); it != added_at_.end()) {
    if (metrics_) metrics_->queue_duration->Observe(seconds(now - it->second));
    added_at_.erase(it);
  }
  set_depth_locked();
  return key;
}

void WorkQueue::done(const ObjectKey& key) {
  bool requeued = false;
  {
    std::lock_guard lock(mu_);
    auto it = processing_.find(key);
    if (it == processing_.end()) return;
    if (metrics_) metrics_->work_duration->Observe(seconds(clock_.now() - it->second));
    processing_.erase(it);
    if (dirty_.contains(key) && !shutting_down_) {
      queue_.push_back(key);
      set_depth_locked();
      requeued = true;
    }
  }
  if (requeued) cv_.notify_one();
}

void WorkQueue::shut_down() {
  {
    std::lock_guard lock(mu_);
    shutting_down_ = true;
  }
  cv_.notify_all();
}

bool WorkQueue::shutting_down() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

std::size_t WorkQueue::len() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

std::size_t WorkQueue::delayed_len() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

std::size_t WorkQueue::processing_len() const {
  std::lock_guard lock(mu_);
  return processing_.size();
}

std::optional<TimePoint> WorkQueue::next_ready() const {
  std::lock_guard lock(mu_);
  if (waiting_by_time_.empty()) return std::nullopt;
  return waiting_by_time_.begin()->first;
}

void WorkQueue::set_depth_locked() {
  if (metrics_) metrics_->depth->Set(static_cast<double>(queue_.size()));
}

void WorkQueue::update_unfinished_work() {
  if (!metrics_) return;
  std::lock_guard lock(mu_);
  const TimePoint now = clock_.now();
  double total = 0;
  double longest = 0;
  for (const auto& [key, start] : processing_) {
    const double s = seconds(now - start);
    total += s;
    longest = std::max(longest, s);
  }
  metrics_->unfinished_work_seconds->Set(total);
  metrics_->longest_running_processor_seconds->Set(longest);
}

}  // namespace sot::runtime
