// Time is an injected dependency. Every wait in the runtime (work queue delays,
// informer reconnect backoff, leader-election retries, resync) goes through a
// Clock so unit tests drive time by hand instead of sleeping on the real clock.
// A wait is always "until notified or until the clock reaches a deadline": the
// fake clock wakes such waiters when a test advances it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace sot::runtime {

using Duration = std::chrono::steady_clock::duration;
using TimePoint = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time, for deadlines and durations.
  virtual TimePoint now() const = 0;
  // Wall-clock time, for timestamps written to the API server and logs.
  virtual WallTime wall_now() const = 0;
  // Blocks on `cv` (whose mutex `lock` holds) until notified or until now() >=
  // deadline. May return early (spuriously): callers re-check their condition.
  virtual void wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, TimePoint deadline) = 0;
};

class RealClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  WallTime wall_now() const override { return std::chrono::system_clock::now(); }
  void wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, TimePoint deadline) override {
    cv.wait_until(lock, deadline);
  }
};

// The process-wide real clock.
Clock& real_clock();

// A one-shot stop flag that long-running loops poll and sleep on. sleep_for()
// returns early (false) when stop() is called, so shutdown never waits out a
// backoff.
class StopSignal {
 public:
  explicit StopSignal(Clock& clock) : clock_(clock) {}
  void stop();
  bool stopped() const;
  // Sleeps until the clock passes now()+d; false when stopped first.
  [[nodiscard]] bool sleep_for(Duration d);
  [[nodiscard]] bool sleep_until(TimePoint deadline);
  // Blocks until stop() (or `deadline` on the clock). True when stopped.
  bool wait(TimePoint deadline = TimePoint::max());

 private:
  Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

// "2024-05-01T10:00:00.123456Z" (metav1.MicroTime) and "...:00Z" (metav1.Time).
std::string format_micro_time(WallTime t);
std::string format_time(WallTime t);
// Parses either form; nullopt when malformed.
std::optional<WallTime> parse_time(const std::string& s);

}  // namespace sot::runtime
