// Why: hermetic tests of the pure parts of stillontime-server: configuration parsing, crypto and
// JWT (tampering, expiry, alg confusion), wake-up arithmetic (across midnight), the call-sheet
// parser (text and a generated PDF), iCalendar rendering, weather summaries, the day summary, the
// router and the token store (against an in-memory fake Redis). No network, no real clock.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <map>
#include <set>

#include <doctest/doctest.h>

#include "auth/jwt.h"
#include "auth/token_store.h"
#include "common/base64.h"
#include "common/civil_date.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "domain/call_sheet.h"
#include "domain/civil_time.h"
#include "domain/ical.h"
#include "domain/pdf_text.h"
#include "domain/route_plan.h"
#include "domain/summary.h"
#include "domain/weather.h"
#include "http/client_address.h"
#include "http/router.h"
#include "pdf_fixture.h"
#include "service/application.h"
#include "service/metrics.h"
#include "service/pdf_sandbox.h"
#include "storage/migrations.h"

using namespace sot;

namespace {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t unix) : now_(std::chrono::seconds(unix)) {}
  std::chrono::system_clock::time_point now() const override { return now_; }
  void advance(std::chrono::seconds s) { now_ += s; }

 private:
  std::chrono::system_clock::time_point now_;
};

EnvLookup env_of(std::map<std::string, std::string> values) {
  return [values](const std::string& k) -> std::optional<std::string> {
    auto it = values.find(k);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

std::map<std::string, std::string> base_env() {
  return {{"DATABASE_URL", "postgresql://u:pw-secret@127.0.0.1:5432/db"},
          {"REDIS_URL", "redis://127.0.0.1:6379"},
          {"JWT_SECRET", "0123456789abcdef0123456789abcdef"}};
}

// Minimal in-memory Redis for the commands TokenStore uses.
class FakeRedis final : public kv::Store {
 public:
  Result<kv::Reply> command(const kv::Command& a) override {
    auto r = pipeline({a});
    if (!r) return r.error();
    return r->front();
  }
  Result<std::vector<kv::Reply>> pipeline(const std::vector<kv::Command>& cmds) override {
    std::vector<kv::Reply> out;
    for (const auto& c : cmds) out.push_back(run(c));
    return out;
  }
  std::map<std::string, std::string> strings;
  std::map<std::string, std::set<std::string>> sets;

 private:
  static kv::Reply integer(long long v) { return kv::Reply{kv::Reply::Type::kInteger, v, {}, {}}; }
  static kv::Reply str(const std::string& s) { return kv::Reply{kv::Reply::Type::kString, 0, s, {}}; }
  kv::Reply run(const kv::Command& c) {
    const std::string& op = c[0];
    if (op == "SET") {
      strings[c[1]] = c[2];
      return kv::Reply{kv::Reply::Type::kStatus, 0, "OK", {}};
    }
    if (op == "GET" || op == "GETDEL") {
      auto it = strings.find(c[1]);
      if (it == strings.end()) return kv::Reply{};
      auto v = it->second;
      if (op == "GETDEL") strings.erase(it);
      return str(v);
    }
    if (op == "SADD") return integer(sets[c[1]].insert(c[2]).second ? 1 : 0);
    if (op == "SREM") return integer(static_cast<long long>(sets[c[1]].erase(c[2])));
    if (op == "SMEMBERS") {
      kv::Reply r{kv::Reply::Type::kArray, 0, {}, {}};
      for (const auto& m : sets[c[1]]) r.elements.push_back(str(m));
      return r;
    }
    if (op == "DEL") {
      long long n = 0;
      for (std::size_t i = 1; i < c.size(); ++i) n += static_cast<long long>(strings.erase(c[i]) + sets.erase(c[i]));
      return integer(n);
    }
    if (op == "EXPIRE") return integer(1);
    if (op == "EXISTS") return integer(strings.count(c[1]) ? 1 : 0);
    return kv::Reply{kv::Reply::Type::kError, 0, "unknown command " + op, {}};
  }
};

}  // namespace

TEST_SUITE("config") {
  TEST_CASE("defaults and required variables") {
    auto config = load_config(env_of(base_env()));
    REQUIRE(config.ok());
    CHECK(config->port == 3000);
    CHECK(config->metrics_port == 9090);
    CHECK(config->rate_limit_max == 100);
    CHECK(config->rate_limit_window_seconds == 900);
    CHECK(config->env == AppEnv::kDevelopment);
    CHECK(config->redis.port == 6379);
    for (const char* required : {"DATABASE_URL", "REDIS_URL", "JWT_SECRET"}) {
      auto env = base_env();
      env.erase(required);
      auto bad = load_config(env_of(env));
      REQUIRE_FALSE(bad.ok());
      CHECK(bad.error().message.rfind(required, 0) == 0);
    }
  }
  TEST_CASE("a short JWT secret is refused without echoing it") {
    auto env = base_env();
    env["JWT_SECRET"] = "too-short-secret-value";
    auto bad = load_config(env_of(env));
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.find("JWT_SECRET") == 0);
    CHECK(bad.error().message.find("too-short-secret-value") == std::string::npos);
  }
  TEST_CASE("bad values name the variable") {
    auto env = base_env();
    env["PORT"] = "http";
    CHECK(load_config(env_of(env)).error().message.rfind("PORT:", 0) == 0);
    env = base_env();
    env["REDIS_URL"] = "rediss://x:1";
    CHECK(load_config(env_of(env)).error().message.rfind("REDIS_URL:", 0) == 0);
    env = base_env();
    env["DATABASE_URL"] = "mysql://x";
    CHECK(load_config(env_of(env)).error().message.rfind("DATABASE_URL:", 0) == 0);
    env = base_env();
    env["APP_ENV"] = "prod";
    CHECK(load_config(env_of(env)).error().message.rfind("APP_ENV:", 0) == 0);
  }
  TEST_CASE("NODE_ENV is an alias; production requires OAuth and FRONTEND_URL") {
    auto env = base_env();
    env["NODE_ENV"] = "production";
    auto bad = load_config(env_of(env));
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.rfind("FRONTEND_URL", 0) == 0);
    env["FRONTEND_URL"] = "https://app.example.com/";
    CHECK(load_config(env_of(env)).error().message.rfind("GOOGLE_CLIENT_ID", 0) == 0);
    env["GOOGLE_CLIENT_ID"] = "id";
    env["GOOGLE_CLIENT_SECRET"] = "s3cr3t";
    auto ok = load_config(env_of(env));
    REQUIRE(ok.ok());
    CHECK(ok->env == AppEnv::kProduction);
    CHECK(ok->frontend_url == "https://app.example.com");
    env["APP_ENV"] = "staging";
    CHECK(load_config(env_of(env)).error().message.rfind("APP_ENV", 0) == 0);
  }
  TEST_CASE("redis URL with password and db; REDIS_PASSWORD wins") {
    auto r = parse_redis_url("redis://:pw@cache:6380/2");
    REQUIRE(r.ok());
    CHECK(r->host == "cache");
    CHECK(r->port == 6380);
    CHECK(r->db == 2);
    CHECK(r->password == "pw");
    auto env = base_env();
    env["REDIS_PASSWORD"] = "other";
    CHECK(load_config(env_of(env))->redis.password == "other");
  }
  TEST_CASE("redact_url hides passwords") {
    CHECK(log::redact_url("postgresql://u:pw@h:5432/db") == "postgresql://u:***@h:5432/db");
    CHECK(log::redact_url("postgresql://h/db") == "postgresql://h/db");
  }
}

