// Why: the SQL behind ScheduleRepository; rows are turned into the API's schedule documents here
// and nowhere else.
#include "storage/schedule_repository.h"

namespace sot::db {
namespace {

constexpr const char* kColumns =
    "s.id::text AS id, s.shooting_date::text AS shooting_date, to_char(s.call_time, 'HH24:MI') AS call_time, s.title, "
    "s.location, s.base_location, s.scene_type, s.scenes::text AS scenes, s.equipment::text AS equipment, "
    "s.contacts::text AS contacts, s.safety_notes::text AS safety_notes, s.notes, s.source, "
    "to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_at, "
    "to_char(s.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS updated_at";

constexpr const char* kInsert =
    "INSERT INTO schedules (user_id, shooting_date, call_time, title, location, base_location, scene_type, scenes, "
    "equipment, contacts, safety_notes, notes, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) "
    "RETURNING id::text";

constexpr const char* kInRange =
    "s.user_id = $1 AND ($2::date IS NULL OR s.shooting_date >= $2::date) "
    "AND ($3::date IS NULL OR s.shooting_date <= $3::date)";

nlohmann::json schedule_from_row(const Rows& rows, std::size_t i) {
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

nlohmann::json text_or_null(const Rows& rows, std::size_t i, const char* column) {
  return rows.is_null(i, column) ? nlohmann::json(nullptr) : nlohmann::json(rows.get(i, column));
}

// The eleven editable fields in the order kInsert and the UPDATE take them.
Params field_params(const nlohmann::json& s) {
  auto str = [&](const char* f) { return s.contains(f) ? s[f].get<std::string>() : std::string(); };
  auto arr = [&](const char* f) { return s.contains(f) ? s[f].dump() : std::string("[]"); };
  return {str("shootingDate"), str("callTime"),    str("title"),  str("location"),
          str("baseLocation"), str("sceneType"),   arr("scenes"), arr("equipment"),
          arr("contacts"),     arr("safetyNotes"), str("notes")};
}

Params insert_params(const std::string& user_id, const nlohmann::json& schedule, const std::string& source) {
  Params params = field_params(schedule);
  params.insert(params.begin(), user_id);
  params.push_back(source);
  return params;
}

Param date_or_null(const std::string& date) {
  return date.empty() ? std::nullopt : Param(date);
}

}  // namespace

Result<std::optional<nlohmann::json>> ScheduleRepository::find(const std::string& user_id, const std::string& id) {
  auto rows = db_.exec(std::string("SELECT ") + kColumns + " FROM schedules s WHERE s.id = $1 AND s.user_id = $2",
                       {id, user_id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<nlohmann::json>();
  return std::optional<nlohmann::json>(schedule_from_row(*rows, 0));
}

Result<SchedulePage> ScheduleRepository::list(const std::string& user_id, const ScheduleQuery& query) {
  const Params range{user_id, date_or_null(query.from), date_or_null(query.to)};
  Params params = range;
  params.push_back(std::to_string(query.limit));
  params.push_back(std::to_string(query.offset));
  auto rows = db_.exec(std::string("SELECT ") + kColumns + ", count(*) OVER () AS total FROM schedules s WHERE " +
                           kInRange + " ORDER BY s.shooting_date, s.call_time, s.id LIMIT $4 OFFSET $5",
                       params);
  if (!rows) return rows.error();
  SchedulePage page;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    page.schedules.push_back(schedule_from_row(*rows, i));
    page.total = std::stol(rows->get(i, "total"));
  }
  if (rows->empty() && query.offset > 0) {  // past the last page: the window count is not there
    auto count = db_.exec(std::string("SELECT count(*) AS n FROM schedules s WHERE ") + kInRange, range);
    if (!count) return count.error();
    page.total = std::stol(count->get(0, "n"));
  }
  return page;
}

Result<nlohmann::json> ScheduleRepository::upcoming(const std::string& user_id, const std::string& day, int limit) {
  auto rows = db_.exec(
      std::string("SELECT ") + kColumns +
          ", to_char(r.wake_up_time, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS wake_up, "
          "to_char(r.departure_time, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS departure, w.warnings::text AS warnings "
          "FROM schedules s LEFT JOIN route_plans r ON r.schedule_id = s.id "
          "LEFT JOIN weather_data w ON w.schedule_id = s.id "
          "WHERE s.user_id = $1 AND s.shooting_date >= $2::date ORDER BY s.shooting_date, s.call_time LIMIT $3",
      {user_id, day, std::to_string(limit)});
  if (!rows) return rows.error();
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t i = 0; i < rows->size(); ++i) {
    auto s = schedule_from_row(*rows, i);
    s["wakeUpTime"] = text_or_null(*rows, i, "wake_up");
    s["departureTime"] = text_or_null(*rows, i, "departure");
    // null: no forecast stored yet (the day view fetches one); [] : a forecast without warnings.
    s["weatherWarnings"] = rows->is_null(i, "warnings")
                               ? nlohmann::json(nullptr)
                               : nlohmann::json::parse(rows->get(i, "warnings"), nullptr, false);
    list.push_back(std::move(s));
  }
  return list;
}

Result<std::vector<CalendarDay>> ScheduleRepository::calendar(const std::string& user_id) {
  auto rows = db_.exec(
      "SELECT s.id::text AS id, s.shooting_date::text AS shooting_date, to_char(s.call_time, 'HH24:MI') AS call_time, "
      "s.title, s.location, s.base_location, s.safety_notes::text AS safety_notes, "
      "extract(epoch FROM s.updated_at)::bigint AS updated_unix, "
      "to_char(r.wake_up_time, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS wake, "
      "to_char(r.departure_time, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS departure "
      "FROM schedules s LEFT JOIN route_plans r ON r.schedule_id = s.id "
      "WHERE s.user_id = $1 AND s.shooting_date >= (now() - interval '60 days')::date "
      "ORDER BY s.shooting_date, s.call_time LIMIT 500",
      {user_id});
  if (!rows) return rows.error();
  std::vector<CalendarDay> days;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    CalendarDay d;
    d.schedule_id = rows->get(i, "id");
    d.shooting_date = rows->get(i, "shooting_date");
    d.call_time = rows->get(i, "call_time");
    d.title = rows->get(i, "title");
    d.location = rows->get(i, "location");
    d.base_location = rows->get(i, "base_location");
    d.safety_notes = nlohmann::json::parse(rows->get(i, "safety_notes"), nullptr, false);
    d.updated_unix = std::stoll(rows->get(i, "updated_unix"));
    if (!rows->is_null(i, "wake")) d.wake_up = rows->get(i, "wake");
    if (!rows->is_null(i, "departure")) d.departure = rows->get(i, "departure");
    days.push_back(std::move(d));
  }
  return days;
}

Result<ScheduleStatistics> ScheduleRepository::statistics(const std::string& user_id, const std::string& day) {
  auto rows = db_.exec(
      "SELECT count(*) AS total, count(*) FILTER (WHERE shooting_date >= $2::date) AS upcoming, "
      "count(*) FILTER (WHERE date_trunc('month', shooting_date) = date_trunc('month', $2::date)) AS this_month, "
      "count(*) FILTER (WHERE source = 'manual') AS manual, count(*) FILTER (WHERE source = 'text') AS text, "
      "count(*) FILTER (WHERE source = 'pdf') AS pdf, "
      "min(shooting_date) FILTER (WHERE shooting_date >= $2::date)::text AS next_date, "
      "(SELECT count(*) FROM route_plans WHERE user_id = $1) AS with_route "
      "FROM schedules WHERE user_id = $1",
      {user_id, day});
  if (!rows) return rows.error();
  ScheduleStatistics stats;
  stats.total = std::stol(rows->get(0, "total"));
  stats.upcoming = std::stol(rows->get(0, "upcoming"));
  stats.this_month = std::stol(rows->get(0, "this_month"));
  stats.with_route_plan = std::stol(rows->get(0, "with_route"));
  stats.manual = std::stol(rows->get(0, "manual"));
  stats.text = std::stol(rows->get(0, "text"));
  stats.pdf = std::stol(rows->get(0, "pdf"));
  if (!rows->is_null(0, "next_date")) stats.next_shooting_date = rows->get(0, "next_date");
  return stats;
}

Result<std::string> ScheduleRepository::create(const std::string& user_id, const nlohmann::json& schedule) {
  auto rows = db_.exec(kInsert, insert_params(user_id, schedule, "manual"));
  if (!rows) return rows.error();
  return rows->get(0, "id");
}

Result<bool> ScheduleRepository::update(const std::string& user_id, const std::string& id,
                                        const nlohmann::json& schedule) {
  Params params = field_params(schedule);
  params.insert(params.begin(), {id, user_id});
  auto rows = db_.exec(
      "UPDATE schedules SET shooting_date = $3, call_time = $4, title = $5, location = $6, base_location = $7, "
      "scene_type = $8, scenes = $9, equipment = $10, contacts = $11, safety_notes = $12, notes = $13, updated_at = "
      "now() "
      "WHERE id = $1 AND user_id = $2",
      params);
  if (!rows) return rows.error();
  return rows->affected > 0;
}

Result<bool> ScheduleRepository::remove(const std::string& user_id, const std::string& id) {
  auto rows = db_.exec("DELETE FROM schedules WHERE id = $1 AND user_id = $2", {id, user_id});
  if (!rows) return rows.error();
  return rows->affected > 0;
}

Result<std::optional<std::string>> ScheduleRepository::find_imported(const std::string& user_id,
                                                                     const std::string& content_hash) {
  auto rows =
      db_.exec("SELECT schedule_id::text AS id FROM processed_documents WHERE user_id = $1 AND content_hash = $2",
               {user_id, content_hash});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows->get(0, "id"));
}

Result<std::optional<std::string>> ScheduleRepository::create_imported(const std::string& user_id,
                                                                       const nlohmann::json& schedule,
                                                                       const std::string& source,
                                                                       const std::string& content_hash) {
  std::optional<std::string> created;
  bool raced = false;
  Status stored = db_.transaction([&](Session& s) -> Status {
    auto rows = s.exec(kInsert, insert_params(user_id, schedule, source));
    if (!rows) return rows.error();
    const std::string id = rows->get(0, "id");
    auto doc = s.exec(
        "INSERT INTO processed_documents (user_id, schedule_id, content_hash, source) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (user_id, content_hash) DO NOTHING RETURNING id",
        {user_id, id, content_hash, source});
    if (!doc) return doc.error();
    if (doc->empty()) {
      raced = true;
      return make_error(ErrorCode::kConflict, "imported concurrently");  // rolls the schedule back
    }
    created = id;
    return ok_status();
  });
  if (!stored && !raced) return stored.error();
  return created;
}

}  // namespace sot::db
