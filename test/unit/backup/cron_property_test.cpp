// Property test of the one cron grammar: over 20,000 generated schedules
// (valid and broken: field counts, ranges, steps, lists, month and weekday
// names in any case, out-of-range values, empty elements, garbage, macros,
// time zone prefixes, tabs), drawn from a fixed-seed PRNG so a failure repeats,
// the validator and the evaluator never disagree: validation accepts a
// schedule exactly when parse_cron() parses it, the validator's message is the
// parser's, and every accepted schedule has previous and next fire times that
// bracket the instant, agree with each other and match the schedule.
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "stillontime/cron.h"
#include "stillontime/status.h"
#include "stillontime/validate.h"
#include "unit/stillontime/helpers.h"

using namespace sot::stillontime;

namespace {

enum class Expect { kValid, kInvalid, kEither };

struct Generated {
  std::string text;
  Expect expect = Expect::kEither;
};

struct FieldShape {
  int min;
  int max;
  std::vector<std::string> names;
};

const FieldShape kShapes[] = {
    {0, 59, {}},
    {0, 23, {}},
    {1, 31, {}},
    {1, 12, {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
    {0, 6, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
};

class Generator {
 public:
  explicit Generator(std::uint32_t seed) : rng_(seed) {}

  Generated next() {
    const int kind = pick(100);
    if (kind < 4) return macro();
    if (kind < 7) return garbage();
    Generated g;
    // Four schedules in ten may hold broken tokens; the rest are built from
    // valid ones only, so valid schedules are common enough to evaluate.
    may_break_ = pick(10) < 4;
    bool broken = false;
    int count = 5;
    if (kind < 15) {
      count = pick(9);  // 0..8 fields
      if (count != 5) broken = true;
    }
    std::vector<std::string> fields;
    for (int i = 0; i < count; ++i) fields.push_back(field(kShapes[i % 5], broken));
    if (kind >= 15 && kind < 17) {
      fields.insert(fields.begin(), pick(2) ? "TZ=UTC" : "CRON_TZ=Europe/Berlin");
      broken = true;
    }
    g.text = join(fields);
    if (broken) {
      g.expect = Expect::kInvalid;
    } else if (count == 5 && fires_for_sure(fields)) {
      g.expect = Expect::kValid;
    }
    return g;
  }

  std::mt19937& rng() { return rng_; }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<std::uint32_t>(n)); }
  int between(int lo, int hi) { return lo + pick(hi - lo + 1); }

  // A field that fires is sure when day-of-month is a star, or day-of-week is
  // not (either then matches), or the months are a star (January has 31 days).
  static bool fires_for_sure(const std::vector<std::string>& f) {
    auto star = [](const std::string& s) { return !s.empty() && (s[0] == '*' || s[0] == '?'); };
    return star(f[2]) || !star(f[4]) || star(f[3]);
  }

  Generated macro() {
    static const char* kGood[] = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"};
    static const char* kBad[] = {"@every 5m", "@sometimes", "@Daily", "@", "@hourly ", " @daily", "@reboot"};
    if (pick(2)) return {kGood[pick(7)], Expect::kValid};
    return {kBad[pick(7)], Expect::kInvalid};
  }

  Generated garbage() {
    static const std::string kAlphabet = "0123456789*/,-?@ \tabcxyzJANmonTZ=#.;";
    std::string s;
    const int n = pick(24);
    for (int i = 0; i < n; ++i) s += kAlphabet[static_cast<std::size_t>(pick(static_cast<int>(kAlphabet.size())))];
    return {s, Expect::kEither};
  }

  // Whether to break the token at hand: one time in `n`, in a schedule that may.
  bool break_one_in(int n) { return may_break_ && pick(n) == 0; }

  std::string number(const FieldShape& f, bool& broken) {
    const int roll = pick(100);
    if (!f.names.empty() && roll >= 70 && roll < 85) {
      std::string name = f.names[static_cast<std::size_t>(pick(static_cast<int>(f.names.size())))];
      for (auto& c : name) {
        if (pick(2)) c = static_cast<char>(c - 'a' + 'A');
      }
      return name;
    }
    if (roll < 90 || !may_break_) return std::to_string(between(f.min, f.max));
    broken = true;
    switch (pick(6)) {
      case 0:
        return std::to_string(f.max + between(1, 60));
      case 1:
        return f.min > 0 ? "0" : "-1";
      case 2:
        return "99999";
      case 3:
        return "1.5";
      case 4:
        return f.names.empty() ? "mon" : "funday";
      default:
        return "-";  // both ends empty (a bare "" would vanish between separators)
    }
  }

  std::string item(const FieldShape& f, bool& broken) {
    std::string base;
    const int roll = pick(100);
    if (roll < 25) {
      base = pick(6) ? "*" : "?";
    } else if (roll < 65) {
      base = number(f, broken);
    } else {
      int lo = between(f.min, f.max);
      int hi = between(lo, f.max);
      if (lo != hi && break_one_in(10)) {
        std::swap(lo, hi);
        broken = true;
      }
      base = std::to_string(lo) + "-" + std::to_string(hi);
      if (break_one_in(20)) {
        base += "-" + std::to_string(hi);  // "a-b-c"
        broken = true;
      }
    }
    if (pick(3) == 0) {
      switch (may_break_ ? pick(8) : 3) {
        case 0:
          broken = true;
          return base + "/0";
        case 1:
          broken = true;
          return base + "/";
        case 2:
          broken = true;
          return base + "/x";
        default:
          return base + "/" + std::to_string(between(1, f.max + 10));
      }
    }
    return base;
  }

  std::string field(const FieldShape& f, bool& broken) {
    std::string out = item(f, broken);
    const int extra = pick(4) == 0 ? between(1, 3) : 0;
    for (int i = 0; i < extra; ++i) {
      if (break_one_in(25)) {
        out += ",";  // an empty element
        broken = true;
      } else {
        out += "," + item(f, broken);
      }
    }
    return out;
  }

  std::string join(const std::vector<std::string>& fields) {
    std::string out = pick(10) == 0 ? " " : "";
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) out += pick(8) == 0 ? (pick(2) ? "\t" : "   ") : " ";
      out += fields[i];
    }
    if (pick(10) == 0) out += "\t";
    return out;
  }

