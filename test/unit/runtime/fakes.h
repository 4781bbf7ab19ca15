// Test doubles for the runtime: a clock the test drives by hand and an
// in-memory API server (objects, resourceVersions, watches, 410 after a
// compaction, injected failures). Header-only, used by the unit tests only.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "kube/client.h"
#include "kube/deadline.h"
#include "runtime/clock.h"
#include "runtime/store.h"

namespace sot::test {

using namespace std::chrono_literals;
using kube::Json;

// Time moves only in advance(). Waiters registered through wait_until() are
// woken by advance(); wait_for_waiters() lets a test wait (on the real clock,
// bounded) until background threads are parked on this clock.
class FakeClock final : public runtime::Clock {
 public:
  runtime::TimePoint now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  runtime::WallTime wall_now() const override {
    std::lock_guard lock(mu_);
    return runtime::WallTime(std::chrono::seconds(1'700'000'000)) +
           std::chrono::duration_cast<runtime::WallTime::duration>(now_ - runtime::TimePoint{});
  }
  void wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                  runtime::TimePoint deadline) override {
    Waiter w{&cv, lock.mutex(), deadline};
    {
      std::lock_guard g(mu_);
      if (now_ >= deadline) return;
      waiters_.push_back(&w);
    }
    cv.wait(lock);
    std::lock_guard g(mu_);
    std::erase(waiters_, &w);
  }
  void advance(runtime::Duration d) {
    std::vector<Waiter> copy;
    {
      std::lock_guard lock(mu_);
      now_ += d;
      for (auto* w : waiters_) copy.push_back(*w);
    }
    for (auto& w : copy) {
      std::lock_guard l(*w.mu);  // the waiter is inside cv.wait once we hold its mutex
      w.cv->notify_all();
    }
  }
  // Threads parked on this clock whose deadline is still ahead (a waiter whose
  // deadline has passed is about to wake and does not count).
  std::size_t waiters() const {
    std::lock_guard lock(mu_);
    return static_cast<std::size_t>(
        std::count_if(waiters_.begin(), waiters_.end(), [&](const Waiter* w) { return w->deadline > now_; }));
  }
  // Waits (real time, at most 5 s) until at least n threads sleep on this clock.
  bool wait_for_waiters(std::size_t n) const {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waiters() >= n) return true;
      std::this_thread::sleep_for(1ms);
    }
    return false;
  }
  // The earliest deadline of any waiter (to advance exactly to it).
  std::optional<runtime::TimePoint> next_deadline() const {
    std::lock_guard lock(mu_);
    std::optional<runtime::TimePoint> out;
    for (auto* w : waiters_) {
      if (w->deadline <= now_) continue;
      if (!out || w->deadline < *out) out = w->deadline;
    }
    return out;
  }

 private:
  struct Waiter {
    std::condition_variable* cv;
    std::mutex* mu;
    runtime::TimePoint deadline;
  };
  mutable std::mutex mu_;
  runtime::TimePoint now_{std::chrono::hours(1000)};
  std::vector<Waiter*> waiters_;
};

// Polls `pred` on the real clock (bounded); for handing results between threads.
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return pred();
}

// An in-memory API server for one process. Objects are kept per plural; every
// write bumps a global resourceVersion and appends a watch event. compact()
// forgets history so older watches get 410 Gone, as etcd compaction does.
class FakeKubeClient final : public kube::KubeClient {
 public:
  struct Call {
    std::string verb;
    std::string plural;
    kube::ObjectKey key;
    Json body;
    // What was left of the calling thread's request deadline (kube/deadline.h).
    std::optional<std::chrono::milliseconds> time_left = kube::request_time_left();
  };

  // ---- test controls
  Json put(const kube::ResourceRef& ref, Json obj) {  // create or replace, emitting an event
    std::lock_guard lock(mu_);
    return put_locked(ref, std::move(obj));
  }
  void erase(const kube::ResourceRef& ref, const kube::ObjectKey& key) {
    std::lock_guard lock(mu_);
    erase_locked(ref, key);
  }
  void compact() {
    std::lock_guard lock(mu_);
    compacted_ = rv_;
    history_.clear();
  }
  // Ends every running watch with an error (a dropped connection).
  void break_watches() {
    {
      std::lock_guard lock(mu_);
      ++break_epoch_;
    }
    cv_.notify_all();
  }
  // Ends every running watch as the server does at its timeout.
  void close_watches() {
    {
      std::lock_guard lock(mu_);
      ++close_epoch_;
    }
    cv_.notify_all();
  }
  void set_unavailable(bool down) {
    {
      std::lock_guard lock(mu_);
      unavailable_ = down;
      if (down) ++break_epoch_;
    }
    cv_.notify_all();
  }
  std::deque<kube::Error> fail_next_update;  // consumed by update()
  std::vector<Call> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  int count(const std::string& verb, const std::string& plural = {}) const {
    std::lock_guard lock(mu_);
    return static_cast<int>(std::count_if(calls_.begin(), calls_.end(), [&](const Call& c) {
      return c.verb == verb && (plural.empty() || c.plural == plural);
    }));
  }
  int active_watches() const {
    std::lock_guard lock(mu_);
    return active_watches_;
  }
  std::optional<Json> stored(const kube::ResourceRef& ref, const kube::ObjectKey& key) const {
    std::lock_guard lock(mu_);
    auto it = objects_.find({ref.plural, key});
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }

  // ---- KubeClient
  kube::Result<Json> get(const kube::ResourceRef& ref, const kube::ObjectKey& key) override {
    std::lock_guard lock(mu_);
    calls_.push_back({"get", ref.plural, key, {}});
    if (unavailable_) return kube::make_error(kube::Code::kUnavailable, "connection refused");
    auto it = objects_.find({ref.plural, key});
    if (it == objects_.end()) return kube::make_error(kube::Code::kNotFound, "not found", 404);
    return it->second;
  }
  kube::Result<Json> list(const kube::ResourceRef& ref, std::string_view ns, const kube::ListOptions& opts) override {
    std::lock_guard lock(mu_);
    calls_.push_back({"list", ref.plural, {std::string(ns), ""}, {}});
    if (unavailable_) return kube::make_error(kube::Code::kUnavailable, "connection refused");
    auto sel = runtime::LabelSelector::parse(opts.label_selector);
    Json items = Json::array();
    for (const auto& [k, v] : objects_) {
      if (k.first != ref.plural || (!ns.empty() && k.second.ns != ns)) continue;
      if (!sel->matches(v["metadata"].value("labels", Json::object()))) continue;
      Json item = v;
      item.erase("kind");
      item.erase("apiVersion");
      items.push_back(std::move(item));
    }
    return Json{{"kind", ref.kind + "List"},
                {"metadata", {{"resourceVersion", std::to_string(rv_)}}},
                {"items", std::move(items)}};
  }
  kube::Result<Json> create(const kube::ResourceRef& ref, std::string_view ns, const Json& object) override {
    std::lock_guard lock(mu_);
    calls_.push_back({"create", ref.plural, {std::string(ns), object["metadata"].value("name", "")}, object});
    if (unavailable_) return kube::make_error(kube::Code::kUnavailable, "connection refused");
    if (objects_.contains({ref.plural, runtime::key_of(object)})) {
      return kube::make_error(kube::Code::kAlreadyExists, "already exists", 409);
    }
    return put_locked(ref, object);
  }
  kube::Result<Json> apply(const kube::ResourceRef& ref, const kube::ObjectKey& key, const Json& object,
                           const kube::ApplyOptions&) override {
    std::lock_guard lock(mu_);
    calls_.push_back({"apply", ref.plural, key, object});
    return put_locked(ref, object);
  }
  kube::Result<Json> merge_patch(const kube::ResourceRef& ref, const kube::ObjectKey& key, const Json& patch,
                                 const kube::PatchOptions&) override {
    std::lock_guard lock(mu_);
    calls_.push_back({"patch", ref.plural, key, patch});
    if (unavailable_) return kube::make_error(kube::Code::kUnavailable, "connection refused");
    auto it = objects_.find({ref.plural, key});
    if (it == objects_.end()) return kube::make_error(kube::Code::kNotFound, "not found", 404);
    Json obj = it->second;
    obj.merge_patch(patch);
    return put_locked(ref, obj);
  }
  kube::Result<Json> update(const kube::ResourceRef& ref, const Json& object, const kube::UpdateOptions&) override {
    std::lock_guard lock(mu_);
    const auto key = runtime::key_of(object);
    calls_.push_back({"update", ref.plural, key, object});
    if (unavailable_) return kube::make_error(kube::Code::kUnavailable, "connection refused");
    if (!fail_next_update.empty()) {
      auto e = fail_next_update.front();
      fail_next_update.pop_front();
      return e;
    }
    auto it = objects_.find({ref.plural, key});
    if (it == objects_.end()) return kube::make_error(kube::Code::kNotFound, "not found", 404);
    if (runtime::resource_version_of(object) != runtime::resource_version_of(it->second)) {
      return kube::make_error(kube::Code::kConflict, "the object has been modified", 409);
    }
    return put_locked(ref, object);
  }
  kube::Status remove(const kube::ResourceRef& ref, const kube::ObjectKey& key, const kube::DeleteOptions&) override {
    std::lock_guard lock(mu_);
    calls_.push_back({"delete", ref.plural, key, {}});
    if (!objects_.contains({ref.plural, key})) return kube::make_error(kube::Code::kNotFound, "not found", 404);
    erase_locked(ref, key);
    return kube::ok_status();
  }
  kube::Result<kube::WatchEnd> watch(const kube::ResourceRef& ref, std::string_view ns, const kube::WatchOptions& opts,
                                     const kube::WatchHandler& handler, kube::Cancellation& cancel) override {
    // Registered before taking mu_: on_cancel runs the callback at once when
    // already cancelled.
    const auto handle = cancel.on_cancel([this] {
      { std::lock_guard l(mu_); }
      cv_.notify_all();
    });
    std::unique_lock lock(mu_);
    calls_.push_back({"watch", ref.plural, {std::string(ns), opts.resource_version}, {}});
    auto fail = [&](kube::Error e) -> kube::Result<kube::WatchEnd> {
      lock.unlock();
      cancel.remove(handle);
      return e;
    };
    if (unavailable_) return fail(kube::make_error(kube::Code::kUnavailable, "connection refused"));
    std::uint64_t from = opts.resource_version.empty() ? rv_ : std::stoull(opts.resource_version);
    if (from < compacted_) return fail(kube::make_error(kube::Code::kGone, "too old resource version", 410, "Expired"));
    auto sel = runtime::LabelSelector::parse(opts.label_selector);
    const std::uint64_t break_epoch = break_epoch_;
    const std::uint64_t close_epoch = close_epoch_;
    ++active_watches_;
    kube::Result<kube::WatchEnd> out = kube::WatchEnd::kServerClosed;
    while (true) {
      bool stop = false;
      // By index: the handler runs unlocked and writers may grow history_.
      for (std::size_t i = 0; i < history_.size(); ++i) {
        const HistoryEntry& h = history_[i];
        if (h.rv <= from || h.plural != ref.plural) continue;
        from = h.rv;
        const Json& o = h.event.object;
        if (!ns.empty() && o["metadata"].value("namespace", "") != ns) continue;
        if (!sel->matches(o["metadata"].value("labels", Json::object()))) continue;
        kube::WatchEvent ev = h.event;
        lock.unlock();
        const bool go_on = handler(std::move(ev));
        lock.lock();
        if (!go_on) {
          out = kube::WatchEnd::kStoppedByHandler;
          stop = true;
          break;
        }
      }
      if (stop) break;
      if (cancel.cancelled()) {
        out = kube::WatchEnd::kCancelled;
        break;
      }
      if (break_epoch_ != break_epoch) {
        out = kube::make_error(kube::Code::kUnavailable, "connection reset by peer");
        break;
      }
      if (close_epoch_ != close_epoch) break;
      if (from < compacted_) {
        out = kube::make_error(kube::Code::kGone, "too old resource version", 410, "Expired");
        break;
      }
      std::uint64_t seen = rv_;
      cv_.wait(lock, [&] {
        return rv_ != seen || cancel.cancelled() || break_epoch_ != break_epoch || close_epoch_ != close_epoch;
      });
    }
    --active_watches_;
    lock.unlock();
    cancel.remove(handle);
    return out;
  }
  kube::Result<std::vector<kube::GroupVersion>> server_groups() override { return std::vector<kube::GroupVersion>{}; }
  kube::Result<std::vector<kube::ApiResource>> server_resources(std::string_view, std::string_view) override {
    return std::vector<kube::ApiResource>{};
  }
  kube::Result<Json> server_version() override { return Json{{"gitVersion", "v1.20.0-fake"}}; }

