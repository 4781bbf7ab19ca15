// Why: logs are JSON lines (one object per line) so a log pipeline can index them without regexes.
// Callers pass structured fields; nothing here ever formats a secret, and URLs with credentials
// must go through redact_url() before they reach a field.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sot::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void set_level(Level level);
bool parse_level(std::string_view text, Level& out);
bool enabled(Level level);
void write(Level level, std::string_view message, const nlohmann::json& fields = nlohmann::json::object());

inline void debug(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  write(Level::kDebug, m, f);
}
inline void info(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  write(Level::kInfo, m, f);
}
inline void warn(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  write(Level::kWarn, m, f);
}
inline void error(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  write(Level::kError, m, f);
}

// Replaces the password of a URL such as postgresql://user:secret@host/db with "***".
std::string redact_url(std::string_view url);

}  // namespace sot::log
