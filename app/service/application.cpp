// Why: the request pipeline shared by every route (see application.h) and the health endpoints.
// Order matters: request id first (so even a 413 carries one), then body limit, CORS preflight,
// routing, rate limit + token deny-list check in one Redis round trip, the handler, and finally
// headers, metrics and the access log.
#include "service/application.h"

#include <cctype>
#include <cstdio>
#include <random>
#include <thread>

#include "core/crypto.h"
#include "core/log.h"
#include "storage/migrations.h"

namespace sot {

http::Response json_response(int status, const nlohmann::json& body) {
  http::Response r;
  r.status = status;
  r.headers.emplace_back("content-type", "application/json; charset=utf-8");
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Result<nlohmann::json> parse_json_body(const http::Request& request, std::size_t max_bytes) {
  if (request.body.empty()) return nlohmann::json::object();
  const auto ct = request.header("content-type");
  if (!ct.empty() && ct.find("json") == std::string_view::npos) {
    return make_error(ErrorCode::kInvalid, "expected an application/json body");
  }
  if (request.body.size() > max_bytes) {
    return make_error(ErrorCode::kPayloadTooLarge,
                      "a JSON body may have at most " + std::to_string(max_bytes) + " bytes");
  }
  // The limits are checked while parsing, before any code walks the value: nlohmann's copy and
  // comparison recurse, so a value nested 100,000 deep would exhaust a worker's stack. Containers
  // deeper than the limit are discarded unbuilt and the whole body is refused.
  bool too_deep = false;
  std::string nul_field;
  std::string last_key;
  auto limits = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if ((event == Event::object_start || event == Event::array_start) && depth >= kMaxJsonDepth) {
      too_deep = true;
      return false;
    }
    if (event == Event::key && depth == 1 && parsed.is_string()) last_key = parsed.get_ref<const std::string&>();
    if ((event == Event::key || event == Event::value) && parsed.is_string() &&
        parsed.get_ref<const std::string&>().find('\0') != std::string::npos) {
      if (nul_field.empty()) nul_field = last_key.empty() ? "the body" : last_key;
      return false;
    }
    return true;
  };
  auto j = nlohmann::json::parse(request.body, limits, false);
  if (j.is_discarded()) return make_error(ErrorCode::kInvalid, "the body is not valid JSON");
  if (too_deep)
    return make_error(ErrorCode::kInvalid,
                      "the body is nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  if (!nul_field.empty()) return make_error(ErrorCode::kInvalid, nul_field + " contains a NUL character (\\u0000)");
  if (!j.is_object()) return make_error(ErrorCode::kInvalid, "the body must be a JSON object");
  return j;
}

Result<std::optional<std::string>> optional_string(const nlohmann::json& body, const char* field,
                                                   std::size_t max_size) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string() || it->get_ref<const std::string&>().size() > max_size) {
    return make_error(ErrorCode::kInvalid,
                      std::string(field) + " must be a string of at most " + std::to_string(max_size) + " bytes");
  }
  return std::optional<std::string>(it->get<std::string>());
}

Result<bool> optional_bool(const nlohmann::json& body, const char* field, bool fallback) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) return make_error(ErrorCode::kInvalid, std::string(field) + " must be true or false");
  return it->get<bool>();
}

bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  const auto n = text.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0)
      len = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0)
      len = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0)
      len = 4, cp = c & 0x07;
    else
      return false;
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

bool valid_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

namespace {
// Request ids need to be unique, not secret: a per-thread PRNG avoids a CSPRNG call per request.
std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   (std::hash<std::thread::id>{}(std::this_thread::get_id()) << 1)};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(24, '0');
  std::uint64_t a = rng(), b = rng();
  for (int i = 0; i < 16; ++i, a >>= 4) id[static_cast<std::size_t>(i)] = kHex[a & 15];
  for (int i = 16; i < 24; ++i, b >>= 4) id[static_cast<std::size_t>(i)] = kHex[b & 15];
  return id;
}

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' && c != ':') return false;
  }
  return true;
}
}  // namespace

