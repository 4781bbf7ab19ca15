// Cron evaluation (see cron.h). Walks whole days, then hours and minutes inside
// a matching day, so a daily or yearly schedule costs a few hundred steps.
#include "stillontime/cron.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

namespace sot::stillontime {
namespace {

struct Field {
  int min;
  int max;
  std::vector<std::string> names;
};

const Field kFields[] = {
    {0, 59, {}},
    {0, 23, {}},
    {1, 31, {}},
    {1, 12, {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
    {0, 6, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
};

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

bool value(const Field& f, const std::string& text, int& out) {
  if (text.empty()) return false;
  if (std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
    if (text.size() > 4) return false;
    out = std::stoi(text);
  } else {
    std::string lower = text;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    auto it = std::find(f.names.begin(), f.names.end(), lower);
    if (it == f.names.end()) return false;
    out = f.min + static_cast<int>(it - f.names.begin());
  }
  return out >= f.min && out <= f.max;
}

// Sets the bits of one field; false on a syntax error.
template <std::size_t N>
bool parse_field(const Field& f, const std::string& text, std::bitset<N>& bits, bool* star) {
  if (star != nullptr) *star = !text.empty() && (text[0] == '*' || text[0] == '?');
  for (const auto& item : split(text, ',')) {
    if (item.empty()) return false;
    std::string range = item;
    int step = 1;
    if (auto slash = item.find('/'); slash != std::string::npos) {
      range = item.substr(0, slash);
      const std::string s = item.substr(slash + 1);
      if (s.empty() || s.size() > 4 || !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); })) return false;
      step = std::stoi(s);
      if (step == 0) return false;
    }
    int lo = f.min;
    int hi = f.max;
    if (range != "*" && range != "?") {
      const auto dash = range.find('-');
      if (!value(f, range.substr(0, dash), lo)) return false;
      if (dash != std::string::npos) {
        if (!value(f, range.substr(dash + 1), hi) || hi < lo) return false;
      } else {
        // "N/S" means N through the maximum; a plain "N" is one value.
        hi = item.find('/') != std::string::npos ? f.max : lo;
      }
    }
    for (int v = lo; v <= hi; v += step) bits.set(static_cast<std::size_t>(v));
  }
  return true;
}

// Days since 1970-01-01 of a civil date, and back (Howard Hinnant's algorithms).
std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yoe) + static_cast<int>(era) * 400 + (m <= 2);
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

constexpr int kSearchDays = 5 * 366;

}  // namespace

bool CronSchedule::matches_day(int year, int m, int d) const {
  if (!month.test(static_cast<std::size_t>(m))) return false;
  const std::int64_t days = days_from_civil(year, m, d);
  const int weekday = static_cast<int>(((days % 7) + 11) % 7);   // 1970-01-01 was a Thursday (4)
  const bool dom = day_of_month.test(static_cast<std::size_t>(d));
  const bool dow = day_of_week.test(static_cast<std::size_t>(weekday));
  if (dom_star || dow_star) return dom && dow;
  return dom || dow;
}

std::optional<CronSchedule> parse_cron(std::string_view text) {
  std::string s(text);
  if (s == "@yearly" || s == "@annually") s = "0 0 1 1 *";
  else if (s == "@monthly") s = "0 0 1 * *";
  else if (s == "@weekly") s = "0 0 * * 0";
  else if (s == "@daily" || s == "@midnight") s = "0 0 * * *";
  else if (s == "@hourly") s = "0 * * * *";
  std::vector<std::string> fields;
  std::string cur;
  for (char c : s) {
    if (c == ' ' || c == '\t') {
      if (!cur.empty()) fields.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) fields.push_back(std::move(cur));
  if (fields.size() != 5) return std::nullopt;
  CronSchedule out;
  if (!parse_field(kFields[0], fields[0], out.minute, nullptr) || !parse_field(kFields[1], fields[1], out.hour, nullptr) ||
      !parse_field(kFields[2], fields[2], out.day_of_month, &out.dom_star) ||
      !parse_field(kFields[3], fields[3], out.month, nullptr) ||
      !parse_field(kFields[4], fields[4], out.day_of_week, &out.dow_star)) {
    return std::nullopt;
  }
  return out;
}

std::optional<std::int64_t> previous_fire(const CronSchedule& c, std::int64_t t) {
  const std::int64_t day0 = floor_div(t, 86400);
  for (std::int64_t day = day0; day > day0 - kSearchDays; --day) {
    int y = 0, m = 0, d = 0;
    civil_from_days(day, y, m, d);
    if (!c.matches_day(y, m, d)) continue;
    for (int h = 23; h >= 0; --h) {
      if (!c.hour.test(static_cast<std::size_t>(h))) continue;
      for (int mi = 59; mi >= 0; --mi) {
        if (!c.minute.test(static_cast<std::size_t>(mi))) continue;
        const std::int64_t at = day * 86400 + h * 3600 + mi * 60;
        if (at <= t) return at;
      }
    }
  }
  return std::nullopt;
}

std::optional<std::int64_t> next_fire(const CronSchedule& c, std::int64_t t) {
  const std::int64_t day0 = floor_div(t, 86400);
  for (std::int64_t day = day0; day < day0 + kSearchDays; ++day) {
    int y = 0, m = 0, d = 0;
    civil_from_days(day, y, m, d);
    if (!c.matches_day(y, m, d)) continue;
    for (int h = 0; h < 24; ++h) {
      if (!c.hour.test(static_cast<std::size_t>(h))) continue;
      for (int mi = 0; mi < 60; ++mi) {
        if (!c.minute.test(static_cast<std::size_t>(mi))) continue;
        const std::int64_t at = day * 86400 + h * 3600 + mi * 60;
        if (at > t) return at;
      }
    }
  }
  return std::nullopt;
}

}  // namespace sot::stillontime
