// Why: the SQL behind RouteRepository.
#include "storage/route_repository.h"

namespace sot::db {

Result<std::optional<nlohmann::json>> RouteRepository::find(const std::string& user_id,
                                                            const std::string& schedule_id) {
  auto rows = db_.exec(
      "SELECT to_char(wake_up_time, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS wake, "
      "to_char(departure_time, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS dep, "
      "to_char(arrival_time, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS arr, total_travel_minutes, segments::text AS segments, "
      "buffers::text AS buffers, "
      "to_char(calculated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS calculated_at "
      "FROM route_plans WHERE schedule_id = $1 AND user_id = $2",
      {schedule_id, user_id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<nlohmann::json>();
  return std::optional<nlohmann::json>(
      nlohmann::json{{"wakeUpTime", rows->get(0, "wake")},
                     {"departureTime", rows->get(0, "dep")},
                     {"arrivalTime", rows->get(0, "arr")},
                     {"totalTravelMinutes", std::stoi(rows->get(0, "total_travel_minutes"))},
                     {"segments", nlohmann::json::parse(rows->get(0, "segments"))},
                     {"buffers", nlohmann::json::parse(rows->get(0, "buffers"))},
                     {"calculatedAt", rows->get(0, "calculated_at")}});
}

Result<bool> RouteRepository::save(const std::string& user_id, const std::string& schedule_id,
                                   const domain::RoutePlan& plan) {
  const auto j = domain::to_json(plan);
  auto rows = db_.exec(
      "INSERT INTO route_plans (schedule_id, user_id, wake_up_time, departure_time, arrival_time, "
      "total_travel_minutes, "
      "segments, buffers) "
      "SELECT $1::uuid, $2::uuid, $3::timestamp, $4::timestamp, $5::timestamp, $6::integer, $7::jsonb, $8::jsonb "
      "WHERE EXISTS (SELECT 1 FROM schedules WHERE id = $1::uuid AND user_id = $2::uuid) "
      "ON CONFLICT (schedule_id) DO UPDATE SET wake_up_time = EXCLUDED.wake_up_time, "
      "departure_time = EXCLUDED.departure_time, arrival_time = EXCLUDED.arrival_time, "
      "total_travel_minutes = EXCLUDED.total_travel_minutes, segments = EXCLUDED.segments, buffers = EXCLUDED.buffers, "
      "calculated_at = now()",
      {schedule_id, user_id, plan.wake_up.iso(), plan.departure.iso(), plan.arrival.iso(),
       std::to_string(plan.total_travel_minutes), j["segments"].dump(), j["buffers"].dump()});
  if (!rows) return rows.error();
  return rows->affected > 0;
}

}  // namespace sot::db