Application::Application(Dependencies deps)
    : deps_(deps),
      jwt_(deps.config.jwt_secret, deps.clock),
      tokens_(deps.kv),
      oauth_(deps.config.oauth, deps.client, deps.kv),
      proxies_(deps.config.trust_proxy ? http::TrustedProxies::any()
                                       : http::TrustedProxies::parse(deps.config.trusted_proxies).value()),
      started_(std::chrono::steady_clock::now()) {
  health_ = std::make_unique<HealthMonitor>(
      [this]() -> Status {
        auto pong = deps_.kv.command({"PING"});
        if (!pong) return pong.error();
        return ok_status();
      },
      [this]() { return db::applied_version(deps_.db); }, db::latest_version(db::embedded_migrations()),
      std::chrono::milliseconds(deps.config.health_interval_ms),
      [this](const HealthSnapshot& snapshot) {
        for (const auto& c : snapshot.checks) deps_.metrics.set_dependency_up(c.name, c.up);
        deps_.metrics.set_ready(ready());
      });
  register_routes();
}

Application::~Application() {
  stop_health_monitor();
}

void Application::start_health_monitor() {
  health_->check_now();
  health_->start();
}

void Application::stop_health_monitor() {
  if (health_) health_->stop();
}

bool Application::ready() const {
  return !draining_.load() && health_->dependencies_ready();
}

std::string Application::client_key(const http::Request& request) const {
  return proxies_.client_address(request.remote_address, request.header("x-forwarded-for"));
}

void Application::apply_common_headers(const http::Request& request, http::Response& response,
                                       const std::string& request_id) const {
  response.headers.emplace_back("x-request-id", request_id);
  response.headers.emplace_back("x-content-type-options", "nosniff");
  response.headers.emplace_back("x-frame-options", "DENY");
  response.headers.emplace_back("referrer-policy", "no-referrer");
  response.headers.emplace_back("content-security-policy", "default-src 'none'; frame-ancestors 'none'");
  response.headers.emplace_back("cross-origin-resource-policy", "same-site");
  response.headers.emplace_back("x-dns-prefetch-control", "off");
  if (deps_.config.env == AppEnv::kProduction) {
    response.headers.emplace_back("strict-transport-security", "max-age=31536000; includeSubDomains");
  }
  if (response.header("cache-control").empty()) response.headers.emplace_back("cache-control", "no-store");
  const auto origin = request.header("origin");
  if (!origin.empty() && origin == deps_.config.frontend_url) {
    response.headers.emplace_back("access-control-allow-origin", deps_.config.frontend_url);
    response.headers.emplace_back("access-control-allow-credentials", "true");
    response.headers.emplace_back("access-control-expose-headers",
                                  "x-request-id, ratelimit-limit, ratelimit-remaining, ratelimit-reset, retry-after");
  }
  response.headers.emplace_back("vary", "Origin");
}

http::Response Application::error_response(const Error& error, const std::string& request_id) const {
  const int status = http_status_for(error.code);
  // 5xx messages can carry internals (SQL text); clients get a generic sentence, the log the detail.
  std::string message = error.message;
  if (status == 500) message = "internal error";
  return json_response(status, {{"error", error_name(error.code)}, {"message", message}, {"requestId", request_id}});
}

