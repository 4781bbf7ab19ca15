// JSON <-> YAML for Kubernetes objects. Objects are JSON (nlohmann) everywhere
// in the client; people and files speak YAML. Reading follows the YAML 1.2 core
// schema (quoted scalars stay strings; numbers JSON cannot hold stay strings)
// and refuses streams that would expand without bound. Writing quotes every
// string that would read back as another type. yaml-cpp's exceptions are caught
// here and become error values.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/result.h"

namespace sot::kube {

// Every YAML document of `text` as JSON; empty documents are skipped.
Result<std::vector<nlohmann::json>> yaml_documents_to_json(const std::string& text);
// One JSON value as a YAML document (no leading "---", no trailing newline).
std::string json_to_yaml(const nlohmann::json& value);

}  // namespace sot::kube
