// Stage "claims" (see claims.h).
#include "controller/stages/claims.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "controller/apply_memory.h"
#include "controller/common.h"
#include "controller/stages/status.h"
#include "stillontime/kinds.h"
#include "stillontime/validate.h"

namespace sot::stillontime::stages {
namespace {

using Json = nlohmann::json;
using runtime::ReconcileResult;

// Only resources claiming the same namespace matter: the cache's index finds
// them without unpacking every resource on every pass. A claim the target has
// not consented to does not count, or anyone could squat a namespace by naming
// it first.
std::vector<NamespaceClaim> other_claims(const ClaimsInput& in, runtime::Context& ctx) {
  std::vector<NamespaceClaim> claims;
  const std::string target = in.resource.target_namespace();
  for (const auto& other : in.resources.by_index(claim_of(in.resource).target_namespace)) {
    const Json& om = (*other)["metadata"];
    if (om.value("namespace", "") == in.key.ns && om.value("name", "") == in.key.name) continue;
    if (om.contains("deletionTimestamp")) continue;
    const std::string other_ns = om.value("namespace", "");
    auto other_allowed = target_permission(other_ns, target, in.tenancy, ctx);
    if (!other_allowed.ok() || !other_allowed->permitted()) continue;
    claims.push_back({other_ns, om.value("name", ""), om.value("creationTimestamp", ""), claimed_namespace(*other)});
  }
  return claims;
}

}  // namespace

kube::Result<TargetPermission> target_permission(const std::string& source, const std::string& target,
                                                 const TenancyPolicy& tenancy, runtime::Context& ctx) {
  runtime::ObjectPtr ns;
  if (!target.empty() && target != source && tenancy.cross_namespace) {
    const auto* namespaces = ctx.cache(kube::resources::namespaces());
    if (namespaces == nullptr) {
      return kube::make_error(kube::Code::kInternal,
                              "no Namespace informer: controller_spec() was given another tenancy policy");
    }
    ns = namespaces->get({"", target});
  }
  return check_target(source, target, ns.get(), tenancy);
}

ClaimsOutput check_claims(const ClaimsInput& in, runtime::Context& ctx) {
  ClaimsOutput out;
  const StillOnTime& resource = in.resource;
  auto allowed = target_permission(in.key.ns, resource.target_namespace(), in.tenancy, ctx);
  if (!allowed.ok()) {
    out.stop = ReconcileResult::failed(allowed.error());
    return out;
  }
  if (!allowed->permitted()) {
    out.stop = stall(
        {in.cr, allowed->reason(), allowed->message,
         allowed->decision == TargetDecision::kNamespaceMissing ? std::optional<runtime::Duration>(kRecheckMissing)
                                                                : std::nullopt},
        ctx);
    return out;
  }
  if (auto claimed = check_namespace_claim(resource, other_claims(in, ctx))) {
    out.stop = stall({in.cr, "TargetNamespaceClaimed", claimed->to_string(), std::nullopt}, ctx);
    return out;
  }

  // Children across namespaces, and data that must go with the resource, need
  // a finalizer: owner references cannot reach them.
  const bool needs_finalizer =
      resource.cross_namespace() ||
      (resource.spec.deletion_policy && *resource.spec.deletion_policy == DeletionPolicy::kDelete);
  const auto finalizers = in.cr["metadata"].value("finalizers", Json::array());
  const bool has_finalizer = std::find(finalizers.begin(), finalizers.end(), kFinalizer) != finalizers.end();
  if (needs_finalizer && !has_finalizer && !resource.spec.paused) {
    Json updated = in.cr;
    updated["metadata"]["finalizers"].push_back(kFinalizer);
    auto r = ctx.client().update(stillontime_resource(), updated, kube::UpdateOptions{});
    if (!r.ok() && too_large(r.error())) {
      // The same update fails the same way until the spec shrinks (an edit
      // brings the resource back at once).
      report_resource_too_large(ctx, in.cr, r.error());
      out.stop = ReconcileResult::after(kRetryRefused);
    } else if (!r.ok()) {
      out.stop = ReconcileResult::failed(r.error());
    } else {
      out.stop = ReconcileResult::done();  // the update's watch event brings us back with the new object
    }
  }
  return out;
}

}  // namespace sot::stillontime::stages