Status Application::authenticate_and_limit(RequestContext& ctx, const RouteOptions& options, http::Response& out) {
  // The token is checked first (locally, no I/O) but a refusal is returned only after the request
  // was counted: failed authentications use up the client's budget like any other request, so
  // guessing tokens is as limited as everything else.
  std::optional<Error> auth_failure;
  if (options.auth) {
    const auto header = ctx.request.header("authorization");
    if (header.size() < 8 || http::to_lower(header.substr(0, 7)) != "bearer ") {
      auth_failure = make_error(ErrorCode::kUnauthenticated, "a bearer token is required");
    } else if (auto claims = jwt_.verify(header.substr(7)); !claims) {
      auth_failure = claims.error();
    } else {
      ctx.user = std::move(claims).value();
    }
  }
  if (!options.rate_limited && !ctx.user) {
    if (auth_failure) return *auth_failure;
    return ok_status();
  }

  std::vector<kv::Command> commands;
  const auto now = deps_.clock.unix_seconds();
  const int window = deps_.config.rate_limit_window_seconds;
  const auto window_index = now / window;
  const auto reset = window - (now % window);
  if (options.rate_limited) {
    const std::string key = "rl:" + client_key(ctx.request) + ":" + std::to_string(window_index);
    commands.push_back({"INCR", key});
    commands.push_back({"EXPIRE", key, std::to_string(window + 1), "NX"});
  }
  if (ctx.user) {
    commands.push_back(auth::TokenStore::denied_check(ctx.user->jti));
    commands.push_back(auth::TokenStore::user_revoked_check(ctx.user->subject));
  }
  auto replies = deps_.kv.pipeline(commands);
  if (!replies) return replies.error();
  std::size_t i = 0;
  if (options.rate_limited) {
    const auto& count = (*replies)[0];
    if (count.type != kv::Reply::Type::kInteger)
      return make_error(ErrorCode::kInternal, "redis: unexpected INCR reply");
    const long long remaining = std::max<long long>(0, deps_.config.rate_limit_max - count.integer);
    out.headers.emplace_back("ratelimit-limit", std::to_string(deps_.config.rate_limit_max));
    out.headers.emplace_back("ratelimit-remaining", std::to_string(remaining));
    out.headers.emplace_back("ratelimit-reset", std::to_string(reset));
    if (count.integer > deps_.config.rate_limit_max) {
      out.headers.emplace_back("retry-after", std::to_string(reset));
      deps_.metrics.rate_limited();
      return make_error(ErrorCode::kTooManyRequests, "rate limit exceeded, retry in " + std::to_string(reset) + " s");
    }
    i = 2;
  }
  if (auth_failure) return *auth_failure;
  if (ctx.user) {
    const auto& denied = (*replies)[i];
    if (denied.type == kv::Reply::Type::kInteger && denied.integer > 0) {
      return make_error(ErrorCode::kUnauthenticated, "token has been revoked");
    }
    if (auth::TokenStore::revoked_by((*replies)[i + 1], ctx.user->issued_at)) {
      return make_error(ErrorCode::kUnauthenticated, "token has been revoked");
    }
  }
  return ok_status();
}