  std::mt19937 rng_;
  bool may_break_ = false;
};

bool fires_at(const CronSchedule& c, std::int64_t t) {
  if (t % 60 != 0) return false;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  REQUIRE(std::sscanf(rfc3339(t).c_str(), "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &s) == 6);
  return c.minute.test(static_cast<std::size_t>(mi)) && c.hour.test(static_cast<std::size_t>(h)) &&
         c.matches_day(y, mo, d);
}

}  // namespace

TEST_CASE("validator and evaluator agree on 20,000 generated schedules") {
  constexpr int kCases = 20000;
  Generator gen(20261130);
  int accepted = 0;
  int rejected = 0;
  int scanned = 0;
  for (int i = 0; i < kCases; ++i) {
    const Generated g = gen.next();
    // An instant in 2000..2100, seconds included.
    const std::int64_t t = 946684800 + static_cast<std::int64_t>(gen.rng()() % 3155760000u);
    CAPTURE(g.text);
    CAPTURE(t);
    const auto parsed = parse_cron(g.text);
    const std::string message = check_cron(g.text);
    REQUIRE(parsed.ok() == message.empty());
    if (g.expect == Expect::kValid) REQUIRE(parsed.ok());
    if (g.expect == Expect::kInvalid) REQUIRE_FALSE(parsed.ok());
    if (!parsed.ok()) {
      ++rejected;
      REQUIRE(message == parsed.error().message);
      REQUIRE(parsed.error().code == sot::kube::Code::kInvalid);
      continue;
    }
    ++accepted;
    const auto next = next_fire(*parsed, t);
    const auto prev = previous_fire(*parsed, t);
    REQUIRE(next.has_value());
    REQUIRE(prev.has_value());
    REQUIRE(*prev <= t);
    REQUIRE(*next > t);
    REQUIRE(fires_at(*parsed, *prev));
    REQUIRE(fires_at(*parsed, *next));
    // Nothing fires strictly between them, seen from either end.
    REQUIRE(next_fire(*parsed, *prev) == next);
    REQUIRE(previous_fire(*parsed, *next - 60) == prev);
    REQUIRE(previous_fire(*parsed, *next) == next);
    // Minute by minute when the gap is short: no fire time was skipped.
    if (*next - *prev <= 2 * 86400) {
      ++scanned;
      for (std::int64_t m = *prev + 60; m < *next; m += 60) REQUIRE_FALSE(fires_at(*parsed, m));
    }
  }
  MESSAGE("accepted " << accepted << ", rejected " << rejected << ", scanned minute by minute " << scanned);
  // Both sides of the grammar were exercised in earnest.
  CHECK(accepted > kCases / 5);
  CHECK(rejected > kCases / 5);
  CHECK(scanned > accepted / 8);
}

TEST_CASE("the validator reports the parser's message on spec.backup.schedule") {
  for (const char* bad : {"0 25 * * *", "0 0 30 2 *", "@sometimes", "TZ=UTC 0 2 * * *", "0 2 * *"}) {
    CAPTURE(bad);
    const auto parsed = parse_cron(bad);
    REQUIRE_FALSE(parsed.ok());
    const auto errors = validate(test::make_resource({{"backup", {{"enabled", true}, {"schedule", bad}}}}));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].to_string() == "spec.backup.schedule (\"" + std::string(bad) + "\") " + parsed.error().message);
  }
  CHECK(validate(test::make_resource({{"backup", {{"enabled", true}, {"schedule", "0 0 29 2 *"}}}})).empty());
}
