#include "runtime/controller.h"

#include <algorithm>
#include <cstdio>
#include <malloc.h>
#include <random>

#include "runtime/owner.h"

namespace sot::runtime {

std::string new_reconcile_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::uint64_t a = rng();
  const std::uint64_t b = rng();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

Controller::Controller(ControllerOptions options, std::unique_ptr<Reconciler> reconciler, ControllerDeps deps)
    : options_(std::move(options)),
      reconciler_(std::move(reconciler)),
      deps_(std::move(deps)),
      resync_stop_(deps_.clock) {
  deps_.logger = deps_.logger.with("controller", options_.name);
  std::optional<QueueMetrics> qm;
  if (deps_.registry != nullptr) {
    metrics_ = make_controller_metrics(*deps_.registry, options_.name);
    metrics_->max_concurrent->Set(options_.max_concurrent_reconciles);
    qm = make_queue_metrics(*deps_.registry, options_.name);
  }
  auto limiter =
      options_.rate_limiter ? std::move(options_.rate_limiter) : default_controller_rate_limiter(deps_.clock);
  queue_ = std::make_unique<WorkQueue>(deps_.clock, std::move(limiter), qm);
}

Controller::~Controller() {
  (void)stop(std::chrono::seconds(0));
}

bool only_status_changed(const Json& before, const Json& after) {
  if (!before.is_object() || !after.is_object()) return false;
  auto same_except = [](const Json& a, const Json& b, std::initializer_list<std::string_view> ignored) {
    auto skip = [&](const std::string& k) { return std::find(ignored.begin(), ignored.end(), k) != ignored.end(); };
    std::size_t counted = 0;
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (skip(it.key())) continue;
      ++counted;
      auto other = b.find(it.key());
      if (other == b.end() || *other != it.value()) return false;
    }
    for (auto it = b.begin(); it != b.end(); ++it) {
      if (!skip(it.key())) --counted;
    }
    return counted == 0;
  };
  static const Json kNone = Json::object();
  const auto mb = before.find("metadata");
  const auto ma = after.find("metadata");
  const Json& meta_before = mb != before.end() && mb->is_object() ? *mb : kNone;
  const Json& meta_after = ma != after.end() && ma->is_object() ? *ma : kNone;
  return same_except(before, after, {"status", "metadata"}) &&
         same_except(meta_before, meta_after, {"resourceVersion", "managedFields"});
}

std::shared_ptr<EventHandler> Controller::enqueue_self(bool skip_status_only) {
  auto h = std::make_shared<FuncEventHandler>();
  WorkQueue* q = queue_.get();
  h->add = [q](const ObjectPtr& o) { q->add(key_of(*o)); };
  h->update = [q, skip_status_only](const ObjectPtr& before, const ObjectPtr& o) {
    if (skip_status_only && before && only_status_changed(*before, *o)) return;
    q->add(key_of(*o));
  };
  h->remove = [q](const ObjectPtr& o) { q->add(key_of(*o)); };
  return h;
}

std::shared_ptr<EventHandler> Controller::enqueue_owner(std::string owner_kind, std::string owner_group,
                                                        std::string owner_label, Duration delay) {
  return enqueue_mapped(
      [kind = std::move(owner_kind), group = std::move(owner_group), label = std::move(owner_label)](const Json& o) {
        std::vector<kube::ObjectKey> out;
        if (auto k = owner_key(o, kind, group, label)) out.push_back(std::move(*k));
        return out;
      },
      delay);
}

std::shared_ptr<EventHandler> Controller::enqueue_mapped(std::function<std::vector<kube::ObjectKey>(const Json&)> map,
                                                         Duration delay) {
  auto h = std::make_shared<FuncEventHandler>();
  WorkQueue* q = queue_.get();
  auto enqueue = [q, map = std::move(map), delay](const Json& o) {
    for (const auto& k : map(o)) q->add_after(k, delay);  // zero: add() at once
  };
  h->add = [enqueue](const ObjectPtr& o) { enqueue(*o); };
  // Both sides: an edit that moves a child to another owner concerns both owners.
  h->update = [enqueue](const ObjectPtr& a, const ObjectPtr& b) {
    enqueue(*a);
    enqueue(*b);
  };
  h->remove = [enqueue](const ObjectPtr& o) { enqueue(*o); };
  return h;
}

