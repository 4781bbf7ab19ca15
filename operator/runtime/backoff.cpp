#include "runtime/backoff.h"

#include <algorithm>

namespace sot::runtime {

Backoff::Backoff(Clock& clock, BackoffOptions options, std::uint64_t seed)
    : clock_(clock), opts_(options), rng_(seed), current_(options.initial) {}

void Backoff::reset() {
  current_ = opts_.initial;
  started_ = false;
}

Duration Backoff::next() {
  const TimePoint now = clock_.now();
  if (started_ && now - last_start_ > opts_.reset_after) current_ = opts_.initial;
  started_ = true;
  last_start_ = now;
  const Duration base = current_;
  const auto grown = std::chrono::duration_cast<Duration>(
      std::chrono::duration<double, Duration::period>(static_cast<double>(current_.count()) * opts_.factor));
  current_ = std::min(grown, opts_.max);
  std::uniform_real_distribution<double> dist(0.0, 1.0);
  const double extra = dist(rng_) * opts_.jitter * static_cast<double>(base.count());
  return base + Duration(static_cast<Duration::rep>(extra));
}

}  // namespace sot::runtime
