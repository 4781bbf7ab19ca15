#include "plugin/format.h"

#include <algorithm>
#include <chrono>

#include "runtime/clock.h"
#include "stillontime/status.h"

namespace sot::plugin {

std::optional<std::int64_t> epoch_of(const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto t = runtime::parse_time(text);
  if (!t) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count();
}

std::string age_seconds(std::int64_t s) {
  if (s < 0) s = 0;
  if (s < 120) return std::to_string(s) + "s";
  if (s < 2 * 3600) return std::to_string(s / 60) + "m";
  if (s < 48 * 3600) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

std::string age(const std::string& rfc3339, std::int64_t now) {
  const auto t = epoch_of(rfc3339);
  return t ? age_seconds(now - *t) : "-";
}

std::string utc(std::int64_t epoch) {
  return stillontime::rfc3339(epoch);
}

std::string compact_utc(std::int64_t epoch) {
  std::string s = utc(epoch);  // 2024-05-15T02:00:12Z -> 20240515T020012Z
  std::erase_if(s, [](char c) { return c == '-' || c == ':'; });
  return s;
}

std::string table(const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line = indent;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string one_line(const std::string& text, std::size_t max) {
  std::string out;
  for (char c : text) {
    const bool space = c == '\n' || c == '\r' || c == '\t';
    if (space && !out.empty() && out.back() == ' ') continue;
    // Other control characters (a terminal escape in a hostile message) are shown, not obeyed.
    const bool control = (static_cast<unsigned char>(c) < 0x20 && !space) || c == 0x7f;
    out.push_back(space ? ' ' : (control ? '?' : c));
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() > max) out = out.substr(0, max - 3) + "...";
  return out;
}

}  // namespace sot::plugin
