// Standard 5-field cron schedules (the CronJob dialect: minute hour
// day-of-month month day-of-week, names, ranges, steps, lists and the @daily
// macros), evaluated in UTC. BackupHealthy needs "when should the last backup
// have run?", so this answers previous/next fire times. Day-of-month and
// day-of-week combine as in robfig/cron (what Kubernetes uses): when either
// field starts with '*' or '?' both must match, otherwise either may.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sot::stillontime {

struct CronSchedule {
  std::bitset<60> minute;
  std::bitset<24> hour;
  std::bitset<32> day_of_month;   // 1..31
  std::bitset<13> month;          // 1..12
  std::bitset<7> day_of_week;     // 0 = Sunday
  bool dom_star = false;
  bool dow_star = false;

  bool matches_day(int year, int month, int day) const;
};

// nullopt when the text is not a schedule validate() would accept.
std::optional<CronSchedule> parse_cron(std::string_view text);

// The latest fire time at or before `t` (seconds since the epoch, UTC); nullopt
// when there is none in the five years before `t`.
std::optional<std::int64_t> previous_fire(const CronSchedule& schedule, std::int64_t t);
// The earliest fire time strictly after `t`; nullopt when none within five years.
std::optional<std::int64_t> next_fire(const CronSchedule& schedule, std::int64_t t);

}  // namespace sot::stillontime
