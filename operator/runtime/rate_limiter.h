// How long a key waits before it is retried. The numbers are controller-runtime's
// defaults: per key, 5 ms doubling to 1000 s on consecutive failures (forgotten
// on success), combined with an overall token bucket of 10 retries/s and a burst
// of 100 so a mass failure cannot hammer the API server.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "kube/resource.h"
#include "runtime/clock.h"

namespace sot::runtime {

using kube::ObjectKey;

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // The delay before `key` may be retried; counts one more failure of it.
  virtual Duration when(const ObjectKey& key) = 0;
  // Stops tracking `key` (it succeeded).
  virtual void forget(const ObjectKey& key) = 0;
  // Failures counted for `key` since it was last forgotten.
  virtual int num_requeues(const ObjectKey& key) = 0;
};

// base * 2^failures, capped at max_delay.
class ExponentialRateLimiter final : public RateLimiter {
 public:
  ExponentialRateLimiter(Duration base, Duration max_delay) : base_(base), max_(max_delay) {}
  Duration when(const ObjectKey& key) override;
  void forget(const ObjectKey& key) override;
  int num_requeues(const ObjectKey& key) override;

 private:
  Duration base_;
  Duration max_;
  std::mutex mu_;
  std::map<ObjectKey, int> failures_;
};

// A token bucket shared by every key: `qps` tokens per second, `burst` at most.
class BucketRateLimiter final : public RateLimiter {
 public:
  BucketRateLimiter(Clock& clock, double qps, int burst);
  Duration when(const ObjectKey& key) override;
  void forget(const ObjectKey&) override {}
  int num_requeues(const ObjectKey&) override { return 0; }

 private:
  Clock& clock_;
  double qps_;
  double burst_;
  std::mutex mu_;
  double tokens_;
  TimePoint last_;
};

// The longest delay of several limiters.
class MaxOfRateLimiter final : public RateLimiter {
 public:
  explicit MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters) : limiters_(std::move(limiters)) {}
  Duration when(const ObjectKey& key) override;
  void forget(const ObjectKey& key) override;
  int num_requeues(const ObjectKey& key) override;

 private:
  std::vector<std::unique_ptr<RateLimiter>> limiters_;
};

inline constexpr Duration kDefaultBaseDelay = std::chrono::milliseconds(5);
inline constexpr Duration kDefaultMaxDelay = std::chrono::seconds(1000);

// controller-runtime's DefaultControllerRateLimiter.
std::unique_ptr<RateLimiter> default_controller_rate_limiter(Clock& clock);

}  // namespace sot::runtime
