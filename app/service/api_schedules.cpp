// Why: shooting days: CRUD with pagination and a per-user response cache, call-sheet import (text
// or PDF, deduplicated by content hash), route plans and wake-up times, weather and the day summary.
#include <cmath>
#include <ctime>

#include "common/base64.h"
#include "common/digest.h"
#include "core/log.h"
#include "domain/call_sheet.h"
#include "domain/pdf_text.h"
#include "domain/summary.h"
#include "domain/weather.h"
#include "service/application.h"

namespace sot {
namespace {

constexpr const char* kScheduleColumns =
    "s.id::text AS id, s.shooting_date::text AS shooting_date, to_char(s.call_time, 'HH24:MI') AS call_time, s.title, "
    "s.location, s.base_location, s.scene_type, s.scenes::text AS scenes, s.equipment::text AS equipment, "
    "s.contacts::text AS contacts, s.safety_notes::text AS safety_notes, s.notes, s.source, "
    "to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_at, "
    "to_char(s.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS updated_at";
constexpr const char* kCacheTtl = "60";

nlohmann::json schedule_from_row(const db::Rows& rows, std::size_t i) {
  auto arr = [&](const char* col) {
    auto j = nlohmann::json::parse(rows.get(i, col), nullptr, false);
    return j.is_discarded() ? nlohmann::json::array() : j;
  };
  return {{"id", rows.get(i, "id")},
          {"shootingDate", rows.get(i, "shooting_date")},
          {"callTime", rows.get(i, "call_time")},
          {"title", rows.get(i, "title")},
          {"location", rows.get(i, "location")},
          {"baseLocation", rows.get(i, "base_location")},
          {"sceneType", rows.get(i, "scene_type")},
          {"scenes", arr("scenes")},
          {"equipment", arr("equipment")},
          {"contacts", arr("contacts")},
          {"safetyNotes", arr("safety_notes")},
          {"notes", rows.get(i, "notes")},
          {"source", rows.get(i, "source")},
          {"createdAt", rows.get(i, "created_at")},
          {"updatedAt", rows.get(i, "updated_at")}};
}

std::string today(const Clock& clock) {
  const std::time_t t = static_cast<std::time_t>(clock.unix_seconds());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

Status check_string_array(const nlohmann::json& v, const char* name, std::size_t max_items) {
  if (!v.is_array() || v.size() > max_items) return make_error(ErrorCode::kInvalid, std::string(name) + " must be an array of strings");
  for (const auto& e : v) {
    if (!e.is_string() || e.get<std::string>().size() > 1000) return make_error(ErrorCode::kInvalid, std::string(name) + " must be an array of strings");
  }
  return ok_status();
}

// Validates a complete schedule document (after merging an update into the stored one).
Status validate_schedule(const nlohmann::json& s) {
  static const std::vector<std::string> kKnown = {"shootingDate", "callTime", "title", "location", "baseLocation", "sceneType",
                                                  "scenes", "equipment", "contacts", "safetyNotes", "notes"};
  for (auto it = s.begin(); it != s.end(); ++it) {
    if (std::find(kKnown.begin(), kKnown.end(), it.key()) == kKnown.end()) {
      return make_error(ErrorCode::kInvalid, "unknown field \"" + it.key() + "\"");
    }
  }
  if (!s.contains("shootingDate") || !s["shootingDate"].is_string() || !domain::parse_iso_date(s["shootingDate"].get<std::string>())) {
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
    if (!s["contacts"].is_array() || s["contacts"].size() > 200) return make_error(ErrorCode::kInvalid, "contacts must be an array");
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

db::Params schedule_params(const nlohmann::json& s) {
  auto str = [&](const char* f) { return s.contains(f) ? s[f].get<std::string>() : std::string(); };
  auto arr = [&](const char* f) { return s.contains(f) ? s[f].dump() : std::string("[]"); };
  return {str("shootingDate"), str("callTime"), str("title"), str("location"), str("baseLocation"), str("sceneType"),
          arr("scenes"), arr("equipment"), arr("contacts"), arr("safetyNotes"), str("notes")};
}

nlohmann::json sheet_to_schedule(const domain::CallSheet& sheet) {
  nlohmann::json contacts = nlohmann::json::array();
  for (const auto& c : sheet.contacts) contacts.push_back(domain::to_json(c));
  return {{"shootingDate", domain::format_date(*sheet.shooting_date)},
          {"callTime", domain::format_hhmm(*sheet.call_time)},
          {"title", sheet.title},
          {"location", sheet.location},
          {"baseLocation", sheet.base_location},
          {"sceneType", sheet.scene_type},
          {"scenes", sheet.scenes},
          {"equipment", sheet.equipment},
          {"contacts", contacts},
          {"safetyNotes", sheet.safety_notes},
          {"notes", sheet.notes}};
}

int query_int(const http::Request& r, const char* key, int fallback, int min, int max, Status& status) {
  auto v = r.query(key);
  if (!v) return fallback;
  char* end = nullptr;
  const long parsed = std::strtol(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || parsed < min || parsed > max) {
    status = make_error(ErrorCode::kInvalid, std::string(key) + " must be an integer " + std::to_string(min) + ".." + std::to_string(max));
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
  auto rows = deps_.db.exec(std::string("SELECT ") + kScheduleColumns + " FROM schedules s WHERE s.id = $1 AND s.user_id = $2",
                            {id, user_id});
  if (!rows) return rows.error();
  if (rows->empty()) return make_error(ErrorCode::kNotFound, "schedule not found");
  return schedule_from_row(*rows, 0);
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
  const std::string field = "list?from=" + from + "&to=" + to + "&page=" + std::to_string(page) + "&limit=" + std::to_string(limit);
  auto body = cached(ctx.user_id(), field, [&]() -> Result<nlohmann::json> {
    const db::Params params{ctx.user_id(), from.empty() ? std::nullopt : db::Param(from), to.empty() ? std::nullopt : db::Param(to),
                            std::to_string(limit), std::to_string((page - 1) * limit)};
    auto rows = deps_.db.exec(std::string("SELECT ") + kScheduleColumns + ", count(*) OVER () AS total FROM schedules s "
                              "WHERE s.user_id = $1 AND ($2::date IS NULL OR s.shooting_date >= $2::date) "
                              "AND ($3::date IS NULL OR s.shooting_date <= $3::date) "
                              "ORDER BY s.shooting_date, s.call_time, s.id LIMIT $4 OFFSET $5",
                              params);
    if (!rows) return rows.error();
    nlohmann::json list = nlohmann::json::array();
    long total = 0;
    for (std::size_t i = 0; i < rows->size(); ++i) {
      list.push_back(schedule_from_row(*rows, i));
      total = std::stol(rows->get(i, "total"));
    }
    if (rows->empty() && page > 1) {
      auto count = deps_.db.exec("SELECT count(*) AS n FROM schedules s WHERE s.user_id = $1 AND ($2::date IS NULL OR s.shooting_date >= $2::date) "
                                 "AND ($3::date IS NULL OR s.shooting_date <= $3::date)",
                                 {params[0], params[1], params[2]});
      if (!count) return count.error();
      total = std::stol(count->get(0, "n"));
    }
    return nlohmann::json{{"schedules", list},
                          {"pagination", {{"page", page}, {"limit", limit}, {"total", total},
                                          {"totalPages", (total + limit - 1) / limit}}}};
  });
  if (!body) return body.error();
  return raw_json(200, std::move(body).value());
}

Result<http::Response> Application::schedules_upcoming(RequestContext& ctx) {
  Status bad = ok_status();
  const int limit = query_int(ctx.request, "limit", 5, 1, 50, bad);
  if (!bad) return bad.error();
  const std::string day = today(deps_.clock);
  auto body = cached(ctx.user_id(), "upcoming?limit=" + std::to_string(limit) + "&day=" + day, [&]() -> Result<nlohmann::json> {
    auto rows = deps_.db.exec(std::string("SELECT ") + kScheduleColumns +
                                  ", to_char(r.wake_up_time, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS wake_up, "
                                  "to_char(r.departure_time, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS departure, w.warnings::text AS warnings "
                                  "FROM schedules s LEFT JOIN route_plans r ON r.schedule_id = s.id "
                                  "LEFT JOIN weather_data w ON w.schedule_id = s.id "
                                  "WHERE s.user_id = $1 AND s.shooting_date >= $2::date ORDER BY s.shooting_date, s.call_time LIMIT $3",
                              {ctx.user_id(), day, std::to_string(limit)});
    if (!rows) return rows.error();
    nlohmann::json list = nlohmann::json::array();
    for (std::size_t i = 0; i < rows->size(); ++i) {
      auto s = schedule_from_row(*rows, i);
      s["wakeUpTime"] = rows->is_null(i, "wake_up") ? nlohmann::json(nullptr) : nlohmann::json(rows->get(i, "wake_up"));
      s["departureTime"] = rows->is_null(i, "departure") ? nlohmann::json(nullptr) : nlohmann::json(rows->get(i, "departure"));
      // null: no forecast stored yet (the day view fetches one); [] : a forecast without warnings.
      s["weatherWarnings"] = rows->is_null(i, "warnings") ? nlohmann::json(nullptr)
                                                          : nlohmann::json::parse(rows->get(i, "warnings"), nullptr, false);
      list.push_back(std::move(s));
    }
    return nlohmann::json{{"schedules", list}};
  });
  if (!body) return body.error();
  return raw_json(200, std::move(body).value());
}

Result<http::Response> Application::schedules_statistics(RequestContext& ctx) {
  const std::string day = today(deps_.clock);
  auto body = cached(ctx.user_id(), "stats?day=" + day, [&]() -> Result<nlohmann::json> {
    auto rows = deps_.db.exec(
        "SELECT count(*) AS total, count(*) FILTER (WHERE shooting_date >= $2::date) AS upcoming, "
        "count(*) FILTER (WHERE date_trunc('month', shooting_date) = date_trunc('month', $2::date)) AS this_month, "
        "count(*) FILTER (WHERE source = 'manual') AS manual, count(*) FILTER (WHERE source = 'text') AS text, "
        "count(*) FILTER (WHERE source = 'pdf') AS pdf, min(shooting_date) FILTER (WHERE shooting_date >= $2::date)::text AS next_date, "
        "(SELECT count(*) FROM route_plans WHERE user_id = $1) AS with_route "
        "FROM schedules WHERE user_id = $1",
        {ctx.user_id(), day});
    if (!rows) return rows.error();
    return nlohmann::json{{"total", std::stol(rows->get(0, "total"))},
                          {"upcoming", std::stol(rows->get(0, "upcoming"))},
                          {"thisMonth", std::stol(rows->get(0, "this_month"))},
                          {"withRoutePlan", std::stol(rows->get(0, "with_route"))},
                          {"bySource", {{"manual", std::stol(rows->get(0, "manual"))}, {"text", std::stol(rows->get(0, "text"))},
                                        {"pdf", std::stol(rows->get(0, "pdf"))}}},
                          {"nextShootingDate", rows->is_null(0, "next_date") ? nlohmann::json(nullptr) : nlohmann::json(rows->get(0, "next_date"))}};
  });
  if (!body) return body.error();
  return raw_json(200, std::move(body).value());
}

Result<http::Response> Application::schedules_create(RequestContext& ctx) {
  auto body = parse_json_body(ctx.request);
  if (!body) return body.error();
  if (Status s = validate_schedule(*body); !s) return s.error();
  db::Params params = schedule_params(*body);
  params.insert(params.begin(), ctx.user_id());
  auto rows = deps_.db.exec(
      "INSERT INTO schedules (user_id, shooting_date, call_time, title, location, base_location, scene_type, scenes, equipment, "
      "contacts, safety_notes, notes, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'manual') RETURNING id::text",
      params);
  if (!rows) {
    if (rows.error().code == ErrorCode::kInvalid) return make_error(ErrorCode::kUnauthenticated, "the user no longer exists");
    return rows.error();
  }
  invalidate_cache(ctx.user_id());
  auto created = load_schedule(ctx.user_id(), rows->get(0, "id"));
  if (!created) return created.error();
  auto r = json_response(201, {{"schedule", *created}});
  r.headers.emplace_back("location", "/api/schedules/" + rows->get(0, "id"));
  return r;
}

Result<http::Response> Application::schedules_get(RequestContext& ctx) {
  auto schedule = load_schedule(ctx.user_id(), ctx.params["id"]);
  if (!schedule) return schedule.error();
  auto route = load_route(ctx.user_id(), ctx.params["id"]);
  if (!route) return route.error();
  auto weather = load_weather(ctx.user_id(), ctx.params["id"]);
  if (!weather) return weather.error();
  (*schedule)["routePlan"] = *route;
  (*schedule)["weather"] = *weather;
  return json_response(200, {{"schedule", *schedule}});
}

Result<http::Response> Application::schedules_update(RequestContext& ctx) {
  auto body = parse_json_body(ctx.request);
  if (!body) return body.error();
  auto current = load_schedule(ctx.user_id(), ctx.params["id"]);
  if (!current) return current.error();
  nlohmann::json merged = nlohmann::json::object();
  for (const char* f : {"shootingDate", "callTime", "title", "location", "baseLocation", "sceneType", "scenes", "equipment",
                        "contacts", "safetyNotes", "notes"}) {
    merged[f] = (*current)[f];
  }
  for (auto it = body->begin(); it != body->end(); ++it) {
    if (!merged.contains(it.key())) return make_error(ErrorCode::kInvalid, "unknown field \"" + it.key() + "\"");
    merged[it.key()] = it.value();
  }
  if (Status s = validate_schedule(merged); !s) return s.error();
  db::Params params = schedule_params(merged);
  params.insert(params.begin(), ctx.params["id"]);
  params.insert(params.begin() + 1, ctx.user_id());
  auto rows = deps_.db.exec(
      "UPDATE schedules SET shooting_date = $3, call_time = $4, title = $5, location = $6, base_location = $7, scene_type = $8, "
      "scenes = $9, equipment = $10, contacts = $11, safety_notes = $12, notes = $13, updated_at = now() "
      "WHERE id = $1 AND user_id = $2",
      params);
  if (!rows) return rows.error();
  if (rows->affected == 0) return make_error(ErrorCode::kNotFound, "schedule not found");
  invalidate_cache(ctx.user_id());
  return schedules_get(ctx);
}

Result<http::Response> Application::schedules_delete(RequestContext& ctx) {
  if (!valid_uuid(ctx.params["id"])) return make_error(ErrorCode::kNotFound, "schedule not found");
  auto rows = deps_.db.exec("DELETE FROM schedules WHERE id = $1 AND user_id = $2", {ctx.params["id"], ctx.user_id()});
  if (!rows) return rows.error();
  if (rows->affected == 0) return make_error(ErrorCode::kNotFound, "schedule not found");
  invalidate_cache(ctx.user_id());
  return http::Response{204, {}, {}};
}

namespace {
// The first file part of a multipart/form-data body: (content type, bytes).
std::optional<std::pair<std::string, std::string>> first_multipart_file(std::string_view content_type, const std::string& body) {
  const auto b = content_type.find("boundary=");
  if (b == std::string_view::npos) return std::nullopt;
  std::string boundary(content_type.substr(b + 9));
  if (const auto semi = boundary.find(';'); semi != std::string::npos) boundary.resize(semi);
  if (boundary.size() >= 2 && boundary.front() == '"') boundary = boundary.substr(1, boundary.size() - 2);
  const std::string delimiter = "--" + boundary;
  std::size_t pos = body.find(delimiter);
  while (pos != std::string::npos) {
    pos += delimiter.size();
    if (body.compare(pos, 2, "--") == 0) break;
    const auto headers_end = body.find("\r\n\r\n", pos);
    if (headers_end == std::string::npos) break;
    const std::string headers = http::to_lower(body.substr(pos, headers_end - pos));
    const auto next = body.find("\r\n" + delimiter, headers_end + 4);
    if (next == std::string::npos) break;
    if (headers.find("filename=") != std::string::npos || headers.find("name=\"file\"") != std::string::npos ||
        headers.find("name=\"text\"") != std::string::npos) {
      std::string type = "text/plain";
      if (const auto ct = headers.find("content-type:"); ct != std::string::npos) {
        const auto end = headers.find("\r\n", ct);
        type = headers.substr(ct + 13, end == std::string::npos ? std::string::npos : end - ct - 13);
        while (!type.empty() && type.front() == ' ') type.erase(type.begin());
      }
      return std::make_pair(type, body.substr(headers_end + 4, next - headers_end - 4));
    }
    pos = next + 2;
  }
  return std::nullopt;
}
}  // namespace

Result<http::Response> Application::schedules_import(RequestContext& ctx) {
  const std::string content_type = http::to_lower(ctx.request.header("content-type"));
  std::string document;
  bool pdf = false;
  if (content_type.rfind("application/pdf", 0) == 0) {
    document = ctx.request.body;
    pdf = true;
  } else if (content_type.rfind("text/plain", 0) == 0) {
    document = ctx.request.body;
  } else if (content_type.rfind("multipart/form-data", 0) == 0) {
    auto part = first_multipart_file(ctx.request.header("content-type"), ctx.request.body);
    if (!part) return make_error(ErrorCode::kInvalid, "the form has no file part");
    document = std::move(part->second);
    pdf = part->first.rfind("application/pdf", 0) == 0 || domain::looks_like_pdf(document);
  } else if (content_type.find("json") != std::string::npos) {
    auto body = parse_json_body(ctx.request, deps_.config.max_body_bytes);  // may carry a whole PDF
    if (!body) return body.error();
    if (body->contains("text") && (*body)["text"].is_string()) {
      document = (*body)["text"];
    } else if (body->contains("pdfBase64") && (*body)["pdfBase64"].is_string()) {
      auto decoded = common::base64_decode((*body)["pdfBase64"].get<std::string>());
      if (!decoded) return make_error(ErrorCode::kInvalid, "pdfBase64 is not valid base64");
      document = std::move(*decoded);
      pdf = true;
    } else {
      return make_error(ErrorCode::kInvalid, "give the call sheet as {\"text\": ...} or {\"pdfBase64\": ...}");
    }
  } else {
    return make_error(ErrorCode::kInvalid, "send the call sheet as application/pdf, text/plain, multipart/form-data or JSON");
  }
  if (document.empty()) return make_error(ErrorCode::kInvalid, "the call sheet is empty");
  if (!pdf && !valid_utf8(document)) {
    return make_error(ErrorCode::kInvalid, "the call sheet text must be UTF-8 without NUL characters");
  }
  const std::string hash = common::sha256_hex(document);
  const std::string source = pdf ? "pdf" : "text";

  auto find_duplicate = [&]() -> Result<std::optional<std::string>> {
    auto rows = deps_.db.exec("SELECT schedule_id::text AS id FROM processed_documents WHERE user_id = $1 AND content_hash = $2",
                              {ctx.user_id(), hash});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<std::string>();
    return std::optional<std::string>(rows->get(0, "id"));
  };
  auto duplicate_response = [&](const std::string& id) -> Result<http::Response> {
    deps_.metrics.schedule_imported("duplicate");
    auto schedule = load_schedule(ctx.user_id(), id);
    if (!schedule) return schedule.error();
    return json_response(200, {{"duplicate", true}, {"schedule", *schedule}, {"contentHash", hash}});
  };
  auto existing = find_duplicate();
  if (!existing) {
    deps_.metrics.schedule_imported("error");
    return existing.error();
  }
  if (*existing) return duplicate_response(**existing);

  std::string text = document;
  if (pdf) {
    if (!domain::looks_like_pdf(document)) {
      deps_.metrics.schedule_imported("invalid");
      return make_error(ErrorCode::kUnprocessable, "the document is not a PDF");
    }
    auto extracted = deps_.pdf.extract(document);
    if (!extracted) {
      const ErrorCode code = extracted.error().code;
      deps_.metrics.pdf_extraction(code == ErrorCode::kUnprocessable ? "refused" : code == ErrorCode::kUnavailable ? "busy" : "error");
      deps_.metrics.schedule_imported(code == ErrorCode::kUnprocessable ? "invalid" : "error");
      if (code != ErrorCode::kUnprocessable) {
        log::warn("PDF extraction failed", {{"requestId", ctx.request_id}, {"error", extracted.error().message}});
      }
      return extracted.error();
    }
    deps_.metrics.pdf_extraction("ok");
    text = std::move(extracted).value();
  }
  const auto parsed = domain::parse_call_sheet(text);
  if (!parsed.missing.empty()) {
    deps_.metrics.schedule_imported("invalid");
    std::string list;
    for (const auto& m : parsed.missing) list += (list.empty() ? "" : ", ") + m;
    return json_response(422, {{"error", "unprocessable_entity"},
                               {"message", "the call sheet lacks required fields: " + list},
                               {"missing", parsed.missing},
                               {"requestId", ctx.request_id}});
  }
  const nlohmann::json schedule = sheet_to_schedule(parsed.sheet);
  std::string new_id;
  Status stored = deps_.db.transaction([&](db::Session& s) -> Status {
    db::Params params = schedule_params(schedule);
    params.insert(params.begin(), ctx.user_id());
    params.push_back(source);
    auto rows = s.exec(
        "INSERT INTO schedules (user_id, shooting_date, call_time, title, location, base_location, scene_type, scenes, equipment, "
        "contacts, safety_notes, notes, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id::text",
        params);
    if (!rows) return rows.error();
    new_id = rows->get(0, "id");
    auto doc = s.exec("INSERT INTO processed_documents (user_id, schedule_id, content_hash, source) VALUES ($1, $2, $3, $4) "
                      "ON CONFLICT (user_id, content_hash) DO NOTHING RETURNING id",
                      {ctx.user_id(), new_id, hash, source});
    if (!doc) return doc.error();
    if (doc->empty()) return make_error(ErrorCode::kConflict, "imported concurrently");  // rolls the schedule back
    return ok_status();
  });
  if (!stored) {
    if (stored.error().code == ErrorCode::kConflict) {
      auto again = find_duplicate();
      if (again && *again) return duplicate_response(**again);
    }
    deps_.metrics.schedule_imported("error");
    return stored.error();
  }
  deps_.metrics.schedule_imported("success");
  invalidate_cache(ctx.user_id());
  auto created = load_schedule(ctx.user_id(), new_id);
  if (!created) return created.error();
  log::info("call sheet imported", {{"requestId", ctx.request_id}, {"scheduleId", new_id}, {"source", source}});
  auto r = json_response(201, {{"duplicate", false}, {"schedule", *created}, {"contentHash", hash}});
  r.headers.emplace_back("location", "/api/schedules/" + new_id);
  return r;
}

Result<nlohmann::json> Application::load_route(const std::string& user_id, const std::string& schedule_id) {
  auto rows = deps_.db.exec(
      "SELECT to_char(wake_up_time, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS wake, to_char(departure_time, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS dep, "
      "to_char(arrival_time, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS arr, total_travel_minutes, segments::text AS segments, "
      "buffers::text AS buffers, to_char(calculated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS calculated_at "
      "FROM route_plans WHERE schedule_id = $1 AND user_id = $2",
      {schedule_id, user_id});
  if (!rows) return rows.error();
  if (rows->empty()) return nlohmann::json(nullptr);
  return nlohmann::json{{"wakeUpTime", rows->get(0, "wake")},
                        {"departureTime", rows->get(0, "dep")},
                        {"arrivalTime", rows->get(0, "arr")},
                        {"totalTravelMinutes", std::stoi(rows->get(0, "total_travel_minutes"))},
                        {"segments", nlohmann::json::parse(rows->get(0, "segments"))},
                        {"buffers", nlohmann::json::parse(rows->get(0, "buffers"))},
                        {"calculatedAt", rows->get(0, "calculated_at")}};
}

Result<http::Response> Application::route_get(RequestContext& ctx) {
  auto schedule = load_schedule(ctx.user_id(), ctx.params["id"]);
  if (!schedule) return schedule.error();
  auto route = load_route(ctx.user_id(), ctx.params["id"]);
  if (!route) return route.error();
  if (route->is_null()) return make_error(ErrorCode::kNotFound, "no route plan yet; POST .../route/recalculate");
  return json_response(200, {{"routePlan", *route}});
}

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
  const std::string office = config["officeAddress"].is_string() ? config["officeAddress"].get<std::string>() : "office";
  if (body.contains("segments")) {
    if (!body["segments"].is_array() || body["segments"].empty() || body["segments"].size() > 10) {
      return make_error(ErrorCode::kInvalid, "segments must be a non-empty array of {from, to, minutes}");
    }
    for (const auto& s : body["segments"]) {
      if (!s.is_object() || !s.contains("minutes")) return make_error(ErrorCode::kInvalid, "each segment needs minutes");
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
}  // namespace

Result<int> Application::google_directions_minutes(const std::string& from, const std::string& to, double& km) {
  http::ClientRequest request;
  request.url = deps_.config.google_maps_base_url + "/maps/api/directions/json?origin=" + http::url_encode(from) +
                "&destination=" + http::url_encode(to) + "&departure_time=now&mode=driving&key=" +
                http::url_encode(deps_.config.google_maps_api_key);
  auto response = deps_.client.send(request);
  if (!response) return response.error();
  if (response->status != 200) return make_error(ErrorCode::kBadGateway, "directions service answered " + std::to_string(response->status));
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
  if (!duration.is_object() || !duration.contains("value")) return make_error(ErrorCode::kBadGateway, "directions answer lacks a duration");
  km = leg.contains("distance") ? leg["distance"].value("value", 0.0) / 1000.0 : 0;
  return static_cast<int>(std::lround(duration["value"].get<double>() / 60.0));
}

Result<std::vector<domain::Segment>> Application::directions(const nlohmann::json& schedule, const nlohmann::json& config) {
  if (!config["homeAddress"].is_string()) {
    return make_error(ErrorCode::kUnprocessable, "set homeAddress in /api/user/addresses or give travel minutes");
  }
  std::vector<std::pair<std::string, std::string>> legs;
  const std::string home = config["homeAddress"];
  const std::string location = schedule["location"];
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

Result<http::Response> Application::route_recalculate(RequestContext& ctx) {
  auto body = parse_json_body(ctx.request);
  if (!body) return body.error();
  auto schedule = load_schedule(ctx.user_id(), ctx.params["id"]);
  if (!schedule) return schedule.error();
  auto config = load_config(ctx.user_id());
  if (!config) return config.error();
  auto segments = segments_from_body(*body, *config, (*schedule)["location"]);
  if (!segments) return segments.error();
  if (segments->empty()) {
    if (deps_.config.google_maps_api_key.empty()) {
      return make_error(ErrorCode::kUnprocessable,
                        "travel times are needed: give travelMinutes, homeToOfficeMinutes/officeToLocationMinutes or segments "
                        "(no GOOGLE_MAPS_API_KEY is configured)");
    }
    auto found = directions(*schedule, *config);
    if (!found) return found.error();
    segments = std::move(found);
  }
  auto buffers = domain::buffers_from_json((*config)["buffers"], domain::Buffers{});
  if (!buffers) return buffers.error();
  if (body->contains("buffers")) {
    buffers = domain::buffers_from_json((*body)["buffers"], *buffers);
    if (!buffers) return buffers.error();
  }
  const auto date = domain::parse_iso_date((*schedule)["shootingDate"].get<std::string>());
  const auto call = domain::parse_hhmm((*schedule)["callTime"].get<std::string>());
  auto plan = domain::plan_route(domain::LocalDateTime::of(*date, *call / 60, *call % 60), std::move(segments).value(), *buffers);
  if (!plan) return plan.error();
  const auto j = domain::to_json(*plan);
  auto rows = deps_.db.exec(
      "INSERT INTO route_plans (schedule_id, user_id, wake_up_time, departure_time, arrival_time, total_travel_minutes, segments, buffers) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (schedule_id) DO UPDATE SET wake_up_time = EXCLUDED.wake_up_time, "
      "departure_time = EXCLUDED.departure_time, arrival_time = EXCLUDED.arrival_time, "
      "total_travel_minutes = EXCLUDED.total_travel_minutes, segments = EXCLUDED.segments, buffers = EXCLUDED.buffers, "
      "calculated_at = now()",
      {ctx.params["id"], ctx.user_id(), plan->wake_up.iso(), plan->departure.iso(), plan->arrival.iso(),
       std::to_string(plan->total_travel_minutes), j["segments"].dump(), j["buffers"].dump()});
  if (!rows) return rows.error();
  deps_.metrics.route_calculated();
  invalidate_cache(ctx.user_id());
  auto stored = load_route(ctx.user_id(), ctx.params["id"]);
  if (!stored) return stored.error();
  return json_response(200, {{"routePlan", *stored}});
}

Result<http::Response> Application::route_calculate(RequestContext& ctx) {
  auto body = parse_json_body(ctx.request);
  if (!body) return body.error();
  if (!body->contains("date") || !(*body)["date"].is_string() || !domain::parse_iso_date((*body)["date"].get<std::string>())) {
    return make_error(ErrorCode::kInvalid, "date is required as YYYY-MM-DD");
  }
  if (!body->contains("callTime") || !(*body)["callTime"].is_string() || !domain::parse_hhmm((*body)["callTime"].get<std::string>())) {
    return make_error(ErrorCode::kInvalid, "callTime is required as HH:MM");
  }
  auto config = load_config(ctx.user_id());
  if (!config) return config.error();
  auto given_location = optional_string(*body, "location", 500);
  if (!given_location) return given_location.error();
  const std::string location = given_location->value_or("location");
  auto segments = segments_from_body(*body, *config, location);
  if (!segments) return segments.error();
  if (segments->empty()) {
    if (deps_.config.google_maps_api_key.empty() || !*given_location) {
      return make_error(ErrorCode::kUnprocessable, "travel times are needed: give travelMinutes, homeToOfficeMinutes/officeToLocationMinutes or segments");
    }
    auto found = directions(nlohmann::json{{"location", location}}, *config);
    if (!found) return found.error();
    segments = std::move(found);
  }
  auto buffers = domain::buffers_from_json((*config)["buffers"], domain::Buffers{});
  if (!buffers) return buffers.error();
  if (body->contains("buffers")) {
    buffers = domain::buffers_from_json((*body)["buffers"], *buffers);
    if (!buffers) return buffers.error();
  }
  const auto date = domain::parse_iso_date((*body)["date"].get<std::string>());
  const auto call = domain::parse_hhmm((*body)["callTime"].get<std::string>());
  auto plan = domain::plan_route(domain::LocalDateTime::of(*date, *call / 60, *call % 60), std::move(segments).value(), *buffers);
  if (!plan) return plan.error();
  deps_.metrics.route_calculated();
  return json_response(200, {{"routePlan", domain::to_json(*plan)}});
}

Result<nlohmann::json> Application::load_weather(const std::string& user_id, const std::string& schedule_id) {
  auto rows = deps_.db.exec("SELECT data::text AS data, to_char(fetched_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS fetched "
                            "FROM weather_data WHERE schedule_id = $1 AND user_id = $2",
                            {schedule_id, user_id});
  if (!rows) return rows.error();
  if (rows->empty()) return nlohmann::json(nullptr);
  auto j = nlohmann::json::parse(rows->get(0, "data"), nullptr, false);
  if (j.is_discarded()) return nlohmann::json(nullptr);
  j["fetchedAt"] = rows->get(0, "fetched");
  return j;
}

Result<nlohmann::json> Application::fetch_weather(const std::string& user_id, const nlohmann::json& schedule) {
  const std::string location = schedule["location"];
  const std::string date_text = schedule["shootingDate"];
  const std::string key = "weather:" + common::sha256_hex(location + "|" + date_text + "|" + schedule["callTime"].get<std::string>());
  auto hit = deps_.kv.command({"GET", key});
  if (!hit) return hit.error();
  nlohmann::json report;
  if (hit->type == kv::Reply::Type::kString) {
    deps_.metrics.cache_hit("weather");
    report = nlohmann::json::parse(hit->str, nullptr, false);
  }
  if (report.is_null() || report.is_discarded()) {
    deps_.metrics.cache_miss("weather");
    http::ClientRequest request;
    request.url = deps_.config.openweather_base_url + "/data/2.5/forecast?q=" + http::url_encode(location) +
                  "&units=metric&appid=" + http::url_encode(deps_.config.openweather_api_key);
    auto response = deps_.client.send(request);
    if (!response) return response.error();
    if (response->status == 404) return make_error(ErrorCode::kUnprocessable, "the weather service does not know \"" + location + "\"");
    if (response->status == 401) return make_error(ErrorCode::kBadGateway, "the weather service refused the API key");
    if (response->status != 200) return make_error(ErrorCode::kBadGateway, "the weather service answered " + std::to_string(response->status));
    const auto forecast = nlohmann::json::parse(response->body, nullptr, false);
    const auto date = domain::parse_iso_date(date_text);
    const auto call = domain::parse_hhmm(schedule["callTime"].get<std::string>());
    auto summary = domain::summarize_forecast(forecast, *date, *call);
    if (!summary) return summary.error();
    report = domain::to_json(*summary);
    auto stored = deps_.kv.command({"SET", key, report.dump(), "EX", "3600"});
    if (!stored) log::warn("weather cache write failed", {{"error", stored.error().message}});
  }
  auto rows = deps_.db.exec(
      "INSERT INTO weather_data (schedule_id, user_id, forecast_date, temperature, description, wind_speed, precipitation, humidity, warnings, data) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (schedule_id) DO UPDATE SET forecast_date = EXCLUDED.forecast_date, "
      "temperature = EXCLUDED.temperature, description = EXCLUDED.description, wind_speed = EXCLUDED.wind_speed, "
      "precipitation = EXCLUDED.precipitation, humidity = EXCLUDED.humidity, warnings = EXCLUDED.warnings, data = EXCLUDED.data, fetched_at = now()",
      {schedule["id"].get<std::string>(), user_id, report.value("forecastDate", date_text), std::to_string(report.value("temperature", 0.0)),
       report.value("description", ""), std::to_string(report.value("windSpeed", 0.0)), std::to_string(report.value("precipitation", 0.0)),
       std::to_string(report.value("humidity", 0)), report.value("warnings", nlohmann::json::array()).dump(), report.dump()});
  if (!rows) return rows.error();
  invalidate_cache(user_id);  // the upcoming list carries the warnings
  return report;
}

Result<http::Response> Application::weather_get(RequestContext& ctx) {
  auto schedule = load_schedule(ctx.user_id(), ctx.params["id"]);
  if (!schedule) return schedule.error();
  if (deps_.config.openweather_api_key.empty()) {
    return json_response(200, {{"weather", nullptr}, {"available", false}, {"message", "weather is not configured (no OPENWEATHER_API_KEY)"}});
  }
  auto report = fetch_weather(ctx.user_id(), *schedule);
  if (!report) return report.error();
  return json_response(200, {{"weather", *report}, {"available", true}});
}

Result<http::Response> Application::summary_get(RequestContext& ctx) {
  auto schedule = load_schedule(ctx.user_id(), ctx.params["id"]);
  if (!schedule) return schedule.error();
  auto route = load_route(ctx.user_id(), ctx.params["id"]);
  if (!route) return route.error();
  auto weather = load_weather(ctx.user_id(), ctx.params["id"]);
  if (!weather) return weather.error();
  const auto summary = domain::render_summary(*schedule, *route, *weather);
  auto rows = deps_.db.exec(
      "INSERT INTO summaries (schedule_id, user_id, text, html, timeline, warnings) VALUES ($1, $2, $3, $4, $5, $6) "
      "ON CONFLICT (schedule_id) DO UPDATE SET text = EXCLUDED.text, html = EXCLUDED.html, timeline = EXCLUDED.timeline, "
      "warnings = EXCLUDED.warnings, created_at = now()",
      {ctx.params["id"], ctx.user_id(), summary.text, summary.html, summary.timeline.dump(), nlohmann::json(summary.warnings).dump()});
  if (!rows) return rows.error();
  const std::string format = ctx.request.query("format").value_or("json");
  if (format == "text") return http::Response{200, {{"content-type", "text/plain; charset=utf-8"}}, summary.text};
  if (format == "html") return http::Response{200, {{"content-type", "text/html; charset=utf-8"}}, summary.html};
  if (format != "json") return make_error(ErrorCode::kInvalid, "format must be json, text or html");
  return json_response(200, {{"summary", {{"text", summary.text}, {"html", summary.html}, {"timeline", summary.timeline},
                                          {"warnings", summary.warnings}}}});
}

}  // namespace sot
