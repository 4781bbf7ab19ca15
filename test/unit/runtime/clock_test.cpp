// Kubernetes timestamps (metav1.Time, metav1.MicroTime) read and written by the
// runtime. The text comes from objects anyone with write access may have edited,
// so anything not exactly a UTC RFC 3339 time in WallTime's range is refused.
#include "runtime/clock.h"

#include <chrono>
#include <string>

#include <doctest/doctest.h>

using namespace sot::runtime;

namespace {

long long epoch_seconds(const std::string& s) {
  const auto t = parse_time(s);
  REQUIRE(t.has_value());
  return std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count();
}

}  // namespace

TEST_CASE("parse_time reads both Kubernetes forms and round-trips through the formatters") {
  CHECK(epoch_seconds("1970-01-01T00:00:00Z") == 0);
  CHECK(epoch_seconds("2024-05-15T02:00:12Z") == 1715738412);
  CHECK(epoch_seconds("2024-02-29T23:59:59Z") == 1709251199);
  const auto micro = parse_time("2024-05-15T02:00:12.123456Z");
  REQUIRE(micro.has_value());
  CHECK(format_micro_time(*micro) == "2024-05-15T02:00:12.123456Z");
  CHECK(format_time(*micro) == "2024-05-15T02:00:12Z");
  CHECK(parse_time(format_time(*micro)) == parse_time("2024-05-15T02:00:12Z"));
  // Fractions shorter or longer than microseconds: read to the microsecond.
  CHECK(format_micro_time(*parse_time("2024-05-15T02:00:12.5Z")) == "2024-05-15T02:00:12.500000Z");
  CHECK(format_micro_time(*parse_time("2024-05-15T02:00:12.123456789Z")) == "2024-05-15T02:00:12.123456Z");
}

TEST_CASE("parse_time refuses what is not a UTC RFC 3339 time in range") {
  for (const char* bad :
       {"", "2024", "2024-05-15", "2024-05-15T02:00:12", "2024-05-15 02:00:12Z", "2024-05-15T02:00:12+00:00",
        "2024-05-15T02:00:12Zjunk", "2024-05-15T02:00:12.Z", "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z",
        "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-05-00T00:00:00Z", "2024-05-15T24:00:00Z",
        "2024-05-15T02:60:00Z", "2024-05-15T02:00:60Z", "-024-05-15T02:00:12Z", "2024-+5-15T02:00:12Z",
        "2024- 5-15T02:00:12Z",
        // Beyond what WallTime's 64-bit nanoseconds hold: month 99 or year 6024
        // once overflowed the conversion (found by fuzz_plugin).
        "6024-05-15T02:00:12Z", "9999-12-31T23:59:59Z", "1600-01-01T00:00:00Z", "2024-99-15T02:00:12Z"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_time(bad).has_value());
  }
  CHECK(parse_time("2261-12-31T23:59:59Z").has_value());
  CHECK(parse_time("1678-01-01T00:00:00Z").has_value());
}
