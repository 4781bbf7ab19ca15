// Stage "apply and prune": bring the children to the desired set.
//
//   apply  every desired child whose cached copy is not up to date (our own
//          hash plus a field check, stillontime/drift.h; never the server's
//          no-op detection) is sent by server-side apply, a few at a time,
//          RoleBindings after everything else; create-only children
//          (generated Secrets, the plan's one-off Jobs) are created when
//          missing and never applied over.
//   prune  children of the managed kinds (desired_state.h) that carry this
//          resource's owner label and are no longer desired are deleted.
//
// Not called while spec.paused is true. What it did (writes, the first error,
// a child refused for its size, when to look again) goes to the status stage.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/apply_memory.h"
#include "runtime/controller.h"
#include "stillontime/api_versions.h"
#include "stillontime/desired_state.h"

namespace sot::stillontime::stages {

struct ApplyInput {
  const kube::ObjectKey& key;  // the resource
  const nlohmann::json& cr;    // as cached; its resourceVersion decides whether one-off Jobs may be created
  const std::string& target_namespace;
  const std::vector<DesiredObject>& desired;
  const ApiVersions& api;
  ApplyMemory& memory;  // our recent applies and refusals (apply_memory.h)
};

struct ApplyOutput {
  int writes = 0;                                 // applies, creates and deletes that succeeded
  std::optional<kube::Error> first_error;         // the first failed write (or failed read of the resource)
  std::optional<std::string> too_large_message;   // a child the server cannot store: what to shorten
  std::optional<runtime::Duration> echo_recheck;  // look again after this long (our apply's echo, a stale cache)
};

ApplyOutput apply_and_prune(const ApplyInput& in, runtime::Context& ctx);

}  // namespace sot::stillontime::stages
