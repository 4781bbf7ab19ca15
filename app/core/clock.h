// Why: token expiry, rate-limit windows and "upcoming" schedules depend on the time; an injected
// clock lets unit tests pin it instead of sleeping.
#pragma once

#include <chrono>
#include <cstdint>

namespace sot {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
  std::int64_t unix_seconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
  }
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
};

}  // namespace sot
