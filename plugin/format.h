// Text helpers shared by the commands' output: ages as kubectl prints them,
// RFC 3339 times, and aligned tables. Pure; `now` is passed in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sot::plugin {

// Seconds since the epoch of an RFC 3339 time; nullopt when malformed or empty.
std::optional<std::int64_t> epoch_of(const std::string& rfc3339);
// "45s", "12m", "3h", "5d" (kubectl's short form); "-" for an unknown time.
std::string age(const std::string& rfc3339, std::int64_t now);
std::string age_seconds(std::int64_t seconds);
// RFC 3339 UTC, seconds precision.
std::string utc(std::int64_t epoch);
// "20240515T020012Z": the form of ids and file names.
std::string compact_utc(std::int64_t epoch);

// Columns padded to the widest cell (two spaces apart); the last column is not padded.
std::string table(const std::vector<std::vector<std::string>>& rows, const std::string& indent = "");

// One line, at most `max` characters ("..." marks a cut); control characters become '?'.
std::string one_line(const std::string& text, std::size_t max = 200);

}  // namespace sot::plugin
