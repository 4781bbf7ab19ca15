#include "runtime/clock.h"

#include <cstdint>
#include <cstdio>
#include <ctime>

#include "common/civil_date.h"

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

namespace {

// The digits at s[at, at + n) as a number, or -1 when any of them is not a digit.
int digits(const std::string& s, std::size_t at, std::size_t n) {
  if (at + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

std::optional<WallTime> parse_time(const std::string& s) {
  // Exactly "YYYY-MM-DDTHH:MM:SS[.fraction]Z", every field in range: the text
  // comes from the API server or from an object anyone may have written, and
  // a C library conversion would quietly carry "month 99" into a year WallTime
  // cannot hold.
  const int year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2);
  const int hour = digits(s, 11, 2), minute = digits(s, 14, 2), second = digits(s, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return std::nullopt;
  if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return std::nullopt;
  // WallTime counts nanoseconds in 64 bits: 1678 to 2261 is what it holds whole.
  if (year < 1678 || year > 2261 || month < 1 || month > 12 || day < 1 || day > common::days_in_month(year, month) ||
      hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  const std::int64_t seconds = common::days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  long long us = 0;
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    const std::size_t first = ++i;
    long long scale = 100000;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      us += (s[i] - '0') * scale;
      scale /= 10;
    }
    if (i == first) return std::nullopt;
  }
  if (i + 1 != s.size() || s[i] != 'Z') return std::nullopt;
  return WallTime(std::chrono::seconds(seconds)) +
         std::chrono::duration_cast<WallTime::duration>(std::chrono::microseconds(us));
}

}  // namespace sot::runtime
