// Why: the calendar feed is plain RFC 5545 so any calendar app can subscribe. Times are "floating"
// local times (the call sheet's wall clock, which is the crew member's), and every alarm is a
// relative TRIGGER, which RFC 5545 allows without a time zone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "domain/civil_time.h"

namespace sot::domain {

struct CalendarEntry {
  std::string uid;
  std::string summary;
  std::string description;
  std::string location;
  LocalDateTime start;  // call time
  int duration_minutes = 12 * 60;
  std::optional<LocalDateTime> wake_up;
  std::int64_t updated_unix = 0;
};

// Alarms: wake-up (10 min before, at, 5 min after) when a wake-up time is known, then 12 h, 3 h and
// 1 h before the call.
std::string render_calendar(const std::string& calendar_name, const std::vector<CalendarEntry>& entries,
                            std::int64_t now_unix);

std::string ical_escape(std::string_view text);
std::string ical_fold(std::string_view line);  // folds at 75 octets, never inside a UTF-8 sequence
std::string ical_utc(std::int64_t unix_seconds);

}  // namespace sot::domain
