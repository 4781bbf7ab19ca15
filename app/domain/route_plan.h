// Why: the heart of the product: when must the crew member get up? Pure arithmetic over the call
// time, the travel segments and the user's buffers, so it is tested exhaustively without I/O.
//
//   arrival   = call - parking - entry            (car parked and on set by call time)
//   departure = arrival - traffic - travel - car change (car change only when the route passes the office)
//   wake-up   = departure - morning routine
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "domain/civil_time.h"

namespace sot::domain {

struct Buffers {
  int car_change = 15;
  int parking = 10;
  int entry = 10;
  int traffic = 20;
  int morning_routine = 45;
  int total() const { return car_change + parking + entry + traffic + morning_routine; }
};

struct Segment {
  std::string from;
  std::string to;
  int minutes = 0;
  double distance_km = 0;
  std::string source;  // "google_maps" or "user"
};

struct RoutePlan {
  LocalDateTime wake_up;
  LocalDateTime departure;
  LocalDateTime arrival;
  LocalDateTime call;
  int total_travel_minutes = 0;
  std::vector<Segment> segments;
  Buffers buffers;
};

[[nodiscard]] Result<RoutePlan> plan_route(const LocalDateTime& call, std::vector<Segment> segments,
                                           const Buffers& buffers);

nlohmann::json to_json(const Buffers& b);
[[nodiscard]] Result<Buffers> buffers_from_json(const nlohmann::json& j, const Buffers& base);
nlohmann::json to_json(const Segment& s);
nlohmann::json to_json(const RoutePlan& plan);

}  // namespace sot::domain
