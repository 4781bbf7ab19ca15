// Why: the application proper. It receives adapter-neutral requests and returns responses; the
// middleware (request ids, body limit, CORS, security headers, rate limiting, authentication,
// metrics, access logs, JSON errors) runs here once for every route, and the handlers below only
// speak domain. All I/O is reached through the injected interfaces.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "auth/jwt.h"
#include "auth/oauth.h"
#include "auth/token_store.h"
#include "core/clock.h"
#include "core/config.h"
#include "domain/route_plan.h"
#include "http/client_address.h"
#include "http/http_client.h"
#include "http/http_server.h"
#include "http/router.h"
#include "service/health.h"
#include "service/metrics.h"
#include "service/pdf_sandbox.h"
#include "storage/database.h"
#include "storage/redis.h"
#include "storage/route_repository.h"
#include "storage/schedule_repository.h"
#include "storage/summary_repository.h"
#include "storage/user_repository.h"
#include "storage/weather_repository.h"

namespace sot {

struct Dependencies {
  const Config& config;
  db::Database& db;
  kv::Store& kv;
  http::Client& client;
  const Clock& clock;
  Metrics& metrics;
  PdfSandbox& pdf;
};

struct RequestContext {
  http::Request& request;
  std::map<std::string, std::string> params;
  std::string request_id;
  std::optional<auth::AccessClaims> user;
  const std::string& user_id() const { return user->subject; }
};

// What one route computation aims at: the call to reach and where (location_known false: the
// client named no place, so Google Directions cannot be asked), and for a stored schedule its id,
// under which the plan is saved.
struct RouteTarget {
  domain::LocalDateTime call;
  std::string location;
  bool location_known = false;
  std::optional<std::string> schedule_id;
};

using RouteHandler = std::function<Result<http::Response>(RequestContext&)>;

struct RouteOptions {
  bool auth = false;         // requires a valid bearer token
  bool rate_limited = true;  // counts against the per-client API limit
};

class Application {
 public:
  explicit Application(Dependencies deps);
  ~Application();

  http::Response handle(http::Request& request);          // main port
  http::Response handle_metrics(http::Request& request);  // METRICS_PORT
  void start_health_monitor();
  void stop_health_monitor();
  HealthMonitor& health() { return *health_; }
  void set_draining() { draining_ = true; }
  bool ready() const;
  // Every HTTP worker is inside a handler: a new request would queue, so readiness says not ready
  // and the Service sends traffic to other replicas until one frees up.
  bool saturated() const { return busy_handlers_.load() >= deps_.config.http_workers; }

 private:
  using Router = http::Router<RouteHandler, RouteOptions>;
  void register_routes();

  // middleware helpers
  std::string client_key(const http::Request& request) const;
  void apply_common_headers(const http::Request& request, http::Response& response,
                            const std::string& request_id) const;
  http::Response error_response(const Error& error, const std::string& request_id) const;
  [[nodiscard]] Status authenticate_and_limit(RequestContext& ctx, const RouteOptions& options,
                                              http::Response& headers_out);

  // health
  http::Response health_response(const std::string& request_id) const;

  // handlers: auth
  Result<http::Response> auth_login(RequestContext& ctx);
  Result<http::Response> auth_callback(RequestContext& ctx);
  Result<http::Response> auth_refresh(RequestContext& ctx);
  Result<http::Response> auth_logout(RequestContext& ctx);
  Result<http::Response> auth_status(RequestContext& ctx);
  Result<http::Response> auth_profile(RequestContext& ctx);
  // handlers: user
  Result<http::Response> user_get_config(RequestContext& ctx);
  Result<http::Response> user_update_config(RequestContext& ctx, const char* section);
  Result<http::Response> user_update_profile(RequestContext& ctx);
  Result<http::Response> user_reset(RequestContext& ctx);
  Result<http::Response> user_delete(RequestContext& ctx);
  // handlers: schedules
  Result<http::Response> schedules_list(RequestContext& ctx);
  Result<http::Response> schedules_upcoming(RequestContext& ctx);
  Result<http::Response> schedules_statistics(RequestContext& ctx);
  Result<http::Response> schedules_create(RequestContext& ctx);
  Result<http::Response> schedules_get(RequestContext& ctx);
  Result<http::Response> schedules_update(RequestContext& ctx);
  Result<http::Response> schedules_delete(RequestContext& ctx);
  Result<http::Response> schedules_import(RequestContext& ctx);
  Result<http::Response> route_get(RequestContext& ctx);
  Result<http::Response> route_recalculate(RequestContext& ctx);
  Result<http::Response> route_calculate(RequestContext& ctx);
  Result<http::Response> weather_get(RequestContext& ctx);
  Result<http::Response> summary_get(RequestContext& ctx);
  // handlers: calendar, system
  Result<http::Response> calendar_feed(RequestContext& ctx);
  Result<http::Response> calendar_events(RequestContext& ctx);
  Result<http::Response> calendar_token_create(RequestContext& ctx);
  Result<http::Response> calendar_token_delete(RequestContext& ctx);
  Result<http::Response> system_status(RequestContext& ctx);

