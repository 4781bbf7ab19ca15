// Cron evaluation (see cron.h). Walks whole days, then hours and minutes inside
// a matching day, so a daily or yearly schedule costs a few hundred steps.
#include "stillontime/cron.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "common/civil_date.h"

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

constexpr int kSearchDays = 5 * 366;

}  // namespace

bool CronSchedule::matches_day(int year, int m, int d) const {
  if (!month.test(static_cast<std::size_t>(m))) return false;
  const int weekday = common::weekday_from_days(common::days_from_civil(year, m, d));
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
  const std::int64_t day0 = common::floor_div(t, 86400);
  for (std::int64_t day = day0; day > day0 - kSearchDays; --day) {
    const common::CivilDate date = common::civil_from_days(day);
    if (!c.matches_day(date.year, date.month, date.day)) continue;
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
  const std::int64_t day0 = common::floor_div(t, 86400);
  for (std::int64_t day = day0; day < day0 + kSearchDays; ++day) {
    const common::CivilDate date = common::civil_from_days(day);
    if (!c.matches_day(date.year, date.month, date.day)) continue;
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
