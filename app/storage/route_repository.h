// Why: the SQL of route plans (one per schedule: wake-up, departure, arrival, the segments and the
// buffers used). A plan is only stored for a schedule of the same user, and only that user reads it.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "domain/route_plan.h"
#include "storage/database.h"

namespace sot::db {

class RouteRepository {
 public:
  explicit RouteRepository(Database& db) : db_(db) {}

  // The stored plan in the API's shape (wakeUpTime, departureTime, arrivalTime, totalTravelMinutes,
  // segments, buffers, calculatedAt), or nullopt when the user has none for this schedule.
  [[nodiscard]] Result<std::optional<nlohmann::json>> find(const std::string& user_id, const std::string& schedule_id);
  // Stores or replaces the schedule's plan; false (nothing stored) when the schedule is not the user's.
  [[nodiscard]] Result<bool> save(const std::string& user_id, const std::string& schedule_id,
                                  const domain::RoutePlan& plan);

 private:
  Database& db_;
};

}  // namespace sot::db
