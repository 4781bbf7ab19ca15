// Why: the SQL behind WeatherRepository.
#include "storage/weather_repository.h"

namespace sot::db {

Result<std::optional<nlohmann::json>> WeatherRepository::find(const std::string& user_id,
                                                              const std::string& schedule_id) {
  auto rows = db_.exec(
      "SELECT data::text AS data, to_char(fetched_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS fetched "
      "FROM weather_data WHERE schedule_id = $1 AND user_id = $2",
      {schedule_id, user_id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<nlohmann::json>();
  auto j = nlohmann::json::parse(rows->get(0, "data"), nullptr, false);
  if (j.is_discarded()) return std::optional<nlohmann::json>();
  j["fetchedAt"] = rows->get(0, "fetched");
  return std::optional<nlohmann::json>(std::move(j));
}

Result<bool> WeatherRepository::save(const std::string& user_id, const std::string& schedule_id,
                                     const nlohmann::json& report, const std::string& shooting_date) {
  auto rows = db_.exec(
      "INSERT INTO weather_data (schedule_id, user_id, forecast_date, temperature, description, wind_speed, "
      "precipitation, "
      "humidity, warnings, data) "
      "SELECT $1::uuid, $2::uuid, $3::date, $4::double precision, $5::text, $6::double precision, $7::double "
      "precision, "
      "$8::integer, $9::jsonb, $10::jsonb "
      "WHERE EXISTS (SELECT 1 FROM schedules WHERE id = $1::uuid AND user_id = $2::uuid) "
      "ON CONFLICT (schedule_id) DO UPDATE SET forecast_date = EXCLUDED.forecast_date, "
      "temperature = EXCLUDED.temperature, description = EXCLUDED.description, wind_speed = EXCLUDED.wind_speed, "
      "precipitation = EXCLUDED.precipitation, humidity = EXCLUDED.humidity, warnings = EXCLUDED.warnings, "
      "data = EXCLUDED.data, fetched_at = now()",
      {schedule_id, user_id, report.value("forecastDate", shooting_date),
       std::to_string(report.value("temperature", 0.0)), report.value("description", ""),
       std::to_string(report.value("windSpeed", 0.0)), std::to_string(report.value("precipitation", 0.0)),
       std::to_string(report.value("humidity", 0)), report.value("warnings", nlohmann::json::array()).dump(),
       report.dump()});
  if (!rows) return rows.error();
  return rows->affected > 0;
}

}  // namespace sot::db
