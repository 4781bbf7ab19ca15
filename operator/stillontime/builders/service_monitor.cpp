// ServiceMonitors for a cluster's Prometheus Operator: the backend's metrics
// port every 15 s (the guide's interval for application metrics) and the
// Postgres and Redis exporters every 30 s (its interval for infrastructure).
// Built only when monitoring is enabled and the monitoring.coreos.com API is
// served; otherwise the pods' prometheus.io annotations are what an
// annotation-based Prometheus scrapes.
#include "stillontime/builders/builders.h"

namespace sot::stillontime {

namespace {

json service_monitor(const StillOnTime& r, const std::string& name, json selector, const char* interval) {
  return json{
      {"apiVersion", "monitoring.coreos.com/v1"},
      {"kind", "ServiceMonitor"},
      {"metadata", object_meta(r, name, kMonitoring)},
      {"spec",
       {{"selector", std::move(selector)},
        {"namespaceSelector", {{"matchNames", json::array({r.target_namespace()})}}},
        {"endpoints",
         json::array({{{"port", "metrics"}, {"path", "/metrics"}, {"interval", interval}, {"scheme", "http"}}})}}}};
}

}  // namespace

std::optional<json> build_service_monitor(const StillOnTime& r, const BuildContext& ctx) {
  if (!ctx.api.monitoring || !r.spec.monitoring.enabled.value_or(false)) return std::nullopt;
  return service_monitor(r, child_name(r, kBackend), {{"matchLabels", selector_labels(r, kBackend)}}, "15s");
}

std::optional<json> build_exporter_service_monitor(const StillOnTime& r, const BuildContext& ctx) {
  if (!ctx.api.monitoring || !r.spec.monitoring.enabled.value_or(false)) return std::nullopt;
  // Only the ClusterIP Services carry a `metrics` port; the headless ones,
  // which match the same labels, are skipped for want of it.
  json components = json::array();
  if (!r.spec.postgres.external) components.push_back(kPostgres);
  components.push_back(kRedis);
  json selector = {
      {"matchLabels", instance_selector(r)},
      {"matchExpressions", json::array({{{"key", kLabelComponent}, {"operator", "In"}, {"values", components}}})}};
  return service_monitor(r, child_name(r, "exporters"), std::move(selector), "30s");
}

}  // namespace sot::stillontime
