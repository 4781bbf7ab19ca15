// The server's request pipeline (app/service, app/http) called directly, no
// socket: routing (templates, 404/405), the middleware (request ids, CORS,
// bearer tokens, rate limits) and every handler's query and JSON body
// validation. PostgreSQL, Redis and outbound HTTP are in-memory fakes: the
// database answers the queries that load a user, a configuration and a
// schedule with one plausible row and refuses anything else (an error value,
// which the handlers turn into 503), so every crash or escaped exception found
// here comes from the request, not from the fakes.
//
// Input: "METHOD TARGET\n", header lines "name: value\n", an empty line, the
// body. "authorization: Bearer VALID" is replaced by a token the server issued.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/jwt.h"
#include "core/config.h"
#include "core/log.h"
#include "http/http_client.h"
#include "http/http_types.h"
#include "service/application.h"
#include "service/metrics.h"
#include "service/pdf_sandbox.h"
#include "storage/database.h"
#include "storage/redis.h"

using namespace sot;

namespace {

constexpr const char* kSecret = "0123456789abcdef0123456789abcdef";
constexpr const char* kUser = "0b5e1a3c-1111-4222-8333-944455566677";
constexpr const char* kSchedule = "5a0c1f2e-aaaa-4bbb-8ccc-ddddeeeeffff";

class FixedClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  }
};

db::Rows one_row(std::vector<std::pair<std::string, std::optional<std::string>>> cells) {
  db::Rows r;
  std::vector<std::optional<std::string>> row;
  for (auto& [column, value] : cells) {
    r.columns.push_back(column);
    row.push_back(std::move(value));
  }
  r.rows.push_back(std::move(row));
  return r;
}

Result<db::Rows> answer(std::string_view sql) {
  const bool select = sql.rfind("SELECT", 0) == 0;
  if (select && sql.find("FROM users") != std::string_view::npos && sql.find("count(") == std::string_view::npos) {
    return one_row({{"id", kUser},
                    {"email", "crew@example.com"},
                    {"name", "Crew Member"},
                    {"role", "user"},
                    {"created_at", "2026-01-01 10:00:00+00"},
                    {"last_login_at", std::nullopt},
                    {"has_feed", "f"}});
  }
  if (select && sql.find("FROM user_configs") != std::string_view::npos) {
    return one_row({{"home_address", "Home 1, Warsaw"},
                    {"office_address", "Office 2, Warsaw"},
                    {"buffer_car_change", "15"},
                    {"buffer_parking", "10"},
                    {"buffer_entry", "10"},
                    {"buffer_traffic", "20"},
                    {"buffer_morning_routine", "45"},
                    {"notify_email", "t"},
                    {"notify_sms", "f"},
                    {"notify_push", "t"},
                    {"sms_number", std::nullopt},
                    {"updated_at", "2026-01-01 10:00:00+00"}});
  }
  if (select && sql.find("FROM schedules s WHERE s.id") != std::string_view::npos) {
    return one_row({{"id", kSchedule},
                    {"shooting_date", "2026-03-14"},
                    {"call_time", "06:30"},
                    {"title", "Day 12"},
                    {"location", "Studio A, Warsaw"},
                    {"base_location", "Base camp"},
                    {"scene_type", "INT"},
                    {"scenes", R"(["12A","14"])"},
                    {"equipment", R"(["camera"])"},
                    {"contacts", R"([{"name":"Ann","role":"AD","phone":"+48 600 000 000"}])"},
                    {"safety_notes", "[]"},
                    {"notes", "bring boots"},
                    {"source", "manual"},
                    {"created_at", "2026-01-01T10:00:00Z"},
                    {"updated_at", "2026-01-01T10:00:00Z"}});
  }
  return make_error(ErrorCode::kUnavailable, "fuzz database: query not modelled");
}

class FakeSession final : public db::Session {
 public:
  Result<db::Rows> exec(std::string_view sql, const db::Params&) override { return answer(sql); }
  Status exec_script(std::string_view) override { return make_error(ErrorCode::kUnavailable, "not modelled"); }
};

class FakeDatabase final : public db::Database {
 public:
  Result<db::Rows> exec(std::string_view sql, const db::Params&) override { return answer(sql); }
  Status transaction(const std::function<Status(db::Session&)>& body) override {
    FakeSession s;
    return body(s);
  }
  Status with_session(const std::function<Status(db::Session&)>& body) override {
    FakeSession s;
    return body(s);
  }
};

