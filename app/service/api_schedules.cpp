// Why: shooting days: CRUD with pagination and the per-user response cache in front of the reads.
// The rows live behind db::ScheduleRepository; this file validates, caches and answers.
#include <ctime>

#include "core/log.h"
#include "domain/civil_time.h"
#include "service/application.h"

namespace sot {
namespace {

constexpr const char* kCacheTtl = "60";

std::string today(const Clock& clock) {
  const std::time_t t = static_cast<std::time_t>(clock.unix_seconds());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

Status check_string_array(const nlohmann::json& v, const char* name, std::size_t max_items) {
  if (!v.is_array() || v.size() > max_items)
    return make_error(ErrorCode::kInvalid, std::string(name) + " must be an array of strings");
  for (const auto& e : v) {
    if (!e.is_string() || e.get<std::string>().size() > 1000)
      return make_error(ErrorCode::kInvalid, std::string(name) + " must be an array of strings");
  }
  return ok_status();
}

// Validates a complete schedule document (after merging an update into the stored one).
Status validate_schedule(const nlohmann::json& s) {
  static const std::vector<std::string> kKnown = {"shootingDate", "callTime",    "title",  "location",
                                                  "baseLocation", "sceneType",   "scenes", "equipment",
                                                  "contacts",     "safetyNotes", "notes"};
  for (auto it = s.begin(); it != s.end(); ++it) {
    if (std::find(kKnown.begin(), kKnown.end(), it.key()) == kKnown.end()) {
      return make_error(ErrorCode::kInvalid, "unknown field \"" + it.key() + "\"");
    }
  }
  if (!s.contains("shootingDate") || !s["shootingDate"].is_string() ||
      !domain::parse_iso_date(s["shootingDate"].get<std::string>())) {
    return make_error(ErrorCode::kInvalid, "shootingDate is required as YYYY-MM-DD");
  }
  if (!s.contains("callTime") || !s["callTime"].is_string() || !domain::parse_hhmm(s["callTime"].get<std::string>())) {
    return make_error(ErrorCode::kInvalid, "callTime is required as HH:MM");
  }
  if (!s.contains("location") || !s["location"].is_string() || s["location"].get<std::string>().empty() ||
      s["location"].get<std::string>().size() > 500) {
    return make_error(ErrorCode::kInvalid, "location is required (at most 500 characters)");
  }
  for (const char* f : {"title", "baseLocation", "sceneType", "notes"}) {
    if (s.contains(f) && (!s[f].is_string() || s[f].get<std::string>().size() > 10000)) {
      return make_error(ErrorCode::kInvalid, std::string(f) + " must be a string");
    }
  }
  for (const char* f : {"scenes", "equipment", "safetyNotes"}) {
    if (s.contains(f)) {
      if (Status st = check_string_array(s[f], f, 500); !st) return st;
    }
  }
  if (s.contains("contacts")) {
    if (!s["contacts"].is_array() || s["contacts"].size() > 200)
      return make_error(ErrorCode::kInvalid, "contacts must be an array");
    for (const auto& c : s["contacts"]) {
      if (!c.is_object()) return make_error(ErrorCode::kInvalid, "each contact must be an object {name, role, phone}");
      for (auto it = c.begin(); it != c.end(); ++it) {
        if ((it.key() != "name" && it.key() != "role" && it.key() != "phone") || !it->is_string()) {
          return make_error(ErrorCode::kInvalid, "each contact must be an object {name, role, phone} of strings");
        }
      }
    }
  }
  return ok_status();
}

int query_int(const http::Request& r, const char* key, int fallback, int min, int max, Status& status) {
  auto v = r.query(key);
  if (!v) return fallback;
  char* end = nullptr;
  const long parsed = std::strtol(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || parsed < min || parsed > max) {
    status = make_error(ErrorCode::kInvalid,
                        std::string(key) + " must be an integer " + std::to_string(min) + ".." + std::to_string(max));
    return fallback;
  }
  return static_cast<int>(parsed);
}

http::Response raw_json(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.headers.emplace_back("content-type", "application/json; charset=utf-8");
  r.body = std::move(body);
  return r;
}

}  // namespace

Result<std::string> Application::cached(const std::string& user_id, const std::string& field,
                                        const std::function<Result<nlohmann::json>()>& compute) {
  const std::string key = "cache:u:" + user_id;
  auto hit = deps_.kv.command({"HGET", key, field});
  if (!hit) return hit.error();
  if (hit->type == kv::Reply::Type::kString) {
    deps_.metrics.cache_hit("schedules");
    return hit->str;
  }
  deps_.metrics.cache_miss("schedules");
  auto value = compute();
  if (!value) return value.error();
  std::string text = value->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto stored = deps_.kv.pipeline({{"HSET", key, field, text}, {"EXPIRE", key, kCacheTtl, "NX"}});
  if (!stored) log::warn("cache write failed", {{"error", stored.error().message}});
  return text;
}

void Application::invalidate_cache(const std::string& user_id) {
  auto r = deps_.kv.command({"DEL", "cache:u:" + user_id});
  if (!r) log::warn("cache invalidation failed", {{"userId", user_id}, {"error", r.error().message}});
}

Result<nlohmann::json> Application::load_schedule(const std::string& user_id, const std::string& id) {
  if (!valid_uuid(id)) return make_error(ErrorCode::kNotFound, "schedule not found");
  auto found = schedules_.find(user_id, id);
  if (!found) return found.error();
  if (!*found) return make_error(ErrorCode::kNotFound, "schedule not found");
  return std::move(**found);
}

Result<http::Response> Application::schedules_list(RequestContext& ctx) {
  Status bad = ok_status();
  const int page = query_int(ctx.request, "page", 1, 1, 100000, bad);
  const int limit = query_int(ctx.request, "limit", 20, 1, 100, bad);
  if (!bad) return bad.error();
  const std::string from = ctx.request.query("from").value_or("");
  const std::string to = ctx.request.query("to").value_or("");
  if (!from.empty() && !domain::parse_iso_date(from)) return make_error(ErrorCode::kInvalid, "from must be YYYY-MM-DD");
  if (!to.empty() && !domain::parse_iso_date(to)) return make_error(ErrorCode::kInvalid, "to must be YYYY-MM-DD");
  const std::string field =
      "list?from=" + from + "&to=" + to + "&page=" + std::to_string(page) + "&limit=" + std::to_string(limit);
  auto body = cached(ctx.user_id(), field, [&]() -> Result<nlohmann::json> {
    auto found = schedules_.list(ctx.user_id(), {from, to, limit, (page - 1) * limit});
    if (!found) return found.error();
    const long total = found->total;
    return nlohmann::json{
        {"schedules", std::move(found->schedules)},
        {"pagination",
         {{"page", page}, {"limit", limit}, {"total", total}, {"totalPages", (total + limit - 1) / limit}}}};
  });
  if (!body) return body.error();
  return raw_json(200, std::move(body).value());
}

Result<http::Response> Application::schedules_upcoming(RequestContext& ctx) {
  Status bad = ok_status();
  const int limit = query_int(ctx.request, "limit", 5, 1, 50, bad);
  if (!bad) return bad.error();
  const std::string day = today(deps_.clock);
  auto body =
      cached(ctx.user_id(), "upcoming?limit=" + std::to_string(limit) + "&day=" + day, [&]() -> Result<nlohmann::json> {
        auto list = schedules_.upcoming(ctx.user_id(), day, limit);
        if (!list) return list.error();
        return nlohmann::json{{"schedules", std::move(list).value()}};
      });
  if (!body) return body.error();
  return raw_json(200, std::move(body).value());
}

Result<http::Response> Application::schedules_statistics(RequestContext& ctx) {
  const std::string day = today(deps_.clock);
  auto body = cached(ctx.user_id(), "stats?day=" + day, [&]() -> Result<nlohmann::json> {
    auto stats = schedules_.statistics(ctx.user_id(), day);
    if (!stats) return stats.error();
    return nlohmann::json{{"total", stats->total},
                          {"upcoming", stats->upcoming},
                          {"thisMonth", stats->this_month},
                          {"withRoutePlan", stats->with_route_plan},
                          {"bySource", {{"manual", stats->manual}, {"text", stats->text}, {"pdf", stats->pdf}}},
                          {"nextShootingDate", stats->next_shooting_date ? nlohmann::json(*stats->next_shooting_date)
                                                                         : nlohmann::json(nullptr)}};
  });
  if (!body) return body.error();
  return raw_json(200, std::move(body).value());
}

Result<http::Response> Application::schedules_create(RequestContext& ctx) {
  auto body = parse_json_body(ctx.request);
  if (!body) return body.error();
  if (Status s = validate_schedule(*body); !s) return s.error();
  auto id = schedules_.create(ctx.user_id(), *body);
  if (!id) {
    if (id.error().code == ErrorCode::kInvalid)
      return make_error(ErrorCode::kUnauthenticated, "the user no longer exists");
    return id.error();
  }
  invalidate_cache(ctx.user_id());
  auto created = load_schedule(ctx.user_id(), *id);
  if (!created) return created.error();
  auto r = json_response(201, {{"schedule", *created}});
  r.headers.emplace_back("location", "/api/schedules/" + *id);
  return r;
}

Result<Application::ShootingDay> Application::load_day(const std::string& user_id, const std::string& id) {
  auto schedule = load_schedule(user_id, id);
  if (!schedule) return schedule.error();
  auto route = routes_.find(user_id, id);
  if (!route) return route.error();
  auto weather = weather_.find(user_id, id);
  if (!weather) return weather.error();
  return ShootingDay{std::move(schedule).value(), route->value_or(nullptr), weather->value_or(nullptr)};
}

Result<http::Response> Application::schedules_get(RequestContext& ctx) {
  auto day = load_day(ctx.user_id(), ctx.params["id"]);
  if (!day) return day.error();
  day->schedule["routePlan"] = std::move(day->route);
  day->schedule["weather"] = std::move(day->weather);
  return json_response(200, {{"schedule", day->schedule}});
}

Result<http::Response> Application::schedules_update(RequestContext& ctx) {
  auto body = parse_json_body(ctx.request);
  if (!body) return body.error();
  auto current = load_schedule(ctx.user_id(), ctx.params["id"]);
  if (!current) return current.error();
  nlohmann::json merged = nlohmann::json::object();
  for (const char* f : {"shootingDate", "callTime", "title", "location", "baseLocation", "sceneType", "scenes",
                        "equipment", "contacts", "safetyNotes", "notes"}) {
    merged[f] = (*current)[f];
  }
  for (auto it = body->begin(); it != body->end(); ++it) {
    if (!merged.contains(it.key())) return make_error(ErrorCode::kInvalid, "unknown field \"" + it.key() + "\"");
    merged[it.key()] = it.value();
  }
  if (Status s = validate_schedule(merged); !s) return s.error();
  auto updated = schedules_.update(ctx.user_id(), ctx.params["id"], merged);
  if (!updated) return updated.error();
  if (!*updated) return make_error(ErrorCode::kNotFound, "schedule not found");
  invalidate_cache(ctx.user_id());
  return schedules_get(ctx);
}

Result<http::Response> Application::schedules_delete(RequestContext& ctx) {
  if (!valid_uuid(ctx.params["id"])) return make_error(ErrorCode::kNotFound, "schedule not found");
  auto removed = schedules_.remove(ctx.user_id(), ctx.params["id"]);
  if (!removed) return removed.error();
  if (!*removed) return make_error(ErrorCode::kNotFound, "schedule not found");
  invalidate_cache(ctx.user_id());
  return http::Response{204, {}, {}};
}

}  // namespace sot
