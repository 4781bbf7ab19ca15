// Why: /health, /ready and the dependency gauges read one snapshot that a background thread
// refreshes every HEALTH_INTERVAL_MS. Probes and load balancers can then hit the endpoints as
// often as they like without each hit becoming a Postgres and a Redis round trip.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace sot {

struct DependencyCheck {
  std::string name;
  bool up = false;
  bool critical = true;
  double response_ms = 0;
  std::string message;
  std::string checked_at;
};

struct HealthSnapshot {
  std::vector<DependencyCheck> checks;
  bool migrations_applied = false;
  int schema_version = 0;
  int expected_schema_version = 0;
  bool checked = false;
};

class HealthMonitor {
 public:
  using Probe = std::function<Status()>;
  // Returns the applied schema version.
  using SchemaProbe = std::function<Result<int>()>;

  HealthMonitor(Probe redis, SchemaProbe schema, int expected_schema, std::chrono::milliseconds interval,
                std::function<void(const HealthSnapshot&)> on_update);
  ~HealthMonitor();

  void start();
  void stop();
  void check_now();  // synchronous refresh (start-up, tests)
  HealthSnapshot snapshot() const;
  // The snapshot as /health's JSON fields, rendered once per refresh (probes are hot paths).
  struct Rendered {
    std::string checks_json;
    bool critical_down = true;
    bool slow = false;
  };
  std::shared_ptr<const Rendered> rendered() const;
  bool dependencies_ready() const { return ready_.load(std::memory_order_relaxed); }

 private:
  void loop();

  Probe redis_;
  SchemaProbe schema_;
  int expected_schema_;
  std::chrono::milliseconds interval_;
  std::function<void(const HealthSnapshot&)> on_update_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  HealthSnapshot snapshot_;
  std::shared_ptr<const Rendered> rendered_ = std::make_shared<Rendered>();
  std::atomic<bool> ready_{false};
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sot
