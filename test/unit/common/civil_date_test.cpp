// The day arithmetic under cron schedules (operator) and call-sheet times (server).
#include "common/civil_date.h"

#include <doctest/doctest.h>

namespace sot::common {
namespace {

TEST_CASE("known dates") {
  CHECK(days_from_civil(1970, 1, 1) == 0);
  CHECK(days_from_civil(1970, 1, 2) == 1);
  CHECK(days_from_civil(1969, 12, 31) == -1);
  CHECK(days_from_civil(2000, 3, 1) == 11017);
  CHECK(days_from_civil(2000, 2, 29) == 11016);
  CHECK(days_from_civil(2024, 3, 15) == 19797);
  CHECK(days_from_civil(1900, 1, 1) == -25567);
  CHECK(civil_from_days(19797) == CivilDate{2024, 3, 15});
  CHECK(civil_from_days(-25567) == CivilDate{1900, 1, 1});
  CHECK(civil_from_days(0) == CivilDate{});
}

TEST_CASE("days in a month, leap years by every rule") {
  CHECK(days_in_month(2023, 1) == 31);
  CHECK(days_in_month(2023, 4) == 30);
  CHECK(days_in_month(2023, 12) == 31);
  CHECK(days_in_month(2023, 2) == 28);
  CHECK(days_in_month(2024, 2) == 29);
  CHECK(days_in_month(1900, 2) == 28);
  CHECK(days_in_month(2000, 2) == 29);
  CHECK(days_in_month(2100, 2) == 28);
}

TEST_CASE("walking day by day matches the calendar across leap years and centuries") {
  // 1600-01-01 to 2400-12-31 covers every leap rule (1700, 1800, 1900 and 2100 are not leap; 1600, 2000, 2400 are).
  CivilDate expect{1600, 1, 1};
  const std::int64_t first = days_from_civil(1600, 1, 1);
  const std::int64_t last = days_from_civil(2400, 12, 31);
  std::int64_t mismatches = 0;
  for (std::int64_t day = first; day <= last; ++day) {
    if (civil_from_days(day) != expect || days_from_civil(expect.year, expect.month, expect.day) != day) ++mismatches;
    if (++expect.day > days_in_month(expect.year, expect.month)) {
      expect.day = 1;
      if (++expect.month > 12) {
        expect.month = 1;
        ++expect.year;
      }
    }
  }
  CHECK(mismatches == 0);
  CHECK(expect == CivilDate{2401, 1, 1});
  CHECK(last - first + 1 == 801 * 365 + 195);  // 195 leap days in 1600..2400
}

TEST_CASE("weekdays, 0 = Sunday") {
  CHECK(weekday_from_days(0) == 4);                             // 1970-01-01, Thursday
  CHECK(weekday_from_days(-1) == 3);                            // 1969-12-31, Wednesday
  CHECK(weekday_from_days(days_from_civil(2024, 3, 15)) == 5);  // Friday
  CHECK(weekday_from_days(days_from_civil(2023, 1, 1)) == 0);   // Sunday
  CHECK(weekday_from_days(days_from_civil(1900, 1, 1)) == 1);   // Monday
  for (std::int64_t day = -1000; day < 1000; ++day) {
    const int w = weekday_from_days(day);
    REQUIRE(w >= 0);
    REQUIRE(w <= 6);
    REQUIRE(weekday_from_days(day + 1) == (w + 1) % 7);
  }
}

TEST_CASE("floor division rounds towards negative infinity") {
  CHECK(floor_div(0, 86400) == 0);
  CHECK(floor_div(86399, 86400) == 0);
  CHECK(floor_div(86400, 86400) == 1);
  CHECK(floor_div(-1, 86400) == -1);
  CHECK(floor_div(-86400, 86400) == -1);
  CHECK(floor_div(-86401, 86400) == -2);
  CHECK(floor_div(7, -2) == -4);
  CHECK(floor_div(-7, -2) == 3);
}

}  // namespace
}  // namespace sot::common