TEST_SUITE("crypto") {
  // base64 and SHA-256 are common/'s, tested in test/unit/common.
  TEST_CASE("constant-time comparison and random tokens") {
    CHECK(crypto::constant_time_equal("abc", "abc"));
    CHECK_FALSE(crypto::constant_time_equal("abc", "abd"));
    CHECK_FALSE(crypto::constant_time_equal("abc", "ab"));
    const std::string token = crypto::random_token();
    CHECK(token.size() == 43);  // 32 bytes, base64url without padding
    CHECK(common::base64url_decode(token).value_or("").size() == 32);
    CHECK(crypto::random_token() != token);
    CHECK(crypto::random_hex(16).size() == 32);
  }
}

TEST_SUITE("jwt") {
  const std::string kSecret = "0123456789abcdef0123456789abcdef";
  TEST_CASE("issue and verify") {
    FakeClock clock(1'700'000'000);
    auth::JwtSigner signer(kSecret, clock);
    auth::AccessClaims claims;
    claims.subject = "user-1";
    claims.email = "a@b.c";
    claims.role = "crew";
    const auto token = signer.issue(claims);
    auto verified = signer.verify(token);
    REQUIRE(verified.ok());
    CHECK(verified->subject == "user-1");
    CHECK(verified->expires_at == 1'700'000'000 + 3600);
  }
  TEST_CASE("expired tokens are refused") {
    FakeClock clock(1'700'000'000);
    auth::JwtSigner signer(kSecret, clock);
    auth::AccessClaims claims;
    claims.subject = "u";
    const auto token = signer.issue(claims);
    clock.advance(std::chrono::seconds(3599));
    CHECK(signer.verify(token).ok());
    clock.advance(std::chrono::seconds(1));
    auto r = signer.verify(token);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kUnauthenticated);
    CHECK(r.error().message == "token expired");
  }
  TEST_CASE("tampering, foreign keys and alg confusion are refused") {
    FakeClock clock(1'700'000'000);
    auth::JwtSigner signer(kSecret, clock);
    auth::AccessClaims claims;
    claims.subject = "user-1";
    const auto token = signer.issue(claims);
    const auto dot1 = token.find('.');
    const auto dot2 = token.rfind('.');
    const auto decoded = common::base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
    REQUIRE(decoded);
    const std::string payload = *decoded;
    // Payload changed to another user, signature kept.
    std::string forged = payload;
    forged.replace(forged.find("user-1"), 6, "user-2");
    CHECK_FALSE(signer.verify(token.substr(0, dot1 + 1) + common::base64url_encode(forged) + token.substr(dot2)).ok());
    // Signed with another key.
    auth::JwtSigner other("another-secret-another-secret-xx", clock);
    CHECK_FALSE(signer.verify(other.issue(claims)).ok());
    // alg "none" with an empty signature.
    const std::string none_header = common::base64url_encode(R"({"alg":"none","typ":"JWT"})");
    CHECK(signer.verify(none_header + "." + common::base64url_encode(payload) + ".").error().message ==
          "unsupported token algorithm");
    // HS512/RS256 headers, even with a valid HS256 signature over them, are refused before verification.
    for (const char* alg : {"HS512", "RS256", "HS256 "}) {
      const std::string header = common::base64url_encode(std::string(R"({"alg":")") + alg + R"(","typ":"JWT"})");
      const std::string input = header + "." + common::base64url_encode(payload);
      const std::string sig = common::base64url_encode(crypto::hmac_sha256(kSecret, input));
      CHECK(signer.verify(input + "." + sig).error().message == "unsupported token algorithm");
    }
    // Truncated signature, extra segment, garbage.
    CHECK_FALSE(signer.verify(token.substr(0, token.size() - 2)).ok());
    CHECK_FALSE(signer.verify(token + ".x").ok());
    CHECK_FALSE(signer.verify("not-a-token").ok());
  }
}

TEST_SUITE("token store") {
  TEST_CASE("refresh rotation, reuse detection and revocation") {
    FakeRedis redis;
    auth::TokenStore store(redis);
    auto first = store.issue("user-1");
    REQUIRE(first.ok());
    auto second = store.rotate(first->token);
    REQUIRE(second.ok());
    CHECK(second->user_id == "user-1");
    CHECK(second->token != first->token);
    // The old token is spent; presenting it again revokes the whole family.
    CHECK(store.rotate(first->token).error().code == ErrorCode::kUnauthenticated);
    CHECK_FALSE(store.rotate(second->token).ok());
    auto third = store.issue("user-1");
    REQUIRE(third.ok());
    REQUIRE(store.revoke(third->token).ok());
    CHECK_FALSE(store.rotate(third->token).ok());
    CHECK_FALSE(store.rotate("").ok());
  }
}

TEST_SUITE("wake-up arithmetic") {
  using domain::Buffers;
  using domain::Date;
  using domain::LocalDateTime;
  using domain::Segment;
  TEST_CASE("default buffers via the office") {
    const auto call = LocalDateTime::of(Date{2024, 3, 15}, 7, 0);
    auto plan = domain::plan_route(
        call, {Segment{"home", "office", 30, 0, "user"}, Segment{"office", "set", 45, 0, "user"}}, Buffers{});
    REQUIRE(plan.ok());
    CHECK(plan->arrival.iso() == "2024-03-15T06:40:00");    // 7:00 - parking 10 - entry 10
    CHECK(plan->departure.iso() == "2024-03-15T04:50:00");  // 6:40 - traffic 20 - 75 travel - car change 15
    CHECK(plan->wake_up.iso() == "2024-03-15T04:05:00");    // - morning routine 45
    CHECK(plan->total_travel_minutes == 75);
  }
  TEST_CASE("direct route skips the car change") {
    const auto call = LocalDateTime::of(Date{2024, 3, 15}, 9, 0);
    auto plan = domain::plan_route(call, {Segment{"home", "set", 60, 0, "user"}}, Buffers{});
    REQUIRE(plan.ok());
    CHECK(plan->wake_up.iso() == "2024-03-15T06:35:00");  // 9:00 - 20 - 20 - 60 - 45
  }
  TEST_CASE("early call crosses midnight, month and year boundaries") {
    auto plan = domain::plan_route(LocalDateTime::of(Date{2024, 1, 1}, 1, 30),
                                   {Segment{"home", "office", 40, 0, "user"}, Segment{"office", "set", 50, 0, "user"}},
                                   Buffers{});
    REQUIRE(plan.ok());
    CHECK(plan->arrival.iso() == "2024-01-01T01:10:00");
    CHECK(plan->departure.iso() == "2023-12-31T23:05:00");
    CHECK(plan->wake_up.iso() == "2023-12-31T22:20:00");
    auto leap =
        domain::plan_route(LocalDateTime::of(Date{2024, 3, 1}, 0, 15), {Segment{"h", "s", 30, 0, "user"}}, Buffers{});
    CHECK(leap->wake_up.iso() == "2024-02-29T22:20:00");
  }
  TEST_CASE("custom buffers and validation") {
    Buffers b{0, 0, 0, 0, 0};
    auto plan = domain::plan_route(LocalDateTime::of(Date{2024, 6, 1}, 6, 0), {Segment{"h", "s", 30, 0, "user"}}, b);
    CHECK(plan->wake_up.iso() == "2024-06-01T05:30:00");
    CHECK_FALSE(domain::plan_route(LocalDateTime::of(Date{2024, 6, 1}, 6, 0), {}, b).ok());
    CHECK_FALSE(
        domain::plan_route(LocalDateTime::of(Date{2024, 6, 1}, 6, 0), {Segment{"h", "s", -1, 0, "user"}}, b).ok());
    auto parsed = domain::buffers_from_json({{"traffic", 30}}, Buffers{});
    REQUIRE(parsed.ok());
    CHECK(parsed->traffic == 30);
    CHECK(parsed->morning_routine == 45);
    CHECK_FALSE(domain::buffers_from_json({{"traffic", -5}}, Buffers{}).ok());
    CHECK_FALSE(domain::buffers_from_json({{"coffee", 5}}, Buffers{}).ok());
    CHECK(Buffers{}.total() == 100);
  }
  TEST_CASE("civil dates") {
    CHECK(common::days_from_civil(1970, 1, 1) == 0);
    CHECK(common::civil_from_days(common::days_from_civil(2000, 2, 29)) == Date{2000, 2, 29});
    CHECK_FALSE(domain::parse_iso_date("2023-02-29"));
    CHECK(domain::parse_iso_date("2024-02-29"));
    CHECK(domain::parse_hhmm("23:59") == 23 * 60 + 59);
    CHECK_FALSE(domain::parse_hhmm("24:00"));
    CHECK(domain::LocalDateTime::of(Date{1969, 12, 31}, 23, 0).iso() == "1969-12-31T23:00:00");
  }
}

namespace {
const char* kSampleSheet = R"(PRODUCTION: The Long Night
Shooting Date: 15.03.2024
Crew Call: 06:30
Location: Old Brewery, ul. Browarna 5, Warsaw
Base Location: Parking lot B, ul. Browarna 7
Scene Type: EXT/NIGHT
Scenes: 12, 14A, 15

Equipment:
- Alexa Mini
- Steadicam

Contacts:
Anna Nowak - 1st AD - +48 600 100 200
Piotr Zielinski - Location Manager - +48 600 300 400

Safety Notes:
- Working near water: life vests required
- Pyrotechnics in scene 15
Notes: Bring warm clothes
)";
}  // namespace

TEST_SUITE("call sheet") {
  TEST_CASE("extracts every field of the sample") {
    const auto parsed = domain::parse_call_sheet(kSampleSheet);
    CHECK(parsed.missing.empty());
    const auto& s = parsed.sheet;
    CHECK(s.title == "The Long Night");
    CHECK(domain::format_date(*s.shooting_date) == "2024-03-15");
    CHECK(domain::format_hhmm(*s.call_time) == "06:30");
    CHECK(s.location == "Old Brewery, ul. Browarna 5, Warsaw");
    CHECK(s.base_location == "Parking lot B, ul. Browarna 7");
    CHECK(s.scene_type == "EXT/NIGHT");
    CHECK(s.scenes == std::vector<std::string>{"12", "14A", "15"});
    CHECK(s.equipment == std::vector<std::string>{"Alexa Mini", "Steadicam"});
    REQUIRE(s.contacts.size() == 2);
    CHECK(s.contacts[0] == domain::Contact{"Anna Nowak", "1st AD", "+48 600 100 200"});
    CHECK(s.contacts[1] == domain::Contact{"Piotr Zielinski", "Location Manager", "+48 600 300 400"});
    CHECK(s.safety_notes ==
          std::vector<std::string>{"Working near water: life vests required", "Pyrotechnics in scene 15"});
    CHECK(s.notes == "Bring warm clothes");
  }
  TEST_CASE("other spellings of dates and times") {
    CHECK(domain::format_date(*domain::parse_date_loose("Friday, 15 March 2024")) == "2024-03-15");
    CHECK(domain::format_date(*domain::parse_date_loose("March 15th, 2024")) == "2024-03-15");
    CHECK(domain::format_date(*domain::parse_date_loose("2024-03-15")) == "2024-03-15");
    CHECK(domain::format_date(*domain::parse_date_loose("15/03/2024")) == "2024-03-15");
    CHECK_FALSE(domain::parse_date_loose("31.02.2024"));
    CHECK(domain::parse_time_loose("6:30 AM") == 390);
    CHECK(domain::parse_time_loose("6:30 pm") == 18 * 60 + 30);
    CHECK(domain::parse_time_loose("12:00 am") == 0);
    CHECK(domain::parse_time_loose("06.45") == 405);
    CHECK(domain::parse_time_loose("6 am") == 360);
    CHECK_FALSE(domain::parse_time_loose("25:00"));
  }
  TEST_CASE("long numbers next to a date are not taken for a day or a year") {
    // Found by fuzzing (test/fuzz/fuzz_call_sheet): stoi threw out_of_range on a 40-digit word.
    CHECK_NOTHROW((void)domain::parse_date_loose("Da 15333333333333333333333333333333333333 Mara 15 March 2424"));
    const auto d = domain::parse_date_loose("Ref 123456789012345678901234 15 March 2024");
    REQUIRE(d);
    CHECK(domain::format_date(*d) == "2024-03-15");
    CHECK_NOTHROW(domain::parse_call_sheet("Date: 99999999999999999999 March 2024\nCall: 06:30\nLocation: X\n"));
  }
  TEST_CASE("Polish labels") {
    const auto parsed = domain::parse_call_sheet(
        "Data zdjęć: 2024-05-02\nGodzina wezwania: 05:45\nLokalizacja: Kraków, Rynek Główny\nBaza: ul. Floriańska 1\n");
    CHECK(parsed.missing.empty());
    CHECK(parsed.sheet.location == "Kraków, Rynek Główny");
    CHECK(parsed.sheet.base_location == "ul. Floriańska 1");
    CHECK(domain::format_hhmm(*parsed.sheet.call_time) == "05:45");
  }
  TEST_CASE("reports what is missing") {
    const auto parsed = domain::parse_call_sheet("Location: Somewhere\nScenes: 1\n");
    CHECK(parsed.missing == std::vector<std::string>{"shootingDate", "callTime"});
    CHECK(domain::parse_call_sheet("").missing.size() == 3);
  }
  TEST_CASE("generated PDF goes through poppler to the same fields") {
    std::vector<std::string> lines;
    std::string sheet = kSampleSheet;
    std::size_t start = 0;
    while (start < sheet.size()) {
      const auto nl = sheet.find('\n', start);
      lines.push_back(sheet.substr(start, nl - start));
      start = nl + 1;
    }
    auto text = domain::pdf_to_text(test::make_pdf(lines));
    REQUIRE(text.ok());
    const auto parsed = domain::parse_call_sheet(*text);
    CHECK(parsed.missing.empty());
    CHECK(parsed.sheet.location == "Old Brewery, ul. Browarna 5, Warsaw");
    CHECK(parsed.sheet.contacts.size() == 2);
    CHECK(parsed.sheet.scenes.size() == 3);
    CHECK(domain::pdf_to_text("%PDF-1.4 garbage").error().code == ErrorCode::kUnprocessable);
    CHECK(domain::pdf_to_text("hello").error().code == ErrorCode::kUnprocessable);
  }
}

TEST_SUITE("ical") {
  TEST_CASE("escaping and folding") {
    CHECK(domain::ical_escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne");
    const std::string long_line = "DESCRIPTION:" + std::string(200, 'x');
    const auto folded = domain::ical_fold(long_line);
    std::size_t start = 0;
    while (start < folded.size()) {
      const auto end = folded.find("\r\n", start);
      CHECK(end - start <= 75);
      start = end + 2;
    }
    // Never splits a UTF-8 sequence.
    const auto utf = domain::ical_fold("SUMMARY:" + std::string(66, 'a') + "żółć");
    CHECK(utf.find("\xC5\r\n") == std::string::npos);
  }
  TEST_CASE("calendar with alarms") {
    domain::CalendarEntry e;
    e.uid = "abc@stillontime.app";
    e.summary = "Shooting day: The Long Night";
    e.location = "Old Brewery, Warsaw";
    e.start = domain::LocalDateTime::of(domain::Date{2024, 3, 15}, 6, 30);
    e.wake_up = domain::LocalDateTime::of(domain::Date{2024, 3, 15}, 4, 5);
    const auto cal = domain::render_calendar("StillOnTime", {e}, 1'700'000'000);
    CHECK(cal.find("BEGIN:VCALENDAR\r\n") == 0);
    CHECK(cal.find("DTSTART:20240315T063000\r\n") != std::string::npos);
    CHECK(cal.find("DTEND:20240315T183000\r\n") != std::string::npos);
    CHECK(cal.find("LOCATION:Old Brewery\\, Warsaw\r\n") != std::string::npos);
    CHECK(cal.find("TRIGGER:-PT155M\r\n") != std::string::npos);  // 10 min before the 04:05 wake-up
    CHECK(cal.find("TRIGGER:-PT145M\r\n") != std::string::npos);  // at wake-up
    CHECK(cal.find("TRIGGER:-PT140M\r\n") != std::string::npos);  // 5 min after
    CHECK(cal.find("TRIGGER:-PT12H\r\n") != std::string::npos);
    CHECK(cal.find("TRIGGER:-PT3H\r\n") != std::string::npos);
    CHECK(cal.find("TRIGGER:-PT1H\r\n") != std::string::npos);
    std::size_t alarms = 0;
    for (auto p = cal.find("BEGIN:VALARM"); p != std::string::npos; p = cal.find("BEGIN:VALARM", p + 1)) ++alarms;
    CHECK(alarms == 6);
    CHECK(cal.find("DTSTAMP:20231114T221320Z") != std::string::npos);
  }
}

TEST_SUITE("weather") {
  nlohmann::json forecast() {
    // 2024-03-15 in UTC+1: entries at 03:00, 06:00, 09:00 local and one the day before.
    const std::int64_t day = common::days_from_civil(2024, 3, 15) * 86400 - 3600;
    return {{"city", {{"timezone", 3600}}},
            {"list",
             {{{"dt", day - 3 * 3600},
               {"main", {{"temp", 40.0}, {"humidity", 10}}},
               {"weather", {{{"description", "hot yesterday"}}}}},
              {{"dt", day + 3 * 3600},
               {"main", {{"temp", 2.0}, {"humidity", 90}}},
               {"weather", {{{"description", "mist"}}}},
               {"wind", {{"speed", 4.0}}},
               {"pop", 0.2}},
              {{"dt", day + 6 * 3600},
               {"main", {{"temp", 4.0}, {"humidity", 85}}},
               {"weather", {{{"description", "light rain"}}}},
               {"wind", {{"speed", 12.5}}},
               {"pop", 0.8},
               {"rain", {{"3h", 2.5}}}},
              {{"dt", day + 9 * 3600},
               {"main", {{"temp", 8.0}, {"humidity", 70}}},
               {"weather", {{{"description", "clouds"}}}}}}}};
  }
  TEST_CASE("picks the entry nearest the call time and warns") {
    auto r = domain::summarize_forecast(forecast(), domain::Date{2024, 3, 15}, 6 * 60 + 30);
    REQUIRE(r.ok());
    CHECK(r->description == "light rain");
    CHECK(r->temperature == doctest::Approx(4.0));
    CHECK(r->max_temperature == doctest::Approx(8.0));
    CHECK(r->min_temperature == doctest::Approx(2.0));
    CHECK(r->wind_speed == doctest::Approx(12.5));
    CHECK(r->precipitation == doctest::Approx(2.5));
    REQUIRE(r->warnings.size() == 2);
    CHECK(r->warnings[0].rfind("rain:", 0) == 0);
    CHECK(r->warnings[1].rfind("wind:", 0) == 0);
    CHECK(domain::summarize_forecast(forecast(), domain::Date{2024, 3, 20}, 0).error().code == ErrorCode::kNotFound);
    CHECK(domain::summarize_forecast(nlohmann::json::object(), domain::Date{2024, 3, 15}, 0).error().code ==
          ErrorCode::kBadGateway);
  }
  TEST_CASE("heat and frost") {
    domain::WeatherReport hot;
    hot.max_temperature = 33;
    hot.min_temperature = 20;
    CHECK(domain::weather_warnings(hot).front().rfind("heat:", 0) == 0);
    domain::WeatherReport cold;
    cold.max_temperature = 2;
    cold.min_temperature = -3;
    CHECK(domain::weather_warnings(cold).front().rfind("frost:", 0) == 0);
  }
}

TEST_SUITE("summary") {
  TEST_CASE("text and escaped HTML") {
    nlohmann::json schedule = {{"title", "<script>x</script>"},
                               {"shootingDate", "2024-03-15"},
                               {"callTime", "06:30"},
                               {"location", "Brewery & Co"},
                               {"safetyNotes", {"Life vests"}}};
    nlohmann::json route = {{"wakeUpTime", "2024-03-15T04:05:00"},
                            {"departureTime", "2024-03-15T04:50:00"},
                            {"arrivalTime", "2024-03-15T06:10:00"},
                            {"segments", {{{"from", "home"}, {"to", "set"}, {"minutes", 60}}}}};
    nlohmann::json weather = {
        {"description", "rain"}, {"temperature", 4.0}, {"windSpeed", 3.0}, {"warnings", {"rain: 2 mm"}}};
    const auto s = domain::render_summary(schedule, route, weather);
    CHECK(s.text.find("04:05  Wake up") != std::string::npos);
    CHECK(s.text.find("Safety notes:\n  - Life vests") != std::string::npos);
    CHECK(s.html.find("<script>") == std::string::npos);
    CHECK(s.html.find("&lt;script&gt;") != std::string::npos);
    CHECK(s.html.find("Brewery &amp; Co") != std::string::npos);
    CHECK(s.timeline.size() == 4);
    CHECK(s.warnings == std::vector<std::string>{"rain: 2 mm"});
  }
}

TEST_SUITE("router") {
  TEST_CASE("templates, params and 405") {
    http::Router<int, int> router;
    router.add("GET", "/api/schedules", 0, 1);
    router.add("GET", "/api/schedules/upcoming", 0, 2);
    router.add("GET", "/api/schedules/:id", 0, 3);
    router.add("DELETE", "/api/schedules/:id", 0, 4);
    CHECK(router.match("GET", "/api/schedules/upcoming").route->handler == 2);
    auto m = router.match("GET", "/api/schedules/abc");
    CHECK(m.route->handler == 3);
    CHECK(m.params["id"] == "abc");
    CHECK(m.route->pattern == "/api/schedules/:id");
    auto bad = router.match("PATCH", "/api/schedules/abc");
    CHECK(bad.route == nullptr);
    CHECK(bad.method_not_allowed);
    CHECK(bad.allowed == "GET, DELETE");
    CHECK(router.match("GET", "/nope").route == nullptr);
    CHECK_FALSE(router.match("GET", "/nope").method_not_allowed);
  }
}

TEST_SUITE("migrations") {
  TEST_CASE("embedded migrations are ordered and versioned") {
    const auto& m = db::embedded_migrations();
    REQUIRE_FALSE(m.empty());
    CHECK(m.front().version == 1);
    CHECK(m.front().sql.find("CREATE TABLE users") != std::string::npos);
    for (std::size_t i = 1; i < m.size(); ++i) CHECK(m[i].version > m[i - 1].version);
  }
}

TEST_SUITE("hostile input") {
  TEST_CASE("JSON bodies: depth, size and NUL are refused while parsing") {
    http::Request r;
    r.headers = {{"content-type", "application/json"}};
    r.body = R"({"notes":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
    auto deep = parse_json_body(r);
    REQUIRE_FALSE(deep.ok());
    CHECK(deep.error().code == ErrorCode::kInvalid);
    CHECK(deep.error().message.find("nested deeper than 32") != std::string::npos);
    r.body = R"({"a":)" + std::string(31, '[') + std::string(31, ']') + "}";
    CHECK(parse_json_body(r).ok());  // 32 levels with the object itself
    r.body = R"({"a":)" + std::string(32, '[') + std::string(32, ']') + "}";
    CHECK_FALSE(parse_json_body(r).ok());
    r.body = R"({"title":"ok","notes":"a\u0000b"})";
    auto nul = parse_json_body(r);
    REQUIRE_FALSE(nul.ok());
    CHECK(nul.error().message.find("notes") == 0);
    r.body = R"({"scenes":["1","\u0000"]})";
    CHECK(parse_json_body(r).error().message.find("scenes") == 0);
    r.body = R"({"k\u0000":1})";
    CHECK_FALSE(parse_json_body(r).ok());
    r.body = R"({"notes":")" + std::string(2000, 'x') + "\"}";
    CHECK(parse_json_body(r, 1000).error().code == ErrorCode::kPayloadTooLarge);
    CHECK(parse_json_body(r, 4000).ok());
  }
  TEST_CASE("typed optional fields name the field") {
    const nlohmann::json body = {{"refreshToken", 5}, {"allDevices", "yes"}, {"name", "x"}};
    auto token = optional_string(body, "refreshToken");
    REQUIRE_FALSE(token.ok());
    CHECK(token.error().message.find("refreshToken") == 0);
    CHECK(optional_bool(body, "allDevices", false).error().message.find("allDevices") == 0);
    CHECK(optional_string(body, "name")->value() == "x");
    CHECK_FALSE(optional_string(body, "absent")->has_value());
    CHECK(*optional_bool(body, "absent", true));
  }
  TEST_CASE("UTF-8 validation") {
    CHECK(valid_utf8("Zürich, Łódź, 東京, 🎬"));
    CHECK_FALSE(valid_utf8("Caf\xe9"));
    CHECK_FALSE(valid_utf8(std::string("a\0b", 3)));
    CHECK_FALSE(valid_utf8("\xc0\xaf"));          // overlong '/'
    CHECK_FALSE(valid_utf8("\xed\xa0\x80"));      // surrogate
    CHECK_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
    CHECK_FALSE(valid_utf8("\xe2\x82"));          // truncated
  }
  TEST_CASE("method labels are bounded") {
    CHECK(std::string(method_label("GET")) == "GET");
    CHECK(std::string(method_label("DELETE")) == "DELETE");
    CHECK(std::string(method_label("get")) == "OTHER");
    CHECK(std::string(method_label(std::string(5000, 'M'))) == "OTHER");
  }
  TEST_CASE("trusted proxies: X-Forwarded-For only from them, read from the right") {
    auto proxies = http::TrustedProxies::parse("10.0.0.0/8, 192.168.1.7 ,fd00::/8");
    REQUIRE(proxies.ok());
    CHECK(proxies->contains("10.1.2.3"));
    CHECK(proxies->contains("192.168.1.7"));
    CHECK_FALSE(proxies->contains("192.168.1.8"));
    CHECK(proxies->contains("fd12::1"));
    CHECK_FALSE(proxies->contains("fe80::1"));
    CHECK_FALSE(proxies->contains("not an address"));
    // Peer is a proxy: the right-most untrusted entry is the client.
    CHECK(proxies->client_address("10.0.0.5", "203.0.113.1") == "203.0.113.1");
    CHECK(proxies->client_address("10.0.0.5", "198.51.100.9, 203.0.113.1") == "203.0.113.1");
    CHECK(proxies->client_address("10.0.0.5", "203.0.113.1, 10.0.0.9") == "203.0.113.1");
    CHECK(proxies->client_address("10.0.0.5", "garbage, 203.0.113.1") == "203.0.113.1");
    CHECK(proxies->client_address("10.0.0.5", "") == "10.0.0.5");
    // Peer is not a proxy: its header is ignored.
    CHECK(proxies->client_address("203.0.113.50", "198.51.100.9") == "203.0.113.50");
    CHECK(http::TrustedProxies::parse("").ok());
    CHECK(http::TrustedProxies::parse("").value().client_address("127.0.0.1", "1.2.3.4") == "127.0.0.1");
    CHECK(http::TrustedProxies::any().client_address("127.0.0.1", "1.2.3.4, 5.6.7.8") == "1.2.3.4");
    CHECK_FALSE(http::TrustedProxies::parse("10.0.0.0/33").ok());
    CHECK_FALSE(http::TrustedProxies::parse("example.com").ok());
  }
  TEST_CASE("configuration of the new limits names the variable") {
    auto env = base_env();
    env["TRUSTED_PROXIES"] = "10.0.0.0/8,nonsense";
    auto bad = load_config(env_of(env));
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.rfind("TRUSTED_PROXIES: ", 0) == 0);
    env = base_env();
    env["HTTP_IDLE_TIMEOUT_SECONDS"] = "0";
    CHECK(load_config(env_of(env)).error().message.rfind("HTTP_IDLE_TIMEOUT_SECONDS: ", 0) == 0);
    env = base_env();
    env["PDF_EXTRACT_CONCURRENCY"] = "0";
    CHECK(load_config(env_of(env)).error().message.rfind("PDF_EXTRACT_CONCURRENCY: ", 0) == 0);
    auto defaults = load_config(env_of(base_env()));
    REQUIRE(defaults.ok());
    CHECK(defaults->idle_timeout == std::chrono::seconds(65));
    CHECK(defaults->pdf_extract_cpu_seconds == 5);
    CHECK(defaults->pdf_extract_concurrency == 2);
  }
}

TEST_SUITE("pdf sandbox") {
  PdfSandboxOptions sandbox_options() {
    PdfSandboxOptions o;
    o.helper_path = STILLONTIME_PDF_HELPER;
    return o;
  }
  TEST_CASE("an ordinary call sheet comes back as text") {
    PdfSandbox sandbox(sandbox_options());
    auto text = sandbox.extract(test::make_pdf({"Shooting Date: 01.06.2030", "Location: Old Brewery"}));
    REQUIRE_MESSAGE(text.ok(), (text.ok() ? "" : text.error().message));
    CHECK(text->find("Old Brewery") != std::string::npos);
    CHECK(sandbox.in_progress() == 0);
    auto garbage = sandbox.extract("%PDF-1.4 garbage");
    REQUIRE_FALSE(garbage.ok());
    CHECK(garbage.error().code == ErrorCode::kUnprocessable);
  }
  TEST_CASE("each limit is a 422 that says which") {
    auto o = sandbox_options();
    o.cpu_seconds = 1;
    auto cpu = PdfSandbox(o).extract(test::make_costly_pdf(200, 400000, false));
    REQUIRE_FALSE(cpu.ok());
    CHECK(cpu.error().code == ErrorCode::kUnprocessable);
    CHECK(cpu.error().message.find("1 s of CPU") != std::string::npos);

    if (kAddressSpaceLimitApplies) {  // not in sanitizer builds: see pdf_sandbox.h
      o = sandbox_options();
      o.memory_bytes = 16u * 1024 * 1024;
      auto memory = PdfSandbox(o).extract(test::make_costly_pdf(1, 4000000));
      REQUIRE_FALSE(memory.ok());
      CHECK(memory.error().code == ErrorCode::kUnprocessable);
      CHECK(memory.error().message.find("16 MiB of memory") != std::string::npos);
    }

    o = sandbox_options();
    o.max_text_bytes = 64 * 1024;
    auto text = PdfSandbox(o).extract(test::make_costly_pdf(200, 20000));
    REQUIRE_FALSE(text.ok());
    CHECK(text.error().message.find("64 KiB of text") != std::string::npos);

    o = sandbox_options();
    o.timeout = std::chrono::milliseconds(200);
    o.cpu_seconds = 60;
    auto slow = PdfSandbox(o).extract(test::make_costly_pdf(200, 400000, false));
    REQUIRE_FALSE(slow.ok());
    CHECK(slow.error().message.find("longer than") != std::string::npos);
  }
  TEST_CASE("a missing helper is an internal error, not a crash") {
    auto o = sandbox_options();
    o.helper_path = "/nonexistent/stillontime-pdf-text";
    auto r = PdfSandbox(o).extract(test::make_pdf({"x"}));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kInternal);
  }
}
