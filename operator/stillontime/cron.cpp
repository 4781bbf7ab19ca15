// Cron parsing and evaluation (see cron.h). Evaluation walks whole days, then
// hours and minutes inside a matching day, so a daily or yearly schedule costs
// a few hundred steps.
#include "stillontime/cron.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "common/civil_date.h"
#include "kube/text.h"

namespace sot::stillontime {
namespace {

// One table for the grammar: each field's name (as messages use it), range
// and, for month and day-of-week, the names that stand for min, min + 1, ...
struct Field {
  const char* name;
  int min;
  int max;
  std::vector<std::string_view> names;
};

const Field kFields[] = {
    {"minute", 0, 59, {}},
    {"hour", 0, 23, {}},
    {"day-of-month", 1, 31, {}},
    {"month", 1, 12, {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
    {"day-of-week", 0, 6, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
};

struct Macro {
  std::string_view name;
  std::string_view fields;
};

const Macro kMacros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},  {"@midnight", "0 0 * * *"}, {"@hourly", "0 * * * *"},
};

// The most days each month can have (February in a leap year).
constexpr int kMonthDays[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

kube::Error invalid(const Field& f, const std::string& message) {
  return kube::make_error(kube::Code::kInvalid, std::string(f.name) + ": " + message);
}

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::string range_text(const Field& f) {
  return std::to_string(f.min) + "-" + std::to_string(f.max);
}

// A number or a name of `f`.
kube::Result<int> value(const Field& f, std::string_view text) {
  if (text.empty()) return invalid(f, "empty value");
  int out = 0;
  if (all_digits(text)) {
    if (text.size() > 4) return invalid(f, std::string(text) + " is out of range " + range_text(f));
    out = std::stoi(std::string(text));
  } else {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    auto it = std::find(f.names.begin(), f.names.end(), lower);
    if (it == f.names.end()) {
      return invalid(f, "\"" + std::string(text) + "\" is not a number" + (f.names.empty() ? "" : " or a name"));
    }
    out = f.min + static_cast<int>(it - f.names.begin());
  }
  if (out < f.min || out > f.max) return invalid(f, std::string(text) + " is out of range " + range_text(f));
  return out;
}

// Sets the bits of one field: a comma-separated list of "*", "?", N, N-M, each
// with an optional "/step" ("N/S" is N through the maximum).
template <std::size_t N>
std::optional<kube::Error> parse_field(const Field& f, std::string_view text, std::bitset<N>& bits, bool* star) {
  if (star != nullptr) *star = !text.empty() && (text[0] == '*' || text[0] == '?');
  for (const auto item : kube::split(text, ',')) {
    if (item.empty()) return invalid(f, "empty list element");
    std::string_view range = item;
    int step = 1;
    const auto slash = item.find('/');
    if (slash != std::string_view::npos) {
      range = item.substr(0, slash);
      const std::string_view s = item.substr(slash + 1);
      if (s.empty() || s.size() > 4 || !all_digits(s) || std::stoi(std::string(s)) == 0) {
        return invalid(f, "step \"" + std::string(s) + "\" must be a positive integer");
      }
      step = std::stoi(std::string(s));
    }
    int lo = f.min;
    int hi = f.max;
    if (range != "*" && range != "?") {
      const auto dash = range.find('-');
      auto first = value(f, range.substr(0, dash));
      if (!first) return first.error();
      lo = *first;
      if (dash != std::string_view::npos) {
        auto last = value(f, range.substr(dash + 1));
        if (!last) return last.error();
        hi = *last;
        if (hi < lo) return invalid(f, "range " + std::string(range) + " ends before it starts");
      } else {
        hi = slash != std::string_view::npos ? f.max : lo;
      }
    }
    for (int v = lo; v <= hi; v += step) bits.set(static_cast<std::size_t>(v));
  }
  return std::nullopt;
}

// When day-of-week is a star and day-of-month is not, both must match: the
// schedule fires only if some day it names exists in some month it names
// (every date falls on every weekday within a 400-year cycle). Otherwise a
// weekday alone, or the 1st of any month, makes it fire.
bool can_fire(const CronSchedule& c) {
  if (c.dom_star || !c.dow_star) return true;
  for (int m = 1; m <= 12; ++m) {
    if (!c.month.test(static_cast<std::size_t>(m))) continue;
    for (int d = 1; d <= kMonthDays[m]; ++d) {
      if (c.day_of_month.test(static_cast<std::size_t>(d))) return true;
    }
  }
  return false;
}

// One Gregorian cycle: 400 years are exactly 146097 days (20871 weeks), so
// every date-and-weekday a schedule can name occurs inside it.
constexpr int kSearchDays = 146097;

}  // namespace

bool CronSchedule::matches_day(int year, int m, int d) const {
  if (!month.test(static_cast<std::size_t>(m))) return false;
  const int weekday = common::weekday_from_days(common::days_from_civil(year, m, d));
  const bool dom = day_of_month.test(static_cast<std::size_t>(d));
  const bool dow = day_of_week.test(static_cast<std::size_t>(weekday));
  if (dom_star || dow_star) return dom && dow;
  return dom || dow;
}

kube::Result<CronSchedule> parse_cron(std::string_view text) {
  if (!text.empty() && text[0] == '@') {
    for (const auto& m : kMacros) {
      if (text == m.name) return parse_cron(m.fields);
    }
    return kube::make_error(kube::Code::kInvalid, "is not a known macro (@yearly, @monthly, @weekly, @daily, @hourly)");
  }
  if (text.rfind("TZ=", 0) == 0 || text.rfind("CRON_TZ=", 0) == 0) {
    return kube::make_error(kube::Code::kInvalid,
                            "must not set a time zone (CronJob schedules run in the controller's zone)");
  }
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ' || text[i] == '\t') {
      ++i;
      continue;
    }
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    fields.push_back(text.substr(start, i - start));
  }
  if (fields.size() != 5) {
    return kube::make_error(
        kube::Code::kInvalid,
        "must have 5 fields (minute hour day-of-month month day-of-week), got " + std::to_string(fields.size()));
  }
  CronSchedule out;
  std::optional<kube::Error> e = parse_field(kFields[0], fields[0], out.minute, nullptr);
  if (!e) e = parse_field(kFields[1], fields[1], out.hour, nullptr);
  if (!e) e = parse_field(kFields[2], fields[2], out.day_of_month, &out.dom_star);
  if (!e) e = parse_field(kFields[3], fields[3], out.month, nullptr);
  if (!e) e = parse_field(kFields[4], fields[4], out.day_of_week, &out.dow_star);
  if (e) return *e;
  if (!can_fire(out)) {
    return invalid(kFields[2], "no day given occurs in any month given, so the schedule never fires");
  }
  return out;
}

std::optional<std::int64_t> previous_fire(const CronSchedule& c, std::int64_t t) {
  const std::int64_t day0 = common::floor_div(t, 86400);
  for (std::int64_t day = day0; day > day0 - kSearchDays; --day) {
    const auto [y, m, d] = common::civil_from_days(day);
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
  const std::int64_t day0 = common::floor_div(t, 86400);
  for (std::int64_t day = day0; day < day0 + kSearchDays; ++day) {
    const auto [y, m, d] = common::civil_from_days(day);
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