// Redis: every counter is at 1 (never rate limited), nothing is denied or cached.
class FakeRedis final : public kv::Store {
 public:
  Result<kv::Reply> command(const kv::Command& c) override { return run(c); }
  Result<std::vector<kv::Reply>> pipeline(const std::vector<kv::Command>& cmds) override {
    std::vector<kv::Reply> out;
    for (const auto& c : cmds) out.push_back(run(c));
    return out;
  }

 private:
  static kv::Reply run(const kv::Command& c) {
    const std::string& op = c.empty() ? std::string() : c[0];
    if (op == "PING") return kv::Reply{kv::Reply::Type::kStatus, 0, "PONG", {}};
    if (op == "SET") return kv::Reply{kv::Reply::Type::kStatus, 0, "OK", {}};
    if (op == "GET" || op == "GETDEL" || op == "HGET") return kv::Reply{};
    if (op == "SMEMBERS") return kv::Reply{kv::Reply::Type::kArray, 0, {}, {}};
    return kv::Reply{kv::Reply::Type::kInteger, 1, {}, {}};
  }
};

class FakeClient final : public http::Client {
 public:
  Result<http::ClientResponse> send(const http::ClientRequest&) override {
    return make_error(ErrorCode::kBadGateway, "fuzz: no outbound HTTP");
  }
};

struct World {
  Config config;
  FakeDatabase db;
  FakeRedis kv;
  FakeClient client;
  FixedClock clock;
  Metrics metrics;
  // No extraction slot: a PDF import answers 503 at once instead of starting the helper
  // process per input (fuzz_pdf_text covers the extraction itself).
  PdfSandbox pdf{[] {
    PdfSandboxOptions o;
    o.helper_path = "/nonexistent/stillontime-pdf-text";
    o.concurrency = 0;
    return o;
  }()};
  std::unique_ptr<Application> app;
  std::string token;

  World() {
    log::set_level(log::Level::kError);
    config.jwt_secret = kSecret;
    config.frontend_url = "http://localhost:8080";
    config.public_base_url = "http://localhost:3000";
    config.log_requests = false;
    config.max_body_bytes = 1 << 20;
    app = std::make_unique<Application>(Dependencies{config, db, kv, client, clock, metrics, pdf});
    auth::JwtSigner signer(kSecret, clock);
    auth::AccessClaims claims;
    claims.subject = kUser;
    claims.email = "crew@example.com";
    claims.role = "user";
    token = signer.issue(claims);
  }
};

// What Boost.Beast's parser lets through to the application: a method made of
// token characters (RFC 9110), a target without spaces or controls, header
// names of token characters. Anything else Beast answers 400 itself.
bool token_char(unsigned char c) {
  return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}
bool is_token(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return token_char(static_cast<unsigned char>(c)); });
}
bool is_target(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u != 0x7f;
  });
}

std::optional<http::Request> request_from(std::string_view in, const std::string& token) {
  http::Request r;
  auto line = [&]() {
    const auto nl = in.find('\n');
    std::string_view l = in.substr(0, nl);
    in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    return l;
  };
  const auto first = line();
  const auto sp = first.find(' ');
  r.method = std::string(first.substr(0, sp));
  r.target = sp == std::string_view::npos ? "/" : std::string(first.substr(sp + 1));
  if (!is_token(r.method) || !is_target(r.target)) return std::nullopt;
  // As the Beast adapter does it.
  const auto q = r.target.find('?');
  r.path = http::url_decode(std::string_view(r.target).substr(0, q), false);
  if (q != std::string::npos) r.query_string = r.target.substr(q + 1);
  while (!in.empty()) {
    const auto h = line();
    if (h.empty()) break;
    const auto colon = h.find(':');
    if (colon == std::string_view::npos || !is_token(h.substr(0, colon))) continue;
    std::string value(h.substr(colon + 1));
    while (!value.empty() && value.front() == ' ') value.erase(value.begin());
    if (value == "Bearer VALID") value = "Bearer " + token;
    r.headers.emplace_back(http::to_lower(h.substr(0, colon)), std::move(value));
  }
  r.body = std::string(in);
  r.remote_address = "10.0.0.1";
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  auto parsed = request_from(std::string_view(reinterpret_cast<const char*>(data), size), world.token);
  if (!parsed) return 0;
  http::Request& request = *parsed;
  // Handlers return errors as values: an exception escaping handle() is a bug
  // (the Beast adapter would answer 500), so it stops the fuzzer too.
  http::Response response = world.app->handle(request);
  if (response.status < 100 || response.status > 599) std::abort();
  (void)http::reason_phrase(response.status);
  // Bodies the server itself parses: the shared JSON body check.
  (void)parse_json_body(request);
  return 0;
}
