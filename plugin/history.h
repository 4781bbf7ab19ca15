// Rollback's choice of version, from status.versionHistory (newest first, as
// the operator writes it: version, firstApplied, becameReady, left). Pure.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "kube/result.h"

namespace sot::plugin {

// The version to go back to: `to` when it became Ready at some point, else the
// newest entry other than `current` that became Ready. Errors say why none fits
// and what to do instead.
kube::Result<std::string> choose_rollback(const nlohmann::json& history, const std::string& current,
                                          const std::string& to);

}  // namespace sot::plugin
