// What `report` removes before anything is written to the archive. A bug
// report travels (tickets, chat, e-mail), so no credential may be in it:
//   - Secrets keep their keys; every value becomes "<redacted: N bytes>"
//     (data and stringData);
//   - env entries keep their names; a value is replaced when the name looks
//     like a credential (runtime::looks_like_credential) and a password inside
//     a URL ("postgresql://user:PASSWORD@host") is replaced in any value;
//     entries from secretKeyRef are references already and stay as they are;
//   - kubectl's last-applied-configuration annotation (it repeats the object,
//     a Secret's values included) and managedFields are dropped everywhere;
//   - log lines: JSON lines get credential-like keys redacted at any depth,
//     any line gets URL passwords and "password=..."-style pairs replaced.
// Pure functions.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sot::plugin {

inline constexpr const char* kRedacted = "<redacted>";

nlohmann::json redact_object(nlohmann::json object);
std::string redact_log_line(std::string_view line);
// "scheme://user:PASSWORD@host" -> "scheme://user:<redacted>@host", anywhere in `text`.
std::string redact_url_passwords(std::string text);

}  // namespace sot::plugin
