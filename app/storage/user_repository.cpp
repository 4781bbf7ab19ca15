// Why: the SQL behind UserRepository.
#include "storage/user_repository.h"

namespace sot::db {
namespace {

nlohmann::json text_or_null(const Rows& rows, const char* column) {
  return rows.is_null(0, column) ? nlohmann::json(nullptr) : nlohmann::json(rows.get(0, column));
}

std::optional<std::string> optional_text(const Rows& rows, const char* column) {
  return rows.is_null(0, column) ? std::nullopt : std::optional<std::string>(rows.get(0, column));
}

const char* sql_bool(bool value) {
  return value ? "true" : "false";
}

}  // namespace

Result<LoginAccount> UserRepository::record_login(const std::string& email, const std::string& name,
                                                  const std::string& provider_subject) {
  auto rows = db_.exec(
      "INSERT INTO users (email, name, google_id, last_login_at) VALUES ($1, $2, $3, now()) "
      "ON CONFLICT (email) DO UPDATE SET google_id = EXCLUDED.google_id, name = EXCLUDED.name, "
      "last_login_at = now(), updated_at = now() "
      "RETURNING id::text, email, name, role, (xmax = 0) AS created",
      {email, name, provider_subject});
  if (!rows) return rows.error();
  LoginAccount account{rows->get(0, "id"), rows->get(0, "email"), rows->get(0, "name"), rows->get(0, "role"),
                       rows->get(0, "created") == "t"};
  auto config = db_.exec("INSERT INTO user_configs (user_id) VALUES ($1) ON CONFLICT DO NOTHING", {account.id});
  if (!config) return config.error();
  return account;
}

Result<std::optional<nlohmann::json>> UserRepository::find(const std::string& user_id) {
  auto rows = db_.exec(
      "SELECT id::text, email, name, role, "
      "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_at, "
      "to_char(last_login_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS last_login_at, "
      "calendar_token_hash IS NOT NULL AS has_feed "
      "FROM users WHERE id = $1",
      {user_id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<nlohmann::json>();
  return std::optional<nlohmann::json>(nlohmann::json{{"id", rows->get(0, "id")},
                                                      {"email", rows->get(0, "email")},
                                                      {"name", rows->get(0, "name")},
                                                      {"role", rows->get(0, "role")},
                                                      {"createdAt", rows->get(0, "created_at")},
                                                      {"lastLoginAt", text_or_null(*rows, "last_login_at")},
                                                      {"calendarFeedEnabled", rows->get(0, "has_feed") == "t"}});
}

Result<bool> UserRepository::rename(const std::string& user_id, const std::string& name) {
  auto rows = db_.exec("UPDATE users SET name = $2, updated_at = now() WHERE id = $1", {user_id, name});
  if (!rows) return rows.error();
  return rows->affected > 0;
}

Result<bool> UserRepository::remove(const std::string& user_id) {
  auto rows = db_.exec("DELETE FROM users WHERE id = $1", {user_id});
  if (!rows) return rows.error();
  return rows->affected > 0;
}

Result<bool> UserRepository::set_calendar_token(const std::string& user_id, const std::string& token_hash) {
  auto rows =
      db_.exec("UPDATE users SET calendar_token_hash = $2, updated_at = now() WHERE id = $1", {user_id, token_hash});
  if (!rows) return rows.error();
  return rows->affected > 0;
}

Result<bool> UserRepository::clear_calendar_token(const std::string& user_id) {
  auto rows = db_.exec("UPDATE users SET calendar_token_hash = NULL, updated_at = now() WHERE id = $1", {user_id});
  if (!rows) return rows.error();
  return rows->affected > 0;
}

Result<std::optional<std::string>> UserRepository::find_by_calendar_token(const std::string& token_hash) {
  auto rows = db_.exec("SELECT id::text AS id FROM users WHERE calendar_token_hash = $1", {token_hash});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows->get(0, "id"));
}

Result<std::optional<UserConfig>> UserRepository::config(const std::string& user_id) {
  auto made = db_.exec(
      "INSERT INTO user_configs (user_id) SELECT $1 WHERE EXISTS (SELECT 1 FROM users WHERE id = $1) "
      "ON CONFLICT DO NOTHING",
      {user_id});
  if (!made) return made.error();
  auto rows = db_.exec(
      "SELECT home_address, office_address, buffer_car_change, buffer_parking, buffer_entry, buffer_traffic, "
      "buffer_morning_routine, notify_email, notify_sms, notify_push, sms_number, "
      "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS updated_at "
      "FROM user_configs WHERE user_id = $1",
      {user_id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<UserConfig>();
  UserConfig c;
  c.home_address = optional_text(*rows, "home_address");
  c.office_address = optional_text(*rows, "office_address");
  c.buffers = {std::stoi(rows->get(0, "buffer_car_change")), std::stoi(rows->get(0, "buffer_parking")),
               std::stoi(rows->get(0, "buffer_entry")), std::stoi(rows->get(0, "buffer_traffic")),
               std::stoi(rows->get(0, "buffer_morning_routine"))};
  c.notify_email = rows->get(0, "notify_email") == "t";
  c.notify_sms = rows->get(0, "notify_sms") == "t";
  c.notify_push = rows->get(0, "notify_push") == "t";
  c.sms_number = optional_text(*rows, "sms_number");
  c.updated_at = rows->get(0, "updated_at");
  return std::optional<UserConfig>(std::move(c));
}

Result<bool> UserRepository::save_config(const std::string& user_id, const UserConfig& c) {
  auto rows = db_.exec(
      "UPDATE user_configs SET home_address = $2, office_address = $3, buffer_car_change = $4, buffer_parking = $5, "
      "buffer_entry = $6, buffer_traffic = $7, buffer_morning_routine = $8, notify_email = $9, notify_sms = $10, "
      "notify_push = $11, sms_number = $12, updated_at = now() WHERE user_id = $1",
      {user_id, c.home_address, c.office_address, std::to_string(c.buffers.car_change),
       std::to_string(c.buffers.parking), std::to_string(c.buffers.entry), std::to_string(c.buffers.traffic),
       std::to_string(c.buffers.morning_routine), sql_bool(c.notify_email), sql_bool(c.notify_sms),
       sql_bool(c.notify_push), c.sms_number});
  if (!rows) return rows.error();
  return rows->affected > 0;
}

Status UserRepository::reset_config(const std::string& user_id) {
  auto rows = db_.exec("DELETE FROM user_configs WHERE user_id = $1", {user_id});
  if (!rows) return rows.error();
  return ok_status();
}

}  // namespace sot::db