http::Response Application::handle(http::Request& request) {
  const auto start = std::chrono::steady_clock::now();
  std::string request_id(request.header("x-request-id"));
  if (!valid_request_id(request_id)) request_id = new_request_id();

  http::Response response;
  std::string route_label = "unmatched";
  http::Response limit_headers;

  if (request.body_too_large) {
    response =
        error_response(make_error(ErrorCode::kPayloadTooLarge,
                                  "request body exceeds " + std::to_string(deps_.config.max_body_bytes) + " bytes"),
                       request_id);
  } else if (request.method == "OPTIONS") {
    const auto origin = request.header("origin");
    if (!origin.empty() && origin == deps_.config.frontend_url) {
      response.status = 204;
      response.headers.emplace_back("access-control-allow-methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
      response.headers.emplace_back("access-control-allow-headers", "Authorization, Content-Type, X-Request-Id");
      response.headers.emplace_back("access-control-max-age", "600");
    } else {
      response = error_response(make_error(ErrorCode::kForbidden, "origin not allowed"), request_id);
    }
    route_label = "preflight";
  } else if (request.path == "/health" && (request.method == "GET" || request.method == "HEAD")) {
    route_label = "/health";
    response = health_response(request_id);
  } else if (request.path == "/health/live" && (request.method == "GET" || request.method == "HEAD")) {
    route_label = "/health/live";
    response = json_response(200, {{"status", "alive"}});
  } else if (request.path == "/ready" && (request.method == "GET" || request.method == "HEAD")) {
    route_label = "/ready";
    const bool busy = saturated();
    response = ready() && !busy ? json_response(200, {{"status", "ready"}})
                                : json_response(503, {{"status", "not_ready"},
                                                      {"draining", draining_.load()},
                                                      {"saturated", busy},
                                                      {"busyWorkers", busy_handlers_.load()},
                                                      {"pdfExtractions", deps_.pdf.in_progress()}});
  } else {
    busy_handlers_.fetch_add(1);
    struct Leave {
      std::atomic<int>& n;
      ~Leave() { n.fetch_sub(1); }
    } leave{busy_handlers_};
    auto match = router_.match(request.method, request.path);
    if (match.route == nullptr) {
      if (match.method_not_allowed) {
        response = error_response(make_error(ErrorCode::kInvalid, "method not allowed"), request_id);
        response.status = 405;
        response.body = nlohmann::json{
            {"error", "method_not_allowed"},
            {"message", std::string(method_label(request.method)) + " is not allowed here"},
            {"requestId",
             request_id}}.dump();
        response.headers.emplace_back("allow", match.allowed);
      } else {
        response = error_response(
            make_error(ErrorCode::kNotFound, "no route for " + request.method + " " + request.path), request_id);
      }
    } else {
      route_label = match.route->pattern;
      RequestContext ctx{request, std::move(match.params), request_id, std::nullopt};
      std::optional<Error> failure;
      try {
        Status allowed = authenticate_and_limit(ctx, match.route->options, limit_headers);
        if (!allowed) {
          failure = allowed.error();
        } else {
          auto result = match.route->handler(ctx);
          if (result)
            response = std::move(result).value();
          else
            failure = result.error();
        }
      } catch (const std::exception& e) {
        // A bug (handlers return errors as values), but it still gets a request id, the headers,
        // a log line and its count in http_requests_total like any other 500.
        failure = make_error(ErrorCode::kInternal, std::string("unexpected exception: ") + e.what());
      }
      if (failure) {
        response = error_response(*failure, request_id);
        if (response.status >= 500) {
          log::error("request failed", {{"requestId", request_id},
                                        {"route", route_label},
                                        {"status", response.status},
                                        {"error", failure->message}});
        }
      }
    }
  }
  for (auto& h : limit_headers.headers) response.headers.push_back(std::move(h));
  if (response.status == 503 && response.header("retry-after").empty())
    response.headers.emplace_back("retry-after", "5");
  if (response.status == 401 && response.header("www-authenticate").empty()) {
    // RFC 6750: a 401 names the scheme; with a token that was refused, says so.
    response.headers.emplace_back("www-authenticate", request.header("authorization").empty()
                                                          ? R"(Bearer realm="stillontime")"
                                                          : R"(Bearer realm="stillontime", error="invalid_token")");
  }
  apply_common_headers(request, response, request_id);
  if (request.method == "HEAD") response.body.clear();

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  deps_.metrics.observe_request(request.method, route_label, response.status, seconds);
  if (deps_.config.log_requests && route_label.rfind("/health", 0) != 0 && route_label != "/ready" &&
      log::enabled(log::Level::kInfo)) {
    // The path only: query strings can carry the calendar token.
    log::info("request", {{"requestId", request_id},
                          {"method", method_label(request.method)},
                          {"path", request.path.substr(0, 2048)},
                          {"route", route_label},
                          {"status", response.status},
                          {"durationMs", seconds * 1000}});
  }
  return response;
}

http::Response Application::health_response(const std::string&) const {
  const auto rendered = health_->rendered();
  const char* status =
      rendered->critical_down ? "unhealthy" : (rendered->slow || draining_.load() ? "degraded" : "healthy");
  const double uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  char head[160];
  std::snprintf(head, sizeof head, R"({"status":"%s","version":"%s","environment":"%s","uptimeSeconds":%.3f,"checks":)",
                status, STILLONTIME_VERSION, app_env_name(deps_.config.env), uptime);
  http::Response r;
  r.status = rendered->critical_down ? 503 : 200;
  r.headers.emplace_back("content-type", "application/json; charset=utf-8");
  r.body.reserve(256 + rendered->checks_json.size());
  r.body.append(head).append(rendered->checks_json).push_back('}');
  return r;
}

http::Response Application::handle_metrics(http::Request& request) {
  if (request.path != "/metrics") {
    const std::string request_id = new_request_id();
    auto r = json_response(
        404, {{"error", "not_found"}, {"message", "only /metrics is served here"}, {"requestId", request_id}});
    r.headers.emplace_back("x-request-id", request_id);
    return r;
  }
  http::Response r;
  r.status = 200;
  r.headers.emplace_back("content-type", "text/plain; version=0.0.4; charset=utf-8");
  r.body = deps_.metrics.render();
  return r;
}

}  // namespace sot
