// Stage "finalize" (see finalize.h).
#include "controller/stages/finalize.h"

#include <algorithm>
#include <vector>

#include "controller/common.h"
#include "controller/stages/claims.h"
#include "stillontime/kinds.h"

namespace sot::stillontime::stages {

using Json = nlohmann::json;
using runtime::ReconcileResult;

bool being_deleted(const Json& cr) {
  return cr["metadata"].contains("deletionTimestamp");
}

FinalizeOutput finalize(const FinalizeInput& in, runtime::Context& ctx) {
  FinalizeOutput out;
  const Json& cr = in.cr;
  const auto finalizers = cr["metadata"].value("finalizers", Json::array());
  if (std::find(finalizers.begin(), finalizers.end(), kFinalizer) == finalizers.end()) return out;
  const std::string target = claimed_namespace(cr);
  const bool retain = spec_of(cr).value("deletionPolicy", "Retain") != "Delete";
  auto allowed = target_permission(in.key.ns, target, in.tenancy, ctx);
  if (!allowed.ok()) {
    out.result = ReconcileResult::failed(allowed.error());
    return out;
  }
  if (!allowed->permitted() && allowed->decision != TargetDecision::kNamespaceMissing) {
    // Without the target's consent (withdrawn, or the operator's policy
    // changed) nothing there is touched, not even to clean up: what was made
    // stays, data included, for the target's owners to keep or remove.
    const std::string message = "children in namespace " + target + " were left as they are (" + allowed->message +
                                "); remove them there with: kubectl delete -n " + target + " -l " +
                                owner_selector_text(in.key) + " all,pvc,secrets,configmaps,networkpolicies,roles," +
                                "rolebindings,serviceaccounts,poddisruptionbudgets,horizontalpodautoscalers,ingresses";
    ctx.log().warn("finalizing without touching the target namespace", {{"targetNamespace", target}});
    if (ctx.events() != nullptr) ctx.events()->warning(cr, "TargetNamespaceNotPermitted", message);
  }
  const auto selector = runtime::LabelSelector::parse(owner_selector_text(in.key));
  int pending = 0;
  for (const auto& kind : allowed->permitted() ? child_kinds(in.api) : std::vector<kube::ResourceRef>{}) {
    if (retain && kind.kind == "PersistentVolumeClaim") continue;
    const auto* cache = ctx.cache(kind);
    if (cache == nullptr || !selector.ok()) continue;
    for (const auto& child : cache->list(target, &*selector)) {
      if (owned_by_other_controller(*child)) continue;
      if ((*child)["metadata"].contains("deletionTimestamp")) continue;
      kube::DeleteOptions del;
      del.propagation = kube::Propagation::kBackground;
      auto r = ctx.client().remove(kind, runtime::key_of(*child), del);
      if (!r.ok() && r.code() != kube::Code::kNotFound) {
        ctx.log().warn("delete failed", {{"kind", kind.kind}, {"error", r.error().to_string()}});
        ++pending;
      } else {
        ++out.deleted;
      }
    }
  }
  if (pending > 0) {
    out.result = ReconcileResult::again();
    return out;
  }
  Json updated = cr;
  Json kept = Json::array();
  for (const auto& f : finalizers) {
    if (f != kFinalizer) kept.push_back(f);
  }
  updated["metadata"]["finalizers"] = kept;
  auto r = ctx.client().update(stillontime_resource(), updated, kube::UpdateOptions{});
  if (!r.ok() && r.code() != kube::Code::kNotFound) {
    out.result = ReconcileResult::failed(r.error());
    return out;
  }
  out.finalizer_removed = true;
  ctx.log().info("finalized", {{"targetNamespace", target}, {"retainedVolumes", retain}});
  return out;
}

}  // namespace sot::stillontime::stages
