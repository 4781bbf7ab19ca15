#include "runtime/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace sot::runtime {

Duration ExponentialRateLimiter::when(const ObjectKey& key) {
  std::lock_guard lock(mu_);
  const int exp = failures_[key]++;
  // Compute in double to avoid overflow of 2^exp for long-failing keys.
  const double delay = static_cast<double>(base_.count()) * std::pow(2.0, std::min(exp, 62));
  if (delay >= static_cast<double>(max_.count())) return max_;
  return Duration(static_cast<Duration::rep>(delay));
}

void ExponentialRateLimiter::forget(const ObjectKey& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int ExponentialRateLimiter::num_requeues(const ObjectKey& key) {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

BucketRateLimiter::BucketRateLimiter(Clock& clock, double qps, int burst)
    : clock_(clock), qps_(qps), burst_(burst), tokens_(burst), last_(clock.now()) {}

Duration BucketRateLimiter::when(const ObjectKey&) {
  std::lock_guard lock(mu_);
  const TimePoint now = clock_.now();
  if (now > last_) {
    tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * qps_);
    last_ = now;
  }
  // Reserve one token; a negative balance is the wait until it is paid back.
  tokens_ -= 1.0;
  if (tokens_ >= 0) return Duration::zero();
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(-tokens_ / qps_));
}

Duration MaxOfRateLimiter::when(const ObjectKey& key) {
  Duration out = Duration::zero();
  for (auto& l : limiters_) out = std::max(out, l->when(key));
  return out;
}

void MaxOfRateLimiter::forget(const ObjectKey& key) {
  for (auto& l : limiters_) l->forget(key);
}

int MaxOfRateLimiter::num_requeues(const ObjectKey& key) {
  int out = 0;
  for (auto& l : limiters_) out = std::max(out, l->num_requeues(key));
  return out;
}

std::unique_ptr<RateLimiter> default_controller_rate_limiter(Clock& clock) {
  std::vector<std::unique_ptr<RateLimiter>> v;
  v.push_back(std::make_unique<ExponentialRateLimiter>(kDefaultBaseDelay, kDefaultMaxDelay));
  v.push_back(std::make_unique<BucketRateLimiter>(clock, 10.0, 100));
  return std::make_unique<MaxOfRateLimiter>(std::move(v));
}

}  // namespace sot::runtime
