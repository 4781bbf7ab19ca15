// Why: see ical.h.
#include "domain/ical.h"

#include <cstdio>
#include <ctime>

namespace sot::domain {

std::string ical_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case ';':
        out += "\\;";
        break;
      case ',':
        out += "\\,";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string ical_fold(std::string_view line) {
  std::string out;
  std::size_t count = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(line[i]);
    std::size_t len = 1;
    if (c >= 0xF0)
      len = 4;
    else if (c >= 0xE0)
      len = 3;
    else if (c >= 0xC0)
      len = 2;
    if (count + len > 75) {
      out += "\r\n ";
      count = 1;
    }
    out.append(line.substr(i, len));
    count += len;
    i += len - 1;
  }
  out += "\r\n";
  return out;
}

std::string ical_utc(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return buf;
}

namespace {
std::string duration(std::int64_t minutes_before) {
  // Negative offsets mean "before the start".
  const bool after = minutes_before < 0;
  const std::int64_t m = after ? -minutes_before : minutes_before;
  std::string out = after ? "PT" : "-PT";
  if (m == 0) return "PT0M";
  if (m % 60 == 0) return out + std::to_string(m / 60) + "H";
  return out + std::to_string(m) + "M";
}

void alarm(std::string& out, const std::string& description, std::int64_t minutes_before) {
  out += "BEGIN:VALARM\r\n";
  out += "ACTION:DISPLAY\r\n";
  out += ical_fold("DESCRIPTION:" + ical_escape(description));
  out += "TRIGGER:" + duration(minutes_before) + "\r\n";
  out += "END:VALARM\r\n";
}
}  // namespace

std::string render_calendar(const std::string& calendar_name, const std::vector<CalendarEntry>& entries,
                            std::int64_t now_unix) {
  std::string out;
  out += "BEGIN:VCALENDAR\r\n";
  out += "VERSION:2.0\r\n";
  out += "PRODID:-//StillOnTime//stillontime-server//EN\r\n";
  out += "CALSCALE:GREGORIAN\r\n";
  out += "METHOD:PUBLISH\r\n";
  out += ical_fold("X-WR-CALNAME:" + ical_escape(calendar_name));
  out += "X-PUBLISHED-TTL:PT1H\r\n";
  const std::string stamp = ical_utc(now_unix);
  for (const auto& e : entries) {
    out += "BEGIN:VEVENT\r\n";
    out += ical_fold("UID:" + e.uid);
    out += "DTSTAMP:" + stamp + "\r\n";
    if (e.updated_unix > 0) out += "LAST-MODIFIED:" + ical_utc(e.updated_unix) + "\r\n";
    out += "DTSTART:" + e.start.ical() + "\r\n";
    out += "DTEND:" + e.start.plus_minutes(e.duration_minutes).ical() + "\r\n";
    out += ical_fold("SUMMARY:" + ical_escape(e.summary));
    if (!e.location.empty()) out += ical_fold("LOCATION:" + ical_escape(e.location));
    if (!e.description.empty()) out += ical_fold("DESCRIPTION:" + ical_escape(e.description));
    if (e.wake_up) {
      const std::int64_t wake_before = e.start.minutes - e.wake_up->minutes;
      alarm(out, "Wake up in 10 minutes (" + e.wake_up->hhmm() + ")", wake_before + 10);
      alarm(out, "Wake up now: " + e.wake_up->hhmm(), wake_before);
      alarm(out, "You should be up by now (woke at " + e.wake_up->hhmm() + ")", wake_before - 5);
    }
    alarm(out, "Shooting day in 12 hours: " + e.summary, 12 * 60);
    alarm(out, "Shooting day in 3 hours: " + e.summary, 3 * 60);
    alarm(out, "Call in 1 hour: " + e.summary, 60);
    out += "END:VEVENT\r\n";
  }
  out += "END:VCALENDAR\r\n";
  return out;
}

}  // namespace sot::domain
