// Why: see route_plan.h.
#include "domain/route_plan.h"

namespace sot::domain {

Result<RoutePlan> plan_route(const LocalDateTime& call, std::vector<Segment> segments, const Buffers& buffers) {
  if (segments.empty()) return make_error(ErrorCode::kInvalid, "a route needs at least one travel segment");
  int travel = 0;
  for (const auto& s : segments) {
    if (s.minutes < 0 || s.minutes > 24 * 60) return make_error(ErrorCode::kInvalid, "travel minutes must be 0..1440");
    travel += s.minutes;
  }
  RoutePlan plan;
  plan.call = call;
  plan.buffers = buffers;
  plan.total_travel_minutes = travel;
  const int car_change = segments.size() > 1 ? buffers.car_change : 0;
  plan.arrival = call.plus_minutes(-(buffers.parking + buffers.entry));
  plan.departure = plan.arrival.plus_minutes(-(buffers.traffic + travel + car_change));
  plan.wake_up = plan.departure.plus_minutes(-buffers.morning_routine);
  plan.segments = std::move(segments);
  return plan;
}

nlohmann::json to_json(const Buffers& b) {
  return {{"carChange", b.car_change},
          {"parking", b.parking},
          {"entry", b.entry},
          {"traffic", b.traffic},
          {"morningRoutine", b.morning_routine}};
}

Result<Buffers> buffers_from_json(const nlohmann::json& j, const Buffers& base) {
  if (!j.is_object()) return make_error(ErrorCode::kInvalid, "buffers must be an object");
  Buffers b = base;
  const std::pair<const char*, int*> fields[] = {{"carChange", &b.car_change},
                                                 {"parking", &b.parking},
                                                 {"entry", &b.entry},
                                                 {"traffic", &b.traffic},
                                                 {"morningRoutine", &b.morning_routine}};
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (const auto& [name, field] : fields) {
      if (it.key() != name) continue;
      known = true;
      if (!it->is_number_integer() || it->get<long>() < 0 || it->get<long>() > 240) {
        return make_error(ErrorCode::kInvalid, std::string("buffers.") + name + " must be an integer 0..240");
      }
      *field = it->get<int>();
    }
    if (!known) return make_error(ErrorCode::kInvalid, "unknown buffer \"" + it.key() + "\"");
  }
  return b;
}

nlohmann::json to_json(const Segment& s) {
  return {{"from", s.from}, {"to", s.to}, {"minutes", s.minutes}, {"distanceKm", s.distance_km}, {"source", s.source}};
}

nlohmann::json to_json(const RoutePlan& plan) {
  nlohmann::json segments = nlohmann::json::array();
  for (const auto& s : plan.segments) segments.push_back(to_json(s));
  return {{"wakeUpTime", plan.wake_up.iso()},
          {"departureTime", plan.departure.iso()},
          {"arrivalTime", plan.arrival.iso()},
          {"callTime", plan.call.iso()},
          {"totalTravelMinutes", plan.total_travel_minutes},
          {"segments", segments},
          {"buffers", to_json(plan.buffers)}};
}

}  // namespace sot::domain
