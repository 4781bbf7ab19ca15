// Why: the per-user iCalendar feed (a revocable secret in the URL, since calendar apps cannot send
// a bearer token), its JSON twin for the frontend, and the system status page.
#include "common/digest.h"
#include "core/crypto.h"
#include "domain/ical.h"
#include "service/application.h"

namespace sot {
namespace {

struct FeedRow {
  domain::CalendarEntry entry;
  std::string schedule_id;
};

std::vector<FeedRow> feed_rows(const std::vector<db::CalendarDay>& days) {
  std::vector<FeedRow> out;
  for (const auto& day : days) {
    FeedRow f;
    f.schedule_id = day.schedule_id;
    const auto date = domain::parse_iso_date(day.shooting_date);
    const auto call = domain::parse_hhmm(day.call_time);
    if (!date || !call) continue;
    f.entry.uid = f.schedule_id + "@stillontime.app";
    f.entry.summary = day.title.empty() ? "Shooting day: " + day.location : "Shooting day: " + day.title;
    f.entry.location = day.location;
    f.entry.start = domain::LocalDateTime::of(*date, *call / 60, *call % 60);
    f.entry.updated_unix = day.updated_unix;
    std::string description = "Call time " + day.call_time + " at " + day.location;
    if (day.wake_up) {
      const std::string& wake = *day.wake_up;  // YYYY-MM-DDTHH:MM:SS
      const auto wake_date = domain::parse_iso_date(wake.substr(0, 10));
      const auto wake_time = domain::parse_hhmm(wake.substr(11, 5));
      if (wake_date && wake_time) {
        f.entry.wake_up = domain::LocalDateTime::of(*wake_date, *wake_time / 60, *wake_time % 60);
        description += "\nWake up " + f.entry.wake_up->hhmm() + ", leave " + day.departure.value_or("").substr(11, 5);
      }
    }
    if (!day.base_location.empty()) description += "\nBase: " + day.base_location;
    if (day.safety_notes.is_array() && !day.safety_notes.empty()) {
      description += "\nSafety:";
      for (const auto& n : day.safety_notes) {
        if (n.is_string()) description += "\n- " + n.get<std::string>();
      }
    }
    f.entry.description = description;
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace

Result<http::Response> Application::calendar_feed(RequestContext& ctx) {
  const std::string token = ctx.request.query("token").value_or("");
  if (token.empty() || token.size() > 128) return make_error(ErrorCode::kUnauthenticated, "a feed token is required");
  auto user = users_.find_by_calendar_token(common::sha256_hex(token));
  if (!user) return user.error();
  if (!*user) return make_error(ErrorCode::kUnauthenticated, "unknown or revoked feed token");
  auto days = schedules_.calendar(**user);
  if (!days) return days.error();
  std::vector<domain::CalendarEntry> entries;
  for (auto& f : feed_rows(*days)) entries.push_back(std::move(f.entry));
  http::Response r;
  r.status = 200;
  r.headers.emplace_back("content-type", "text/calendar; charset=utf-8");
  r.headers.emplace_back("content-disposition", "inline; filename=\"stillontime.ics\"");
  r.headers.emplace_back("cache-control", "private, max-age=300");
  r.body = domain::render_calendar("StillOnTime", entries, deps_.clock.unix_seconds());
  return r;
}

Result<http::Response> Application::calendar_events(RequestContext& ctx) {
  auto days = schedules_.calendar(ctx.user_id());
  if (!days) return days.error();
  nlohmann::json events = nlohmann::json::array();
  for (const auto& f : feed_rows(*days)) {
    nlohmann::json alarms = nlohmann::json::array();
    if (f.entry.wake_up) {
      for (int offset : {-10, 0, 5})
        alarms.push_back({{"type", "wake_up"}, {"at", f.entry.wake_up->plus_minutes(offset).iso()}});
    }
    for (int hours : {12, 3, 1})
      alarms.push_back({{"type", "reminder"}, {"at", f.entry.start.plus_minutes(-hours * 60).iso()}});
    events.push_back(
        {{"scheduleId", f.schedule_id},
         {"uid", f.entry.uid},
         {"title", f.entry.summary},
         {"location", f.entry.location},
         {"start", f.entry.start.iso()},
         {"end", f.entry.start.plus_minutes(f.entry.duration_minutes).iso()},
         {"wakeUpTime", f.entry.wake_up ? nlohmann::json(f.entry.wake_up->iso()) : nlohmann::json(nullptr)},
         {"description", f.entry.description},
         {"alarms", alarms}});
  }
  return json_response(200, {{"events", events}});
}

Result<http::Response> Application::calendar_token_create(RequestContext& ctx) {
  const std::string token = crypto::random_token(32);
  auto stored = users_.set_calendar_token(ctx.user_id(), common::sha256_hex(token));
  if (!stored) return stored.error();
  if (!*stored) return make_error(ErrorCode::kUnauthenticated, "the user no longer exists");
  std::string base = deps_.config.public_base_url;
  if (base.empty()) base = "http://" + std::string(ctx.request.header("host"));
  const std::string path = "/api/calendar/feed.ics?token=" + token;
  return json_response(201, {{"token", token}, {"url", base + path}, {"path", path}});
}

Result<http::Response> Application::calendar_token_delete(RequestContext& ctx) {
  auto cleared = users_.clear_calendar_token(ctx.user_id());
  if (!cleared) return cleared.error();
  return http::Response{204, {}, {}};
}

Result<http::Response> Application::system_status(RequestContext&) {
  const auto snapshot = health_->snapshot();
  nlohmann::json deps = nlohmann::json::array();
  for (const auto& c : snapshot.checks)
    deps.push_back({{"name", c.name}, {"up", c.up}, {"responseTimeMs", c.response_ms}});
  return json_response(
      200, {{"version", STILLONTIME_VERSION},
            {"environment", app_env_name(deps_.config.env)},
            {"uptimeSeconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count()},
            {"ready", ready()},
            {"schemaVersion", snapshot.schema_version},
            {"dependencies", deps},
            {"features",
             {{"oauth", deps_.config.oauth.enabled()},
              {"weather", !deps_.config.openweather_api_key.empty()},
              {"maps", !deps_.config.google_maps_api_key.empty()}}}});
}

}  // namespace sot
