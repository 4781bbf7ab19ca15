// HorizontalPodAutoscalers for backend and frontend. autoscaling/v2 and
// v2beta2 share this shape (metrics with target.averageUtilization), so only
// apiVersion follows the served version.
#include <cstring>

#include "stillontime/builders/builders.h"

namespace sot::stillontime {

std::optional<json> build_hpa(const StillOnTime& r, const BuildContext& ctx, const char* component) {
  const WorkloadSpec& w = std::strcmp(component, kBackend) == 0 ? static_cast<const WorkloadSpec&>(r.spec.backend)
                                                                : static_cast<const WorkloadSpec&>(r.spec.frontend);
  const auto& a = w.autoscaling;
  if (!a.enabled.value_or(false)) return std::nullopt;
  // The backend held at zero for a restore or bootstrap (the plan) has no HPA.
  if (ctx.plan.hold_backend && std::strcmp(component, kBackend) == 0) return std::nullopt;
  auto metric = [](const char* resource, int percent) {
    return json{
        {"type", "Resource"},
        {"resource", {{"name", resource}, {"target", {{"type", "Utilization"}, {"averageUtilization", percent}}}}}};
  };
  json metrics = json::array();
  if (a.target_cpu_utilization_percentage) metrics.push_back(metric("cpu", *a.target_cpu_utilization_percentage));
  if (a.target_memory_utilization_percentage)
    metrics.push_back(metric("memory", *a.target_memory_utilization_percentage));
  return json{
      {"apiVersion", ctx.api.hpa},
      {"kind", "HorizontalPodAutoscaler"},
      {"metadata", object_meta(r, child_name(r, component), component)},
      {"spec",
       {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", child_name(r, component)}}},
        {"minReplicas", *a.min_replicas},
        {"maxReplicas", *a.max_replicas},
        {"metrics", std::move(metrics)}}}};
}

}  // namespace sot::stillontime
