// Why: the SQL of stored forecasts (one per schedule, the report the day view and the summary show,
// its warnings also read by the upcoming list). Only the schedule's owner stores or reads it.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "storage/database.h"

namespace sot::db {

class WeatherRepository {
 public:
  explicit WeatherRepository(Database& db) : db_(db) {}

  // The stored report with its fetchedAt, or nullopt when the user has none for this schedule.
  [[nodiscard]] Result<std::optional<nlohmann::json>> find(const std::string& user_id, const std::string& schedule_id);
  // Stores or replaces the schedule's report (the JSON of domain::WeatherReport); shooting_date
  // stands in for a report without forecastDate. false (nothing stored): the schedule is not the user's.
  [[nodiscard]] Result<bool> save(const std::string& user_id, const std::string& schedule_id,
                                  const nlohmann::json& report, const std::string& shooting_date);

 private:
  Database& db_;
};

}  // namespace sot::db
