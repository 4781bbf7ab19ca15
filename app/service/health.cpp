// Why: see health.h. The database probe is the schema-version query itself: one round trip tells
// both "Postgres answers" and "migrations are applied".
#include "service/health.h"

#include <ctime>

namespace sot {
namespace {
std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}
}  // namespace

HealthMonitor::HealthMonitor(Probe redis, SchemaProbe schema, int expected_schema, std::chrono::milliseconds interval,
                             std::function<void(const HealthSnapshot&)> on_update)
    : redis_(std::move(redis)),
      schema_(std::move(schema)),
      expected_schema_(expected_schema),
      interval_(interval),
      on_update_(std::move(on_update)) {
  snapshot_.expected_schema_version = expected_schema;
}

HealthMonitor::~HealthMonitor() {
  stop();
}

void HealthMonitor::start() {
  thread_ = std::thread([this] { loop(); });
}

void HealthMonitor::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void HealthMonitor::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    check_now();
    lock.lock();
    cv_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

void HealthMonitor::check_now() {
  HealthSnapshot next;
  next.expected_schema_version = expected_schema_;
  next.checked = true;
  auto timed = [](const char* name, const std::function<Status()>& probe) {
    DependencyCheck c;
    c.name = name;
    const auto start = std::chrono::steady_clock::now();
    Status s = probe();
    c.response_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    c.up = s.ok();
    c.message = s.ok() ? "ok" : s.error().message;
    c.checked_at = now_iso();
    return c;
  };
  next.checks.push_back(timed("database", [&]() -> Status {
    auto v = schema_();
    if (!v) return v.error();
    next.schema_version = *v;
    return ok_status();
  }));
  next.checks.push_back(timed("redis", redis_));
  next.migrations_applied = next.checks[0].up && next.schema_version >= expected_schema_;
  bool all_up = next.migrations_applied;
  for (const auto& c : next.checks) all_up = all_up && c.up;
  auto rendered = std::make_shared<Rendered>();
  nlohmann::json checks = nlohmann::json::array();
  rendered->critical_down = !next.migrations_applied;
  for (const auto& c : next.checks) {
    checks.push_back({{"name", c.name},
                      {"status", c.up ? "up" : "down"},
                      {"responseTimeMs", c.response_ms},
                      {"message", c.message},
                      {"checkedAt", c.checked_at}});
    if (!c.up) rendered->critical_down = true;
    if (c.response_ms > 500) rendered->slow = true;
  }
  checks.push_back({{"name", "migrations"},
                    {"status", next.migrations_applied ? "up" : "down"},
                    {"schemaVersion", next.schema_version},
                    {"expectedSchemaVersion", next.expected_schema_version}});
  rendered->checks_json = checks.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    snapshot_ = next;
    rendered_ = std::move(rendered);
  }
  ready_.store(all_up);
  if (on_update_) on_update_(next);
}

std::shared_ptr<const HealthMonitor::Rendered> HealthMonitor::rendered() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return rendered_;
}

HealthSnapshot HealthMonitor::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return snapshot_;
}

}  // namespace sot
