// Cron evaluation: previous/next fire times in UTC, macros, names, steps and
// the day-of-month/day-of-week rule.
#include "stillontime/cron.h"

#include <doctest/doctest.h>

#include "stillontime/status.h"

using namespace sot::stillontime;

namespace {
// 2024-05-15T10:30:00Z, a Wednesday.
constexpr std::int64_t kWed = 1715769000;

std::string prev(const char* s, std::int64_t t) {
  auto c = parse_cron(s);
  REQUIRE(c);
  auto p = previous_fire(*c, t);
  return p ? rfc3339(*p) : "none";
}
std::string next(const char* s, std::int64_t t) {
  auto c = parse_cron(s);
  REQUIRE(c);
  auto p = next_fire(*c, t);
  return p ? rfc3339(*p) : "none";
}
}  // namespace

TEST_CASE("the default daily schedule") {
  CHECK(rfc3339(kWed) == "2024-05-15T10:30:00Z");
  CHECK(prev("0 2 * * *", kWed) == "2024-05-15T02:00:00Z");
  CHECK(next("0 2 * * *", kWed) == "2024-05-16T02:00:00Z");
  CHECK(prev("0 2 * * *", kWed - 9 * 3600) == "2024-05-14T02:00:00Z");  // 01:30: yesterday's
  CHECK(prev("0 2 * * *", 1715738400) == "2024-05-15T02:00:00Z");       // exactly at the time
  CHECK(next("0 2 * * *", 1715738400) == "2024-05-16T02:00:00Z");       // strictly after
}

TEST_CASE("macros, steps, ranges, lists and names") {
  CHECK(prev("@daily", kWed) == "2024-05-15T00:00:00Z");
  CHECK(prev("@hourly", kWed) == "2024-05-15T10:00:00Z");
  CHECK(prev("@weekly", kWed) == "2024-05-12T00:00:00Z");  // Sunday
  CHECK(prev("@monthly", kWed) == "2024-05-01T00:00:00Z");
  CHECK(prev("@yearly", kWed) == "2024-01-01T00:00:00Z");
  CHECK(prev("*/15 * * * *", kWed + 60) == "2024-05-15T10:30:00Z");
  CHECK(next("*/15 * * * *", kWed) == "2024-05-15T10:45:00Z");
  CHECK(prev("5/20 * * * *", kWed) == "2024-05-15T10:25:00Z");
  CHECK(prev("0 9-17/4 * * *", kWed) == "2024-05-15T09:00:00Z");
  CHECK(prev("0 3 * * mon,FRI", kWed) == "2024-05-13T03:00:00Z");
  CHECK(prev("0 0 1 jan-mar *", kWed) == "2024-03-01T00:00:00Z");
  CHECK(prev("0 0 29 2 *", kWed) == "2024-02-29T00:00:00Z");  // leap day
  CHECK(next("0 0 29 2 *", kWed) == "2028-02-29T00:00:00Z");
}

TEST_CASE("day of month and day of week: either when both are restricted, both when one is a star") {
  CHECK(prev("0 0 13 * 5", kWed) == "2024-05-13T00:00:00Z");  // the 13th (a Monday) or a Friday
  CHECK(prev("0 0 * * 5", kWed) == "2024-05-10T00:00:00Z");
  CHECK(prev("0 0 13 * *", kWed) == "2024-05-13T00:00:00Z");
  CHECK(prev("0 0 ? * 1", kWed) == "2024-05-13T00:00:00Z");
}

TEST_CASE("invalid schedules do not parse") {
  for (const char* s : {"", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 7",
                        "*/0 * * * *", "5-1 * * * *", "@every 5m", "a b c d e"}) {
    CAPTURE(s);
    CHECK_FALSE(parse_cron(s));
  }
}

TEST_CASE("the parser's errors name the field and what is wrong") {
  auto message = [](const char* s) {
    auto c = parse_cron(s);
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().code == sot::kube::Code::kInvalid);
    return c.error().message;
  };
  CHECK(message("0 25 * * *") == "hour: 25 is out of range 0-23");
  CHECK(message("0 0 * JAN-foo *") == "month: \"foo\" is not a number or a name");
  CHECK(message("0/x * * * *") == "minute: step \"x\" must be a positive integer");
  CHECK(message("0 0 * * 1,") == "day-of-week: empty list element");
  CHECK(message("* * * *") == "must have 5 fields (minute hour day-of-month month day-of-week), got 4");
  CHECK(message("CRON_TZ=UTC 0 2 * * *") ==
        "must not set a time zone (CronJob schedules run in the controller's zone)");
  CHECK(message("@every 5m") == "is not a known macro (@yearly, @monthly, @weekly, @daily, @hourly)");
}

// Found comparing validator and evaluator: these passed validation, yet the
// evaluator found no fire time (BackupHealthy could never say a backup was due).
TEST_CASE("a schedule that can never fire is refused; a rare one is found however far away") {
  for (const std::string s : {"0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 30-31 2 ?", "0 0 31 2-4/2 *"}) {
    CAPTURE(s);
    auto c = parse_cron(s);
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().message == "day-of-month: no day given occurs in any month given, so the schedule never fires");
  }
  // Weekday or day of month when both are restricted: Mondays in February.
  CHECK(next("0 0 30 2 1", 1796083200) == "2027-02-01T00:00:00Z");
  // "*/7" restricts the weekday but starts with '*', so both must match: a
  // 29 February that is a Sunday, six years on (the search used to stop at five).
  CHECK(next("0 0 29 2 */7", 1796083200) == "2032-02-29T00:00:00Z");
  CHECK(prev("0 0 29 2 */7", 1796083200) == "2004-02-29T00:00:00Z");
  CHECK(next("0 0 31 1-12/2 *", 1796083200) == "2027-01-31T00:00:00Z");
}
