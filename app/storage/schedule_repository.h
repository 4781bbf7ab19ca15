// Why: every SQL statement about shooting days and the call sheets they were imported from, so the
// handlers speak of schedules and never build SQL. A schedule travels as the API's JSON document
// (shootingDate, callTime, title, location, baseLocation, sceneType, scenes, equipment, contacts,
// safetyNotes, notes), validated by the caller before it is written. Every statement is scoped to
// the owning user: another user's id finds nothing and changes nothing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "storage/database.h"

namespace sot::db {

// A page of a user's schedules between two dates (empty: open), in shooting order.
struct ScheduleQuery {
  std::string from;
  std::string to;
  int limit = 20;
  int offset = 0;
};

struct SchedulePage {
  nlohmann::json schedules = nlohmann::json::array();
  long total = 0;  // all the user's schedules in the range, not only this page
};

struct ScheduleStatistics {
  long total = 0;
  long upcoming = 0;    // on or after the given day
  long this_month = 0;  // in the given day's month
  long with_route_plan = 0;
  long manual = 0;  // by source
  long text = 0;
  long pdf = 0;
  std::optional<std::string> next_shooting_date;
};

// One shooting day as the calendar shows it.
struct CalendarDay {
  std::string schedule_id;
  std::string shooting_date;  // YYYY-MM-DD
  std::string call_time;      // HH:MM
  std::string title;
  std::string location;
  std::string base_location;
  nlohmann::json safety_notes = nlohmann::json::array();
  long long updated_unix = 0;
  std::optional<std::string> wake_up;    // YYYY-MM-DDTHH:MM:SS, with a route plan
  std::optional<std::string> departure;  // likewise
};

class ScheduleRepository {
 public:
  explicit ScheduleRepository(Database& db) : db_(db) {}

  // The schedule, or nullopt when there is none with this id for this user. id must be a UUID.
  [[nodiscard]] Result<std::optional<nlohmann::json>> find(const std::string& user_id, const std::string& id);
  [[nodiscard]] Result<SchedulePage> list(const std::string& user_id, const ScheduleQuery& query);
  // Schedules from day (YYYY-MM-DD) on, each with its wakeUpTime and departureTime (null without a
  // route plan) and weatherWarnings (null before a forecast was stored).
  [[nodiscard]] Result<nlohmann::json> upcoming(const std::string& user_id, const std::string& day, int limit);
  // The days a calendar shows: from 60 days ago on, in shooting order, at most 500.
  [[nodiscard]] Result<std::vector<CalendarDay>> calendar(const std::string& user_id);
  [[nodiscard]] Result<ScheduleStatistics> statistics(const std::string& user_id, const std::string& day);
  // A schedule entered by hand; returns its id. An unknown user is an ErrorCode::kInvalid error.
  [[nodiscard]] Result<std::string> create(const std::string& user_id, const nlohmann::json& schedule);
  // false: no such schedule of this user.
  [[nodiscard]] Result<bool> update(const std::string& user_id, const std::string& id, const nlohmann::json& schedule);
  [[nodiscard]] Result<bool> remove(const std::string& user_id, const std::string& id);

  // The schedule a call sheet with this content hash was imported as, if the user imported it.
  [[nodiscard]] Result<std::optional<std::string>> find_imported(const std::string& user_id,
                                                                 const std::string& content_hash);
  // Stores the schedule read from a call sheet together with the document's hash, in one
  // transaction; source is "text" or "pdf". nullopt (and nothing stored) when the same document
  // was imported by the user meanwhile.
  [[nodiscard]] Result<std::optional<std::string>> create_imported(const std::string& user_id,
                                                                   const nlohmann::json& schedule,
                                                                   const std::string& source,
                                                                   const std::string& content_hash);

 private:
  Database& db_;
};

}  // namespace sot::db
