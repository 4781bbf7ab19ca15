// ServiceMonitor for the backend's metrics port (15 s, the guide's interval for
// application metrics). Built only when monitoring is enabled and the
// monitoring.coreos.com API is served; otherwise the pod's prometheus.io
// annotations are what an annotation-based Prometheus scrapes.
#include "stillontime/builders/builders.h"

namespace sot::stillontime {

std::optional<json> build_service_monitor(const StillOnTime& r, const BuildContext& ctx) {
  if (!ctx.api.monitoring || !r.spec.monitoring.enabled.value_or(false)) return std::nullopt;
  return json{{"apiVersion", "monitoring.coreos.com/v1"},
              {"kind", "ServiceMonitor"},
              {"metadata", object_meta(r, child_name(r, kBackend), kMonitoring)},
              {"spec",
               {{"selector", {{"matchLabels", selector_labels(r, kBackend)}}},
                {"namespaceSelector", {{"matchNames", json::array({r.target_namespace()})}}},
                {"endpoints", json::array({{{"port", "metrics"}, {"path", "/metrics"}, {"interval", "15s"}, {"scheme", "http"}}})}}}};
}

}  // namespace sot::stillontime
