// Stage "finalize": a resource being deleted that still carries our
// finalizer. Owner references remove the children in the resource's own
// namespace; this stage removes what they cannot reach (children in another
// target namespace) and what deletionPolicy says goes with the resource:
//   Retain (default)  every child but the PersistentVolumeClaims (data stays);
//   Delete            every child, PVCs included.
// Without the target's consent (withdrawn, or the operator's policy changed)
// nothing there is touched: a Warning Event says how to remove it by hand.
// Then the finalizer is removed.
#pragma once

#include <nlohmann/json.hpp>

#include "runtime/controller.h"
#include "stillontime/api_versions.h"
#include "stillontime/tenancy.h"

namespace sot::stillontime::stages {

// True when the resource has a deletionTimestamp (this stage's turn).
bool being_deleted(const nlohmann::json& cr);

struct FinalizeInput {
  const kube::ObjectKey& key;
  const nlohmann::json& cr;
  const ApiVersions& api;
  const TenancyPolicy& tenancy;
};

struct FinalizeOutput {
  int deleted = 0;                  // children deleted by this pass
  bool finalizer_removed = false;   // the resource may now go
  runtime::ReconcileResult result;  // again() while a delete failed
};

FinalizeOutput finalize(const FinalizeInput& in, runtime::Context& ctx);

}  // namespace sot::stillontime::stages
