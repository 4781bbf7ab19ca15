// Jittered exponential backoff for reconnecting a watch, with client-go's
// numbers: 0.8 s doubling to 30 s, each wait stretched by up to 100 % random
// jitter so that many clients restarted together do not reconnect in step, and
// reset to 0.8 s once the connection has been healthy for 2 minutes.
#pragma once

#include <cstdint>
#include <random>

#include "runtime/clock.h"

namespace sot::runtime {

struct BackoffOptions {
  Duration initial = std::chrono::milliseconds(800);
  Duration max = std::chrono::seconds(30);
  Duration reset_after = std::chrono::minutes(2);
  double factor = 2.0;
  double jitter = 1.0;  // wait = d + rand[0,1) * jitter * d
};

class Backoff {
 public:
  Backoff(Clock& clock, BackoffOptions options, std::uint64_t seed = std::random_device{}());
  // The next wait. Resets first when the previous wait began more than
  // reset_after ago (the connection was healthy in between).
  Duration next();
  void reset();

 private:
  Clock& clock_;
  BackoffOptions opts_;
  std::mt19937_64 rng_;
  Duration current_;
  TimePoint last_start_{};
  bool started_ = false;
};

}  // namespace sot::runtime
