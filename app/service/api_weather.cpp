// Why: the forecast for a shooting day: OpenWeather's 5-day forecast summarised by the domain,
// cached in Redis for an hour per place and time, and stored with the schedule.
#include "common/digest.h"
#include "core/log.h"
#include "domain/weather.h"
#include "service/application.h"

namespace sot {

Result<nlohmann::json> Application::fetch_weather(const std::string& user_id, const nlohmann::json& schedule) {
  const std::string location = schedule["location"];
  const std::string date_text = schedule["shootingDate"];
  const std::string key =
      "weather:" + common::sha256_hex(location + "|" + date_text + "|" + schedule["callTime"].get<std::string>());
  auto hit = deps_.kv.command({"GET", key});
  if (!hit) return hit.error();
  nlohmann::json report;
  if (hit->type == kv::Reply::Type::kString) {
    deps_.metrics.cache_hit("weather");
    report = nlohmann::json::parse(hit->str, nullptr, false);
  }
  if (report.is_null() || report.is_discarded()) {
    deps_.metrics.cache_miss("weather");
    http::ClientRequest request;
    request.url = deps_.config.openweather_base_url + "/data/2.5/forecast?q=" + http::url_encode(location) +
                  "&units=metric&appid=" + http::url_encode(deps_.config.openweather_api_key);
    auto response = deps_.client.send(request);
    if (!response) return response.error();
    if (response->status == 404)
      return make_error(ErrorCode::kUnprocessable, "the weather service does not know \"" + location + "\"");
    if (response->status == 401) return make_error(ErrorCode::kBadGateway, "the weather service refused the API key");
    if (response->status != 200)
      return make_error(ErrorCode::kBadGateway, "the weather service answered " + std::to_string(response->status));
    const auto forecast = nlohmann::json::parse(response->body, nullptr, false);
    const auto date = domain::parse_iso_date(date_text);
    const auto call = domain::parse_hhmm(schedule["callTime"].get<std::string>());
    auto summary = domain::summarize_forecast(forecast, *date, *call);
    if (!summary) return summary.error();
    report = domain::to_json(*summary);
    auto stored = deps_.kv.command({"SET", key, report.dump(), "EX", "3600"});
    if (!stored) log::warn("weather cache write failed", {{"error", stored.error().message}});
  }
  auto saved = weather_.save(user_id, schedule["id"].get<std::string>(), report, date_text);
  if (!saved) return saved.error();
  if (!*saved) return make_error(ErrorCode::kNotFound, "schedule not found");  // deleted meanwhile
  invalidate_cache(user_id);                                                   // the upcoming list carries the warnings
  return report;
}

Result<http::Response> Application::weather_get(RequestContext& ctx) {
  auto schedule = load_schedule(ctx.user_id(), ctx.params["id"]);
  if (!schedule) return schedule.error();
  if (deps_.config.openweather_api_key.empty()) {
    return json_response(200, {{"weather", nullptr},
                               {"available", false},
                               {"message", "weather is not configured (no OPENWEATHER_API_KEY)"}});
  }
  auto report = fetch_weather(ctx.user_id(), *schedule);
  if (!report) return report.error();
  return json_response(200, {{"weather", *report}, {"available", true}});
}

}  // namespace sot
