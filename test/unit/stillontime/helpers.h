// Test helpers: a defaulted StillOnTime from a few lines of JSON, and lookups
// into built objects.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stillontime/context.h"
#include "stillontime/desired_state.h"
#include "stillontime/spec.h"

namespace sot::stillontime {
using nlohmann::json;
}  // namespace sot::stillontime

namespace sot::stillontime::test {

// A CR named `name` in `ns` with the given spec fields (environment and version
// filled when missing), parsed and defaulted; CHECKs that parsing succeeded.
StillOnTime make_resource(const json& spec_fields = json::object(), const std::string& name = "sot",
                          const std::string& ns = "apps", const std::string& uid = "uid-1");

// The object of `kind` named `name` in the desired set; nullptr if absent.
const json* find(const std::vector<DesiredObject>& objects, const std::string& kind, const std::string& name);

// Every container (init containers included) of a pod template spec.
std::vector<json> all_containers(const json& pod_spec);

// Reads a whole file; CHECKs that it exists.
std::string read_file(const std::string& path);

// Files of a directory with the extension, sorted.
std::vector<std::string> list_files(const std::string& dir, const std::string& ext);

// Checks the five contract labels on an object's metadata.
void check_contract_labels(const json& object, const std::string& component, const std::string& name = "sot",
                           const std::string& ns = "apps");

// Checks the restricted pod security profile on a pod template spec.
void check_restricted(const json& pod_spec);

// A Namespace object, with the tenancy consent annotation when given.
json namespace_object(const std::string& name, const std::optional<std::string>& accept_from = std::nullopt);

}  // namespace sot::stillontime::test
