#include "runtime/clock.h"

#include <cstdio>
#include <ctime>

namespace sot::runtime {

Clock& real_clock() {
  static RealClock clock;
  return clock;
}

void StopSignal::stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
}

bool StopSignal::stopped() const {
  std::lock_guard lock(mu_);
  return stopped_;
}

bool StopSignal::sleep_for(Duration d) {
  return sleep_until(clock_.now() + d);
}

bool StopSignal::sleep_until(TimePoint deadline) {
  std::unique_lock lock(mu_);
  while (!stopped_ && clock_.now() < deadline) clock_.wait_until(cv_, lock, deadline);
  return !stopped_;
}

bool StopSignal::wait(TimePoint deadline) {
  std::unique_lock lock(mu_);
  while (!stopped_ && clock_.now() < deadline) clock_.wait_until(cv_, lock, deadline);
  return stopped_;
}

namespace {

std::string format(WallTime t, bool micro) {
  const auto since = t.time_since_epoch();
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(since - secs).count();
  if (us < 0) us = 0;
  const std::time_t tt = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  if (micro) {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(us));
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  return buf;
}

}  // namespace

std::string format_micro_time(WallTime t) {
  return format(t, true);
}
std::string format_time(WallTime t) {
  return format(t, false);
}

std::optional<WallTime> parse_time(const std::string& s) {
  std::tm tm{};
  int year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0, consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &mon, &day, &hour, &min, &sec, &consumed) != 6) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  const std::time_t tt = timegm(&tm);
  long long us = 0;
  std::size_t i = static_cast<std::size_t>(consumed);
  if (i < s.size() && s[i] == '.') {
    long long scale = 100000;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      us += (s[i] - '0') * scale;
      scale /= 10;
    }
  }
  if (i >= s.size() || s[i] != 'Z') return std::nullopt;
  return WallTime(std::chrono::seconds(tt)) +
         std::chrono::duration_cast<WallTime::duration>(std::chrono::microseconds(us));
}

}  // namespace sot::runtime
