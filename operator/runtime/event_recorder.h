// Records core/v1 Events on the objects the operator manages ("kubectl describe"
// shows them). Like client-go's recorder it never blocks the caller: events go
// to a bounded queue written by one background thread, and an event identical
// to one already written (same object, type, reason, message, source) patches
// that Event's count and lastTimestamp instead of creating a new object, so a
// reconcile loop that keeps failing the same way produces one Event, not
// thousands. Write failures are logged and dropped: events are best effort.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "kube/client.h"
#include "runtime/clock.h"
#include "runtime/logger.h"

namespace sot::runtime {

inline constexpr std::string_view kEventNormal = "Normal";
inline constexpr std::string_view kEventWarning = "Warning";

struct EventRecorderOptions {
  std::string component;           // source.component / reportingController
  std::string instance;            // source.host / reportingInstance
  std::size_t cache_size = 4096;   // aggregation entries kept (LRU)
  std::size_t queue_limit = 1000;  // pending events beyond this are dropped
  bool synchronous = false;        // write on the caller's thread (tests)
};

class EventRecorder {
 public:
  EventRecorder(kube::KubeClient& client, Clock& clock, EventRecorderOptions options, Logger logger = Logger());
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // `object` needs apiVersion, kind and metadata (name, namespace, uid).
  void record(const nlohmann::json& object, std::string_view type, std::string_view reason, std::string message);
  void normal(const nlohmann::json& object, std::string_view reason, std::string message) {
    record(object, kEventNormal, reason, std::move(message));
  }
  void warning(const nlohmann::json& object, std::string_view reason, std::string message) {
    record(object, kEventWarning, reason, std::move(message));
  }

  // Waits until every queued event has been written (or dropped).
  void flush();
  // Writes what is queued and stops the thread. Idempotent.
  void shutdown();

  std::uint64_t written() const;  // creates + patches that succeeded

 private:
  struct Pending {
    nlohmann::json involved;
    std::string ns;
    std::string type;
    std::string reason;
    std::string message;
    WallTime at;
  };
  struct Aggregate {
    std::string ns;
    std::string name;
    std::int64_t count = 0;
    std::list<std::string>::iterator lru;
  };

  void run();
  void write(const Pending& p);
  void remember(const std::string& key, std::string ns, std::string name, std::int64_t count);

  kube::KubeClient& client_;
  Clock& clock_;
  EventRecorderOptions options_;
  Logger logger_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;

  mutable std::mutex cache_mu_;  // only the writer touches it, but flush/synchronous callers may too
  std::map<std::string, Aggregate> cache_;
  std::list<std::string> lru_;
  std::uint64_t written_ = 0;
};

}  // namespace sot::runtime
