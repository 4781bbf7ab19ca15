// Why: see weather.h. Thresholds follow what matters on an outdoor set: rain (≥ 50 % or ≥ 1 mm),
// wind ≥ 10 m/s (rigging, drones), heat ≥ 30 °C, frost ≤ 0 °C.
#include "domain/weather.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace sot::domain {

std::vector<std::string> weather_warnings(const WeatherReport& r) {
  std::vector<std::string> out;
  if (r.precipitation >= 1.0 || r.precipitation_probability >= 0.5) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "rain: %.1f mm expected (%.0f%% chance)", r.precipitation,
                  r.precipitation_probability * 100);
    out.emplace_back(buf);
  }
  if (r.wind_speed >= 10.0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "wind: gusts up to %.1f m/s", r.wind_speed);
    out.emplace_back(buf);
  }
  if (r.max_temperature >= 30.0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "heat: up to %.0f °C", r.max_temperature);
    out.emplace_back(buf);
  }
  if (r.min_temperature <= 0.0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "frost: down to %.0f °C", r.min_temperature);
    out.emplace_back(buf);
  }
  return out;
}

Result<WeatherReport> summarize_forecast(const nlohmann::json& forecast, const Date& date, int call_minutes) {
  if (!forecast.is_object() || !forecast.contains("list") || !forecast["list"].is_array()) {
    return make_error(ErrorCode::kBadGateway, "weather answer lacks a forecast list");
  }
  std::int64_t offset = 0;
  if (forecast.contains("city") && forecast["city"].is_object() && forecast["city"].contains("timezone") &&
      forecast["city"]["timezone"].is_number_integer()) {
    offset = forecast["city"]["timezone"].get<std::int64_t>();
  }
  const std::int64_t day_start = common::days_from_civil(date.year, date.month, date.day) * 86400;
  const std::int64_t call_local = day_start + call_minutes * 60;
  WeatherReport r;
  r.forecast_date = format_date(date);
  bool any = false;
  std::int64_t best_distance = INT64_MAX;
  for (const auto& item : forecast["list"]) {
    if (!item.is_object() || !item.contains("dt") || !item["dt"].is_number()) continue;
    const std::int64_t local = item["dt"].get<std::int64_t>() + offset;
    if (local < day_start || local >= day_start + 86400) continue;
    const auto& main = item.value("main", nlohmann::json::object());
    const double temp = main.value("temp", 0.0);
    const double wind = item.value("wind", nlohmann::json::object()).value("speed", 0.0);
    const double gust = item.value("wind", nlohmann::json::object()).value("gust", 0.0);
    const double rain = item.value("rain", nlohmann::json::object()).value("3h", 0.0) +
                        item.value("snow", nlohmann::json::object()).value("3h", 0.0);
    const double pop = item.value("pop", 0.0);
    if (!any) {
      r.max_temperature = r.min_temperature = temp;
    }
    any = true;
    r.max_temperature = std::max(r.max_temperature, temp);
    r.min_temperature = std::min(r.min_temperature, temp);
    r.wind_speed = std::max({r.wind_speed, wind, gust});
    r.precipitation += rain;
    r.precipitation_probability = std::max(r.precipitation_probability, pop);
    const std::int64_t distance = std::llabs(local - call_local);
    if (distance < best_distance) {
      best_distance = distance;
      r.temperature = temp;
      r.humidity = main.value("humidity", 0);
      const auto& weather = item.value("weather", nlohmann::json::array());
      if (weather.is_array() && !weather.empty() && weather[0].is_object())
        r.description = weather[0].value("description", "");
    }
  }
  if (!any)
    return make_error(ErrorCode::kNotFound, "no forecast for " + r.forecast_date + " (more than 5 days ahead?)");
  r.precipitation = std::round(r.precipitation * 10) / 10;
  r.warnings = weather_warnings(r);
  return r;
}

nlohmann::json to_json(const WeatherReport& r) {
  return {{"forecastDate", r.forecast_date},
          {"temperature", r.temperature},
          {"maxTemperature", r.max_temperature},
          {"minTemperature", r.min_temperature},
          {"description", r.description},
          {"windSpeed", r.wind_speed},
          {"precipitation", r.precipitation},
          {"precipitationProbability", r.precipitation_probability},
          {"humidity", r.humidity},
          {"warnings", r.warnings}};
}

}  // namespace sot::domain
