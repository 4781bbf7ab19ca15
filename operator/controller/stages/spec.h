// Stage "spec": the raw resource parsed into the typed model, defaulted from
// its environment profile and validated (all in the model library:
// stillontime/spec.h, defaults.h, validate.h). A refused spec stalls the
// resource (Stalled=True, reason InvalidSpec, naming each field) before any
// child is read or written.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "runtime/controller.h"
#include "stillontime/spec.h"

namespace sot::stillontime::stages {

struct SpecInput {
  const nlohmann::json& cr;
};

struct SpecOutput {
  std::optional<StillOnTime> resource;  // defaulted and valid; absent when refused
  runtime::ReconcileResult result;      // the stalled pass's result when refused
};

SpecOutput read_spec(const SpecInput& in, runtime::Context& ctx);

}  // namespace sot::stillontime::stages
