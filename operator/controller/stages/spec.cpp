// Stage "spec" (see spec.h).
#include "controller/stages/spec.h"

#include "controller/stages/status.h"
#include "stillontime/defaults.h"
#include "stillontime/validate.h"

namespace sot::stillontime::stages {

SpecOutput read_spec(const SpecInput& in, runtime::Context& ctx) {
  SpecOutput out;
  ParseResult parsed = parse(in.cr);
  if (!parsed.ok()) {
    out.result = stall({in.cr, "InvalidSpec", join_errors(parsed.errors), std::nullopt}, ctx);
    return out;
  }
  StillOnTime resource = apply_defaults(std::move(parsed.resource));
  if (auto errors = validate(resource); !errors.empty()) {
    out.result = stall({in.cr, "InvalidSpec", join_errors(errors), std::nullopt}, ctx);
    return out;
  }
  out.resource = std::move(resource);
  return out;
}

}  // namespace sot::stillontime::stages
