// Reading a StillOnTime as the plugin needs it: the defaulted spec (the
// operator's own parse + apply_defaults + validate, so the plugin and the
// operator agree on what the profile fills in), conditions, and image tags.
// Pure.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "kube/result.h"
#include "stillontime/spec.h"

namespace sot::plugin {

// The resource parsed, defaulted and validated; the errors joined as the
// operator reports them (Stalled, InvalidSpec) otherwise.
kube::Result<stillontime::StillOnTime> defaulted_resource(const nlohmann::json& cr);

// The condition of `type` ({} when absent).
const nlohmann::json& condition(const nlohmann::json& cr, const std::string& type);
// "True", "False", "Unknown" or "" for a condition's status.
std::string condition_status(const nlohmann::json& cr, const std::string& type);

// The tag of an image reference ("repo:1.4.2" -> "1.4.2", "repo@sha256:abc..." -> "sha256:abc...", "repo" -> "latest").
std::string image_tag(const std::string& image);

}  // namespace sot::plugin
