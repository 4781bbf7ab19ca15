// Why: call sheets give local dates and wall-clock times; wake-up arithmetic must cross midnight
// (a 05:00 call can mean waking at 02:15 or the evening before) without time-zone surprises, so
// it is done on minutes since 1970-01-01 of the proleptic Gregorian calendar, pure and testable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/civil_date.h"

namespace sot::domain {

// Day arithmetic (days_from_civil, civil_from_days) is common/civil_date.h's, shared with the operator.
using Date = common::CivilDate;

struct LocalDateTime {
  std::int64_t minutes = 0;  // minutes since 1970-01-01T00:00 local

  static LocalDateTime of(const Date& date, int hour, int minute);
  Date date() const;
  int hour() const;
  int minute() const;
  LocalDateTime plus_minutes(std::int64_t m) const { return LocalDateTime{minutes + m}; }
  std::string iso() const;   // 2024-03-15T05:30:00
  std::string hhmm() const;  // 05:30
  std::string ical() const;  // 20240315T053000
  bool operator==(const LocalDateTime&) const = default;
};

bool valid_date(const Date& d);
std::optional<Date> parse_iso_date(std::string_view text);  // YYYY-MM-DD
std::optional<int> parse_hhmm(std::string_view text);       // HH:MM -> minutes of day
std::string format_date(const Date& d);
std::string format_hhmm(int minutes_of_day);

}  // namespace sot::domain