void Controller::start() {
  if (!workers_.empty()) return;
  deps_.logger.info("starting workers", {{"workerCount", options_.max_concurrent_reconciles}});
  for (int i = 0; i < options_.max_concurrent_reconciles; ++i) {
    running_workers_.fetch_add(1);
    workers_.emplace_back([this] { worker(); });
  }
  if (options_.resync_period > Duration::zero()) {
    resync_thread_ = std::thread([this] {
      // A little jitter so several controllers do not resync in step.
      std::mt19937_64 rng{std::random_device{}()};
      while (true) {
        const auto jitter = Duration(static_cast<Duration::rep>(std::uniform_real_distribution<double>(0, 0.1)(rng) *
                                                                static_cast<double>(options_.resync_period.count())));
        if (!resync_stop_.sleep_for(options_.resync_period + jitter)) return;
        resync();
      }
    });
  }
}

void Controller::resync() {
  if (primary_ == nullptr) return;
  const auto keys = primary_->keys();
  deps_.logger.debug("resync", {{"keys", keys.size()}});
  for (const auto& k : keys) queue_->add(k);
}

bool Controller::stop(Duration grace) {
  resync_stop_.stop();
  if (resync_thread_.joinable()) resync_thread_.join();
  queue_->shut_down();
  bool clean = true;
  {
    std::unique_lock lock(exit_mu_);
    const TimePoint deadline = deps_.clock.now() + grace;
    while (running_workers_.load() > 0 && deps_.clock.now() < deadline) {
      deps_.clock.wait_until(exit_cv_, lock, deadline);
    }
    clean = running_workers_.load() == 0;
  }
  for (auto& t : workers_) {
    if (!t.joinable()) continue;
    if (clean) {
      t.join();
    } else {
      t.detach();
    }
  }
  workers_.clear();
  return clean;
}

void Controller::worker() {
  while (auto key = queue_->get()) {
    run_one(*key);
    // A burst of reconciles (startup, a resync, many resources at once)
    // parses thousands of objects and leaves freed heap that glibc keeps;
    // when the queue has drained, hand it back to the system.
    if (queue_->len() == 0 && queue_->processing_len() == 0) trim_heap();
  }
  {
    std::lock_guard lock(exit_mu_);
    running_workers_.fetch_sub(1);
  }
  exit_cv_.notify_all();
}

void Controller::trim_heap() {
  const TimePoint now = deps_.clock.now();
  std::lock_guard lock(trim_mu_);
  if (now - last_trim_ < std::chrono::seconds(5)) return;
  last_trim_ = now;
  malloc_trim(0);
}

bool Controller::process_next(TimePoint deadline) {
  auto key = queue_->get_until(deadline);
  if (!key) return false;
  run_one(*key);
  return true;
}

void Controller::run_one(const kube::ObjectKey& key) {
  const int active = active_.fetch_add(1) + 1;
  if (metrics_) metrics_->active_workers->Set(active);
  const std::string id = new_reconcile_id();
  Logger log = deps_.logger.with("namespace", key.ns).with("name", key.name).with("reconcileID", id);
  Context ctx(id, log, deps_.client, deps_.caches, deps_.events, deps_.clock);
  const TimePoint start = deps_.clock.now();
  ReconcileResult result;
  try {
    result = reconciler_->reconcile(key, ctx);
  } catch (const std::exception& e) {
    // A throwing reconciler is a bug; keep the worker alive and retry with backoff.
    result =
        ReconcileResult::failed(kube::make_error(kube::Code::kInternal, std::string("reconciler threw: ") + e.what()));
  } catch (...) {
    result = ReconcileResult::failed(kube::make_error(kube::Code::kInternal, "reconciler threw"));
  }
  if (metrics_) metrics_->reconcile_time->Observe(std::chrono::duration<double>(deps_.clock.now() - start).count());

  if (result.error) {
    if (metrics_) {
      metrics_->reconcile_errors->Increment();
      metrics_->reconcile_error->Increment();
    }
    log.error("Reconciler error", {{"error", result.error->to_string()}});
    queue_->add_rate_limited(key);
  } else if (result.requeue_after > Duration::zero()) {
    if (metrics_) metrics_->reconcile_requeue_after->Increment();
    queue_->forget(key);
    queue_->add_after(key, result.requeue_after);
  } else if (result.requeue) {
    if (metrics_) metrics_->reconcile_requeue->Increment();
    queue_->add_rate_limited(key);
  } else {
    if (metrics_) metrics_->reconcile_success->Increment();
    queue_->forget(key);
  }
  queue_->done(key);
  const int now_active = active_.fetch_sub(1) - 1;
  if (metrics_) metrics_->active_workers->Set(now_active);
}

}  // namespace sot::runtime
