// PodDisruptionBudgets for backend and frontend, only when the workload can run
// more than one replica (replicas, or the HPA's maximum). maxUnavailable: 1
// never blocks a node drain, even while an HPA has scaled down to one pod.
#include <cstring>

#include "stillontime/builders/builders.h"

namespace sot::stillontime {

std::optional<json> build_pdb(const StillOnTime& r, const BuildContext& ctx, const char* component) {
  const WorkloadSpec& w = std::strcmp(component, kBackend) == 0 ? static_cast<const WorkloadSpec&>(r.spec.backend)
                                                                : static_cast<const WorkloadSpec&>(r.spec.frontend);
  const int most =
      w.autoscaling.enabled.value_or(false) ? w.autoscaling.max_replicas.value_or(1) : w.replicas.value_or(1);
  if (most <= 1) return std::nullopt;
  return json{{"apiVersion", ctx.api.pdb},
              {"kind", "PodDisruptionBudget"},
              {"metadata", object_meta(r, child_name(r, component), component)},
              {"spec", {{"maxUnavailable", 1}, {"selector", {{"matchLabels", selector_labels(r, component)}}}}}};
}

}  // namespace sot::stillontime
