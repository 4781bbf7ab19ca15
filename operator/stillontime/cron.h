// Standard 5-field cron schedules (the CronJob dialect: minute hour
// day-of-month month day-of-week, names, ranges, steps, lists and the @daily
// macros), evaluated in UTC. This is the one grammar of spec.backup.schedule:
// validation refuses exactly what parse_cron() refuses, with its message, so a
// schedule that passes validation can always be evaluated. BackupHealthy needs
// "when should the last backup have run?", so this answers previous/next fire
// times. Day-of-month and day-of-week combine as in robfig/cron (what
// Kubernetes uses): when either field starts with '*' or '?' both must match,
// otherwise either may.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string_view>

#include "kube/result.h"

namespace sot::stillontime {

struct CronSchedule {
  std::bitset<60> minute;
  std::bitset<24> hour;
  std::bitset<32> day_of_month;  // 1..31
  std::bitset<13> month;         // 1..12
  std::bitset<7> day_of_week;    // 0 = Sunday
  bool dom_star = false;
  bool dow_star = false;

  bool matches_day(int year, int month, int day) const;
};

// The schedule, or an Invalid error whose message says what is wrong and
// names the field ("hour: 25 is out of range 0-23"). A schedule that can never
// fire ("0 0 30 2 *") is refused too: BackupHealthy could never say when a
// backup was due.
kube::Result<CronSchedule> parse_cron(std::string_view text);

// The latest fire time at or before `t` (seconds since the epoch, UTC). The
// search spans one 400-year Gregorian cycle, in which every schedule that
// parses fires, so nullopt only comes for instants within that span of the
// year 0.
std::optional<std::int64_t> previous_fire(const CronSchedule& schedule, std::int64_t t);
// The earliest fire time strictly after `t` (same search span).
std::optional<std::int64_t> next_fire(const CronSchedule& schedule, std::int64_t t);

}  // namespace sot::stillontime
