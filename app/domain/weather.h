// Why: turning an OpenWeather 5-day/3-hour forecast into the one report a crew member needs for a
// shooting day (the forecast nearest the call time, the day's extremes, and warnings) is pure, so
// it is tested on canned JSON; fetching it is the service layer's job.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "domain/civil_time.h"

namespace sot::domain {

struct WeatherReport {
  std::string forecast_date;  // YYYY-MM-DD
  double temperature = 0;     // °C near call time
  double max_temperature = 0;
  double min_temperature = 0;
  std::string description;
  double wind_speed = 0;     // m/s, max of the day
  double precipitation = 0;  // mm, sum of the day
  double precipitation_probability = 0;
  int humidity = 0;
  std::vector<std::string> warnings;
};

// OpenWeather's /data/2.5/forecast answer; list[].dt is UTC, city.timezone the offset in seconds.
[[nodiscard]] Result<WeatherReport> summarize_forecast(const nlohmann::json& forecast, const Date& date,
                                                       int call_minutes);
std::vector<std::string> weather_warnings(const WeatherReport& report);
nlohmann::json to_json(const WeatherReport& r);

}  // namespace sot::domain
