// The reconcile pass as a sequence of stages (see reconciler.h).
#include "controller/reconciler.h"

#include "controller/backup_status.h"
#include "controller/stages/apply.h"
#include "controller/stages/claims.h"
#include "controller/stages/finalize.h"
#include "controller/stages/plan.h"
#include "controller/stages/spec.h"
#include "controller/stages/status.h"
#include "stillontime/builders/common.h"
#include "stillontime/desired_state.h"

namespace sot::stillontime {

using Json = nlohmann::json;
using runtime::ReconcileResult;

StillOnTimeReconciler::StillOnTimeReconciler(ApiVersions api, RandomSource random, prometheus::Registry* registry,
                                             TenancyPolicy tenancy)
    : api_(std::move(api)),
      random_(std::move(random)),
      tenancy_(std::move(tenancy)),
      backup_metrics_(registry != nullptr ? std::make_unique<BackupMetrics>(*registry) : nullptr) {}

StillOnTimeReconciler::~StillOnTimeReconciler() = default;

runtime::ControllerSpec controller_spec(const ApiVersions& api, const TenancyPolicy& tenancy) {
  runtime::ControllerSpec spec;
  spec.name = kControllerName;
  spec.primary = stillontime_resource();
  spec.owner_label = kLabelOwner;
  // A child set's echoes come over a few hundred milliseconds; edits by
  // others are put back a fifth of a second later than they would be.
  spec.owned_event_delay = std::chrono::milliseconds(1000);
  // Status is ours alone; its echo needs no pass (the resync and the recheck
  // after writes still come).
  spec.skip_status_only_updates = true;
  spec.primary_index = claimed_namespace;
  for (const auto& kind : child_kinds(api)) {
    runtime::OwnedResource owned;
    owned.resource = kind;
    owned.label_selector = std::string(kLabelManagedBy) + "=" + kManagedBy;
    owned.all_namespaces = true;  // children follow spec.targetNamespace
    spec.owns.push_back(std::move(owned));
  }
  if (tenancy.cross_namespace) {
    // Consent given or withdrawn (the target's annotation), or a target
    // namespace appearing: the resources targeting it look again at once.
    runtime::WatchedResource namespaces;
    namespaces.resource = kube::resources::namespaces();
    namespaces.map = [](const Json& ns, const runtime::CacheReader& primary) {
      std::vector<kube::ObjectKey> keys;
      const std::string name = ns.value("metadata", Json::object()).value("name", "");
      if (name.empty()) return keys;
      for (const auto& cr : primary.by_index(name)) {
        const auto key = runtime::key_of(*cr);
        if (key.ns != name) keys.push_back(key);
      }
      return keys;
    };
    spec.watches.push_back(std::move(namespaces));
  }
  return spec;
}

ReconcileResult StillOnTimeReconciler::reconcile(const kube::ObjectKey& key, runtime::Context& ctx) {
  const auto* resources = ctx.cache(stillontime_resource());
  const runtime::ObjectPtr cached = resources != nullptr ? resources->get(key) : nullptr;
  if (!cached) return ReconcileResult::done();  // gone: owner references and the finalizer did the cleanup
  const Json& cr = *cached;

  if (stages::being_deleted(cr)) return stages::finalize({key, cr, api_, tenancy_}, ctx).result;

  const stages::SpecOutput spec = stages::read_spec({cr}, ctx);
  if (!spec.resource) return spec.result;
  const StillOnTime& resource = *spec.resource;

  const stages::ClaimsOutput claims = stages::check_claims({key, cr, resource, tenancy_, *resources}, ctx);
  if (claims.stop) return *claims.stop;

  stages::CredentialsOutput credentials = stages::read_credentials({cr, resource, random_}, ctx);
  if (credentials.stop) return *credentials.stop;

  stages::PlanOutput plan = stages::plan({cr, resource, api_}, ctx);

  BuildContext build;
  build.api = api_;
  build.credentials = std::move(credentials.credentials);
  build.user_secret_fingerprint = std::move(credentials.user_secret_fingerprint);
  build.plan = std::move(plan.run);
  const std::vector<DesiredObject> desired = desired_state(resource, build);

  const std::string target = resource.target_namespace();
  const stages::ApplyOutput applied = resource.spec.paused
                                          ? stages::ApplyOutput{}
                                          : stages::apply_and_prune({key, cr, target, desired, api_, memory_}, ctx);

  return stages::report_status({cr, resource, desired, applied, plan.backup, backup_metrics_.get(), memory_}, ctx);
}

}  // namespace sot::stillontime
