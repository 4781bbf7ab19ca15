// Why: the SQL of accounts (users) and their configuration (user_configs: addresses, the five
// buffers, notification channels), so the auth, user and calendar handlers never build SQL. Every
// function takes the acting user's id and touches that user's row only.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "domain/route_plan.h"
#include "storage/database.h"

namespace sot::db {

struct LoginAccount {
  std::string id;
  std::string email;
  std::string name;
  std::string role;
  bool created = false;  // first login
};

struct UserConfig {
  std::optional<std::string> home_address;
  std::optional<std::string> office_address;
  domain::Buffers buffers;
  bool notify_email = true;
  bool notify_sms = false;
  bool notify_push = false;
  std::optional<std::string> sms_number;
  std::string updated_at;  // RFC 3339, UTC; set by the database
};

class UserRepository {
 public:
  explicit UserRepository(Database& db) : db_(db) {}

  // The account signing in through the identity provider: created on first sight (matched by
  // e-mail, the provider's subject attached), its login time recorded, its configuration row made.
  [[nodiscard]] Result<LoginAccount> record_login(const std::string& email, const std::string& name,
                                                  const std::string& provider_subject);
  // The profile in the API's shape (id, email, name, role, createdAt, lastLoginAt,
  // calendarFeedEnabled), or nullopt when the user does not exist.
  [[nodiscard]] Result<std::optional<nlohmann::json>> find(const std::string& user_id);
  // false: no such user.
  [[nodiscard]] Result<bool> rename(const std::string& user_id, const std::string& name);
  // Deletes the account and, by cascade, everything of it. false: no such user.
  [[nodiscard]] Result<bool> remove(const std::string& user_id);

  // The calendar feed's secret is stored as its SHA-256 only. false: no such user.
  [[nodiscard]] Result<bool> set_calendar_token(const std::string& user_id, const std::string& token_hash);
  [[nodiscard]] Result<bool> clear_calendar_token(const std::string& user_id);
  // The user whose feed secret hashes to token_hash.
  [[nodiscard]] Result<std::optional<std::string>> find_by_calendar_token(const std::string& token_hash);

  // The user's configuration, made with the defaults on first read; nullopt when the user does not exist.
  [[nodiscard]] Result<std::optional<UserConfig>> config(const std::string& user_id);
  // Stores every field of config but updated_at. false: the user has no configuration row.
  [[nodiscard]] Result<bool> save_config(const std::string& user_id, const UserConfig& config);
  // Forgets the configuration; the next read makes it anew with the defaults.
  [[nodiscard]] Status reset_config(const std::string& user_id);

 private:
  Database& db_;
};

}  // namespace sot::db
