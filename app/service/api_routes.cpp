// Why: route plans: when to wake up and leave to make a call time, from travel minutes the client
// gives or from Google Directions, with the user's buffers. One path computes a plan; a schedule's
// route is that plan stored under the schedule, the ad-hoc calculation is the same plan returned.
#include <cmath>

#include "service/application.h"

namespace sot {
namespace {
// Segments given by the client: {"segments":[{from,to,minutes}]}, {"homeToOfficeMinutes", "officeToLocationMinutes"}
// or {"travelMinutes"}. Returns an empty vector when none was given.
Result<std::vector<domain::Segment>> segments_from_body(const nlohmann::json& body, const nlohmann::json& config,
                                                        const std::string& location) {
  std::vector<domain::Segment> out;
  auto minutes = [](const nlohmann::json& v, const char* name) -> Result<int> {
    if (!v.is_number_integer() || v.get<long>() < 0 || v.get<long>() > 1440) {
      return make_error(ErrorCode::kInvalid, std::string(name) + " must be an integer 0..1440");
    }
    return v.get<int>();
  };
  const std::string home = config["homeAddress"].is_string() ? config["homeAddress"].get<std::string>() : "home";
  const std::string office =
      config["officeAddress"].is_string() ? config["officeAddress"].get<std::string>() : "office";
  if (body.contains("segments")) {
    if (!body["segments"].is_array() || body["segments"].empty() || body["segments"].size() > 10) {
      return make_error(ErrorCode::kInvalid, "segments must be a non-empty array of {from, to, minutes}");
    }
    for (const auto& s : body["segments"]) {
      if (!s.is_object() || !s.contains("minutes"))
        return make_error(ErrorCode::kInvalid, "each segment needs minutes");
      auto m = minutes(s["minutes"], "segments[].minutes");
      if (!m) return m.error();
      auto from = optional_string(s, "from", 500);
      if (!from) return make_error(ErrorCode::kInvalid, "segments[].from must be an address string");
      auto to = optional_string(s, "to", 500);
      if (!to) return make_error(ErrorCode::kInvalid, "segments[].to must be an address string");
      out.push_back({from->value_or(""), to->value_or(""), *m, 0, "user"});
    }
  } else if (body.contains("homeToOfficeMinutes") || body.contains("officeToLocationMinutes")) {
    if (!body.contains("homeToOfficeMinutes") || !body.contains("officeToLocationMinutes")) {
      return make_error(ErrorCode::kInvalid, "give both homeToOfficeMinutes and officeToLocationMinutes");
    }
    auto a = minutes(body["homeToOfficeMinutes"], "homeToOfficeMinutes");
    if (!a) return a.error();
    auto b = minutes(body["officeToLocationMinutes"], "officeToLocationMinutes");
    if (!b) return b.error();
    out.push_back({home, office, *a, 0, "user"});
    out.push_back({office, location, *b, 0, "user"});
  } else if (body.contains("travelMinutes")) {
    auto m = minutes(body["travelMinutes"], "travelMinutes");
    if (!m) return m.error();
    out.push_back({home, location, *m, 0, "user"});
  }
  return out;
}

// The call a plan must reach; both are validated before.
domain::LocalDateTime call_at(const std::string& date, const std::string& hhmm) {
  const auto day = domain::parse_iso_date(date);
  const auto call = domain::parse_hhmm(hhmm);
  return domain::LocalDateTime::of(*day, *call / 60, *call % 60);
}
}  // namespace

Result<int> Application::google_directions_minutes(const std::string& from, const std::string& to, double& km) {
  http::ClientRequest request;
  request.url = deps_.config.google_maps_base_url + "/maps/api/directions/json?origin=" + http::url_encode(from) +
                "&destination=" + http::url_encode(to) +
                "&departure_time=now&mode=driving&key=" + http::url_encode(deps_.config.google_maps_api_key);
  auto response = deps_.client.send(request);
  if (!response) return response.error();
  if (response->status != 200)
    return make_error(ErrorCode::kBadGateway, "directions service answered " + std::to_string(response->status));
  const auto j = nlohmann::json::parse(response->body, nullptr, false);
  if (!j.is_object()) return make_error(ErrorCode::kBadGateway, "directions answer is not JSON");
  const std::string status = j.value("status", "");
  if (status == "NOT_FOUND" || status == "ZERO_RESULTS") {
    return make_error(ErrorCode::kUnprocessable, "no route found from \"" + from + "\" to \"" + to + "\"");
  }
  if (status != "OK" || !j.contains("routes") || j["routes"].empty()) {
    return make_error(ErrorCode::kBadGateway, "directions service status " + status);
  }
  const auto& leg = j["routes"][0]["legs"][0];
  const auto& duration = leg.contains("duration_in_traffic") ? leg["duration_in_traffic"] : leg["duration"];
  if (!duration.is_object() || !duration.contains("value"))
    return make_error(ErrorCode::kBadGateway, "directions answer lacks a duration");
  km = leg.contains("distance") ? leg["distance"].value("value", 0.0) / 1000.0 : 0;
  return static_cast<int>(std::lround(duration["value"].get<double>() / 60.0));
}

Result<std::vector<domain::Segment>> Application::directions(const std::string& location,
                                                             const nlohmann::json& config) {
  if (!config["homeAddress"].is_string()) {
    return make_error(ErrorCode::kUnprocessable, "set homeAddress in /api/user/addresses or give travel minutes");
  }
  std::vector<std::pair<std::string, std::string>> legs;
  const std::string home = config["homeAddress"];
  if (config["officeAddress"].is_string()) {
    legs = {{home, config["officeAddress"]}, {config["officeAddress"], location}};
  } else {
    legs = {{home, location}};
  }
  std::vector<domain::Segment> out;
  for (const auto& [from, to] : legs) {
    double km = 0;
    auto m = google_directions_minutes(from, to, km);
    if (!m) return m.error();
    out.push_back({from, to, *m, km, "google_maps"});
  }
  return out;
}

Result<nlohmann::json> Application::make_route_plan(const std::string& user_id, const nlohmann::json& body,
                                                    const RouteTarget& target) {
  auto config = load_config(user_id);
  if (!config) return config.error();
  auto segments = segments_from_body(body, *config, target.location);
  if (!segments) return segments.error();
  if (segments->empty()) {
    if (deps_.config.google_maps_api_key.empty() || !target.location_known) {
      // A schedule always has a location, so only the missing key can be why Directions cannot stand in.
      return make_error(ErrorCode::kUnprocessable,
                        std::string("travel times are needed: give travelMinutes, "
                                    "homeToOfficeMinutes/officeToLocationMinutes or segments") +
                            (target.schedule_id ? " (no GOOGLE_MAPS_API_KEY is configured)" : ""));
    }
    auto found = directions(target.location, *config);
    if (!found) return found.error();
    segments = std::move(found);
  }
  auto buffers = domain::buffers_from_json((*config)["buffers"], domain::Buffers{});
  if (!buffers) return buffers.error();
  if (body.contains("buffers")) {
    buffers = domain::buffers_from_json(body["buffers"], *buffers);
    if (!buffers) return buffers.error();
  }
  auto plan = domain::plan_route(target.call, std::move(segments).value(), *buffers);
  if (!plan) return plan.error();
  if (!target.schedule_id) {
    deps_.metrics.route_calculated();
    return domain::to_json(*plan);
  }
  auto saved = routes_.save(user_id, *target.schedule_id, *plan);
  if (!saved) return saved.error();
  if (!*saved) return make_error(ErrorCode::kNotFound, "schedule not found");  // deleted meanwhile
  deps_.metrics.route_calculated();
  invalidate_cache(user_id);
  auto stored = routes_.find(user_id, *target.schedule_id);
  if (!stored) return stored.error();
  return stored->value_or(nullptr);
}

Result<http::Response> Application::route_get(RequestContext& ctx) {
  auto schedule = load_schedule(ctx.user_id(), ctx.params["id"]);
  if (!schedule) return schedule.error();
  auto route = routes_.find(ctx.user_id(), ctx.params["id"]);
  if (!route) return route.error();
  if (!*route) return make_error(ErrorCode::kNotFound, "no route plan yet; POST .../route/recalculate");
  return json_response(200, {{"routePlan", **route}});
}

Result<http::Response> Application::route_recalculate(RequestContext& ctx) {
  auto body = parse_json_body(ctx.request);
  if (!body) return body.error();
  auto schedule = load_schedule(ctx.user_id(), ctx.params["id"]);
  if (!schedule) return schedule.error();
  const RouteTarget target{
      call_at((*schedule)["shootingDate"].get<std::string>(), (*schedule)["callTime"].get<std::string>()),
      (*schedule)["location"].get<std::string>(), true, ctx.params["id"]};
  auto plan = make_route_plan(ctx.user_id(), *body, target);
  if (!plan) return plan.error();
  return json_response(200, {{"routePlan", *plan}});
}

Result<http::Response> Application::route_calculate(RequestContext& ctx) {
  auto body = parse_json_body(ctx.request);
  if (!body) return body.error();
  if (!body->contains("date") || !(*body)["date"].is_string() ||
      !domain::parse_iso_date((*body)["date"].get<std::string>())) {
    return make_error(ErrorCode::kInvalid, "date is required as YYYY-MM-DD");
  }
  if (!body->contains("callTime") || !(*body)["callTime"].is_string() ||
      !domain::parse_hhmm((*body)["callTime"].get<std::string>())) {
    return make_error(ErrorCode::kInvalid, "callTime is required as HH:MM");
  }
  auto given_location = optional_string(*body, "location", 500);
  if (!given_location) return given_location.error();
  const RouteTarget target{call_at((*body)["date"].get<std::string>(), (*body)["callTime"].get<std::string>()),
                           given_location->value_or("location"), given_location->has_value(), std::nullopt};
  auto plan = make_route_plan(ctx.user_id(), *body, target);
  if (!plan) return plan.error();
  return json_response(200, {{"routePlan", *plan}});
}

}  // namespace sot
