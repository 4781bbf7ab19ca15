#include "runtime/event_recorder.h"

#include <cstdio>

#include "kube/text.h"

namespace sot::runtime {

using kube::Code;
using kube::Json;

EventRecorder::EventRecorder(kube::KubeClient& client, Clock& clock, EventRecorderOptions options, Logger logger)
    : client_(client), clock_(clock), options_(std::move(options)), logger_(std::move(logger)) {
  if (!options_.synchronous) thread_ = std::thread([this] { run(); });
}

EventRecorder::~EventRecorder() {
  shutdown();
}

void EventRecorder::record(const Json& object, std::string_view type, std::string_view reason, std::string message) {
  const Json meta = object.value("metadata", Json::object());
  Pending p;
  p.involved = {{"apiVersion", object.value("apiVersion", std::string{})},
                {"kind", object.value("kind", std::string{})},
                {"name", meta.value("name", std::string{})}};
  if (meta.contains("namespace")) p.involved["namespace"] = meta["namespace"];
  if (meta.contains("uid")) p.involved["uid"] = meta["uid"];
  if (meta.contains("resourceVersion")) p.involved["resourceVersion"] = meta["resourceVersion"];
  p.ns = meta.value("namespace", std::string{"default"});
  if (p.ns.empty()) p.ns = "default";
  p.type = std::string(type);
  p.reason = std::string(reason);
  // The API server refuses messages over 1 KiB.
  p.message = kube::truncate_utf8(message, 1024);
  p.at = clock_.wall_now();
  if (options_.synchronous) {
    write(p);
    return;
  }
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    if (queue_.size() >= options_.queue_limit) {
      logger_.warn("event queue full, dropping event", {{"reason", p.reason}});
      return;
    }
    queue_.push_back(std::move(p));
  }
  cv_.notify_all();
}

void EventRecorder::run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty() && stopping_) return;
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    write(p);
    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

void EventRecorder::flush() {
  if (options_.synchronous) return;
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return (queue_.empty() && !busy_) || !thread_.joinable(); });
}

void EventRecorder::shutdown() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t EventRecorder::written() const {
  std::lock_guard lock(cache_mu_);
  return written_;
}

void EventRecorder::remember(const std::string& key, std::string ns, std::string name, std::int64_t count) {
  auto it = cache_.find(key);
  if (it != cache_.end()) {
    lru_.erase(it->second.lru);
    cache_.erase(it);
  }
  lru_.push_front(key);
  cache_[key] = Aggregate{std::move(ns), std::move(name), count, lru_.begin()};
  while (cache_.size() > options_.cache_size) {
    cache_.erase(lru_.back());
    lru_.pop_back();
  }
}

void EventRecorder::write(const Pending& p) {
  std::lock_guard lock(cache_mu_);
  const std::string key = p.involved.dump() + "\x1f" + p.type + "\x1f" + p.reason + "\x1f" + p.message;
  const std::string now = format_time(p.at);
  if (auto it = cache_.find(key); it != cache_.end()) {
    const Aggregate agg = it->second;
    Json patch = {{"count", agg.count + 1}, {"lastTimestamp", now}};
    auto r = client_.merge_patch(kube::resources::events(), {agg.ns, agg.name}, patch, kube::PatchOptions{});
    if (r.ok()) {
      remember(key, agg.ns, agg.name, agg.count + 1);
      ++written_;
      return;
    }
    if (r.code() != Code::kNotFound) {
      logger_.warn("could not update event", {{"reason", p.reason}, {"error", r.error().to_string()}});
      return;
    }
    // The Event expired (the API server keeps them an hour): start a new one.
  }
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, "%llx",
                static_cast<unsigned long long>(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(p.at.time_since_epoch()).count()));
  const std::string name = p.involved.value("name", std::string{"object"}) + "." + suffix;
  Json event = {{"apiVersion", "v1"},
                {"kind", "Event"},
                {"metadata", {{"name", name}, {"namespace", p.ns}}},
                {"involvedObject", p.involved},
                {"type", p.type},
                {"reason", p.reason},
                {"message", p.message},
                {"source", {{"component", options_.component}, {"host", options_.instance}}},
                {"reportingComponent", options_.component},
                {"reportingInstance", options_.instance},
                {"firstTimestamp", now},
                {"lastTimestamp", now},
                {"count", 1}};
  auto r = client_.create(kube::resources::events(), p.ns, event);
  if (!r.ok()) {
    logger_.warn("could not create event", {{"reason", p.reason}, {"error", r.error().to_string()}});
    return;
  }
  remember(key, p.ns, name, 1);
  ++written_;
}

}  // namespace sot::runtime
