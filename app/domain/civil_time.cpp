// Why: Howard Hinnant's days_from_civil / civil_from_days algorithms; exact for all dates we meet.
#include "domain/civil_time.h"

#include <cstdio>

namespace sot::domain {

std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

Date civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return Date{static_cast<int>(y + (m <= 2)), static_cast<int>(m), static_cast<int>(d)};
}

bool valid_date(const Date& d) {
  if (d.year < 1900 || d.year > 2200 || d.month < 1 || d.month > 12 || d.day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (d.year % 4 == 0 && d.year % 100 != 0) || d.year % 400 == 0;
  const int max = d.month == 2 && leap ? 29 : kDays[d.month - 1];
  return d.day <= max;
}

LocalDateTime LocalDateTime::of(const Date& date, int hour, int minute) {
  return LocalDateTime{days_from_civil(date.year, date.month, date.day) * 1440 + hour * 60 + minute};
}

namespace {
std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
}  // namespace

Date LocalDateTime::date() const { return civil_from_days(floor_div(minutes, 1440)); }
int LocalDateTime::hour() const { return static_cast<int>((minutes - floor_div(minutes, 1440) * 1440) / 60); }
int LocalDateTime::minute() const { return static_cast<int>((minutes - floor_div(minutes, 1440) * 1440) % 60); }

std::string LocalDateTime::iso() const { return format_date(date()) + "T" + hhmm() + ":00"; }
std::string LocalDateTime::hhmm() const { return format_hhmm(hour() * 60 + minute()); }
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