  // shared pieces
  Result<nlohmann::json> load_user(const std::string& user_id);
  Result<nlohmann::json> load_config(const std::string& user_id);
  Result<domain::Buffers> load_buffers(const std::string& user_id);
  Result<nlohmann::json> load_schedule(const std::string& user_id, const std::string& id);
  // A schedule with its stored route plan and forecast (null where there is none yet).
  struct ShootingDay {
    nlohmann::json schedule;
    nlohmann::json route;
    nlohmann::json weather;
  };
  Result<ShootingDay> load_day(const std::string& user_id, const std::string& id);
  Result<nlohmann::json> fetch_weather(const std::string& user_id, const nlohmann::json& schedule);
  Result<std::vector<domain::Segment>> directions(const std::string& location, const nlohmann::json& config);
  // The plan for target from the client's body (travel minutes or segments, buffers) and the user's
  // configuration; stored and read back in its stored shape when target names a schedule.
  Result<nlohmann::json> make_route_plan(const std::string& user_id, const nlohmann::json& body,
                                         const RouteTarget& target);
  Result<int> google_directions_minutes(const std::string& from, const std::string& to, double& km);
  Result<std::string> cached(const std::string& user_id, const std::string& field,
                             const std::function<Result<nlohmann::json>()>& compute);
  void invalidate_cache(const std::string& user_id);
  Result<nlohmann::json> issue_session(const std::string& user_id, const std::string& email, const std::string& role);

  Dependencies deps_;
  db::UserRepository users_{deps_.db};
  db::ScheduleRepository schedules_{deps_.db};
  db::RouteRepository routes_{deps_.db};
  db::WeatherRepository weather_{deps_.db};
  db::SummaryRepository summaries_{deps_.db};
  auth::JwtSigner jwt_;
  auth::TokenStore tokens_;
  auth::OAuthFlow oauth_;
  http::TrustedProxies proxies_;  // whose X-Forwarded-For names the client (rate limiting)
  Router router_;
  std::unique_ptr<HealthMonitor> health_;
  std::atomic<bool> draining_{false};
  std::atomic<int> busy_handlers_{0};  // requests in handle() other than the probes
  std::chrono::steady_clock::time_point started_;
};

// Helpers shared by the handler files.
http::Response json_response(int status, const nlohmann::json& body);
// JSON bodies: at most max_bytes, nested at most kMaxJsonDepth deep, no NUL in any string; checked
// while parsing, so nothing walks a hostile value. Errors are 400 (413 for size) naming the problem.
constexpr int kMaxJsonDepth = 32;
constexpr std::size_t kMaxJsonBodyBytes = 1024 * 1024;
[[nodiscard]] Result<nlohmann::json> parse_json_body(const http::Request& request,
                                                     std::size_t max_bytes = kMaxJsonBodyBytes);
// Typed reads of optional body fields: absent or null gives the fallback, another type a 400 naming the field.
[[nodiscard]] Result<std::optional<std::string>> optional_string(const nlohmann::json& body, const char* field,
                                                                 std::size_t max_size = 4096);
[[nodiscard]] Result<bool> optional_bool(const nlohmann::json& body, const char* field, bool fallback);
// Text PostgreSQL will store as given: well-formed UTF-8 without NUL.
bool valid_utf8(std::string_view text);
bool valid_uuid(std::string_view text);

}  // namespace sot
