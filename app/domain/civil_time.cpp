// Why: see civil_time.h; the day arithmetic underneath is common/civil_date.h.
#include "domain/civil_time.h"

#include <cstdio>

namespace sot::domain {

bool valid_date(const Date& d) {
  if (d.year < 1900 || d.year > 2200 || d.month < 1 || d.month > 12 || d.day < 1) return false;
  return d.day <= common::days_in_month(d.year, d.month);
}

LocalDateTime LocalDateTime::of(const Date& date, int hour, int minute) {
  return LocalDateTime{common::days_from_civil(date.year, date.month, date.day) * 1440 + hour * 60 + minute};
}

Date LocalDateTime::date() const {
  return common::civil_from_days(common::floor_div(minutes, 1440));
}
int LocalDateTime::hour() const {
  return static_cast<int>((minutes - common::floor_div(minutes, 1440) * 1440) / 60);
}
int LocalDateTime::minute() const {
  return static_cast<int>((minutes - common::floor_div(minutes, 1440) * 1440) % 60);
}

std::string LocalDateTime::iso() const {
  return format_date(date()) + "T" + hhmm() + ":00";
}
std::string LocalDateTime::hhmm() const {
  return format_hhmm(hour() * 60 + minute());
}
std::string LocalDateTime::ical() const {
  const Date d = date();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d00", d.year, d.month, d.day, hour(), minute());
  return buf;
}

std::optional<Date> parse_iso_date(std::string_view text) {
  int y = 0, m = 0, d = 0;
  char tail = 0;
  const std::string s(text);
  if (s.size() != 10 || std::sscanf(s.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) return std::nullopt;
  Date date{y, m, d};
  if (!valid_date(date)) return std::nullopt;
  return date;
}

std::optional<int> parse_hhmm(std::string_view text) {
  const std::string s(text);
  int h = 0, m = 0, sec = 0;
  char tail = 0;
  const int n = std::sscanf(s.c_str(), "%2d:%2d:%2d%c", &h, &m, &sec, &tail);
  if (n != 2 && n != 3) return std::nullopt;
  if (s.size() != 5 && s.size() != 8) return std::nullopt;
  if (h < 0 || h > 23 || m < 0 || m > 59) return std::nullopt;
  return h * 60 + m;
}

std::string format_date(const Date& d) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

std::string format_hhmm(int minutes_of_day) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minutes_of_day / 60, minutes_of_day % 60);
  return buf;
}

}  // namespace sot::domain