 private:
  struct HistoryEntry {
    std::uint64_t rv;
    std::string plural;
    kube::WatchEvent event;
  };

  Json put_locked(const kube::ResourceRef& ref, Json obj) {
    const auto key = runtime::key_of(obj);
    const bool exists = objects_.contains({ref.plural, key});
    obj["metadata"]["resourceVersion"] = std::to_string(++rv_);
    if (!obj["metadata"].contains("uid")) obj["metadata"]["uid"] = "uid-" + key.name;
    obj["apiVersion"] = ref.api_version();
    obj["kind"] = ref.kind;
    objects_[{ref.plural, key}] = obj;
    history_.push_back({rv_, ref.plural, {exists ? kube::EventType::kModified : kube::EventType::kAdded, obj}});
    cv_.notify_all();
    return obj;
  }
  void erase_locked(const kube::ResourceRef& ref, const kube::ObjectKey& key) {
    auto it = objects_.find({ref.plural, key});
    if (it == objects_.end()) return;
    Json obj = it->second;
    objects_.erase(it);
    obj["metadata"]["resourceVersion"] = std::to_string(++rv_);
    history_.push_back({rv_, ref.plural, {kube::EventType::kDeleted, obj}});
    cv_.notify_all();
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::pair<std::string, kube::ObjectKey>, Json> objects_;
  std::vector<HistoryEntry> history_;
  std::uint64_t rv_ = 100;
  std::uint64_t compacted_ = 0;
  std::uint64_t break_epoch_ = 0;
  std::uint64_t close_epoch_ = 0;
  bool unavailable_ = false;
  int active_watches_ = 0;
  std::vector<Call> calls_;
};

inline Json config_map(const std::string& ns, const std::string& name, Json data = Json::object(),
                       Json labels = Json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
          {"data", data}};
}

}  // namespace sot::test
