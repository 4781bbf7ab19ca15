// Stage "claims": may this resource use its target namespace, and does it
// hold it? Decided before anything in that namespace is read or written:
//   1. tenancy (stillontime/tenancy.h): the operator's policy and the
//      target's consent annotation, from the Namespace informer's cache;
//   2. the namespace claim: an older resource that also targets the
//      namespace (and has its consent) keeps it; this one stalls with
//      TargetNamespaceClaimed;
//   3. the finalizer: a resource whose children owner references cannot
//      reach (another namespace, or deletionPolicy Delete) gets the finalizer
//      first, and the pass ends there (its watch event starts the next one).
// A refused target stalls the resource and writes nothing else.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/controller.h"
#include "stillontime/spec.h"
#include "stillontime/tenancy.h"

namespace sot::stillontime::stages {

// May a resource in `source` use `target` (tenancy.h)? The target's
// Namespace object comes from the informer cache: no request is sent.
kube::Result<TargetPermission> target_permission(const std::string& source, const std::string& target,
                                                 const TenancyPolicy& tenancy, runtime::Context& ctx);

struct ClaimsInput {
  const kube::ObjectKey& key;
  const nlohmann::json& cr;
  const StillOnTime& resource;  // defaulted and valid
  const TenancyPolicy& tenancy;
  const runtime::CacheReader& resources;  // every StillOnTime, indexed by claimed namespace
};

struct ClaimsOutput {
  // Set when the pass ends here: stalled (not permitted, claimed), an error,
  // or the finalizer just added.
  std::optional<runtime::ReconcileResult> stop;
};

ClaimsOutput check_claims(const ClaimsInput& in, runtime::Context& ctx);

}  // namespace sot::stillontime::stages
