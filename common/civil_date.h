// Civil (proleptic Gregorian) dates as day numbers since 1970-01-01, and back.
// The operator walks days to evaluate cron schedules; the server turns call-sheet
// dates and wall-clock times into minutes. Both need exact arithmetic across
// month, year and leap-day boundaries without the C library's time zones, so it
// lives here once (Howard Hinnant's algorithms, exact for every int year).
#pragma once

#include <cstdint>

namespace sot::common {

struct CivilDate {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  bool operator==(const CivilDate&) const = default;
};

// Days since 1970-01-01 (negative before it). Takes month and day as given: no range check.
std::int64_t days_from_civil(int year, int month, int day);
CivilDate civil_from_days(std::int64_t days);

// Days in the month (1..12) of the year, leap years counted: 28 to 31.
int days_in_month(int year, int month);

// 0 = Sunday ... 6 = Saturday, as cron numbers weekdays.
int weekday_from_days(std::int64_t days);

// Division rounding towards negative infinity, so times before the epoch land in
// the right day: floor_div(-1, 86400) == -1.
std::int64_t floor_div(std::int64_t a, std::int64_t b);

}  // namespace sot::common
