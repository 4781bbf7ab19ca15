// PrometheusRule with the guide's alerts (critical: down > 1 min, errors > 10 %,
// resources > 90 %; warning: p95 latency > 1 s, errors > 5 %, resources > 80 %),
// on the metrics stillontime-server exports (http_requests_total,
// http_request_duration_seconds) and the kubelet's container metrics.
// Every expression is scoped to this instance's namespace and pods.
// prometheus_rule_groups() is the single definition: the PrometheusRule (for a
// cluster's Prometheus Operator) and the embedded Prometheus's rule file
// (embedded_monitoring.cpp) both carry exactly these groups.
#include "stillontime/builders/builders.h"

namespace sot::stillontime {

namespace {

json alert(const std::string& name, const std::string& expr, const char* duration, const char* severity,
           const std::string& summary) {
  return {{"alert", name},
          {"expr", expr},
          {"for", duration},
          {"labels", {{"severity", severity}}},
          {"annotations", {{"summary", summary}}}};
}

}  // namespace

json prometheus_rule_groups(const StillOnTime& r) {
  const std::string ns = r.target_namespace();
  const std::string backend = child_name(r, kBackend);
  const std::string sel = "namespace=\"" + ns + "\",service=\"" + backend + "\"";
  const std::string pods = "namespace=\"" + ns + "\",pod=~\"" + r.metadata.name + "-.*\",container!=\"\"";
  const std::string error_ratio = "sum(rate(http_requests_total{" + sel +
                                  ",status=~\"5..\"}[5m])) / sum(rate(http_requests_total{" + sel + "}[5m]))";
  const std::string p95 =
      "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{" + sel + "}[5m])))";
  const std::string memory = "max(container_memory_working_set_bytes{" + pods + "} / on (namespace, pod, container) " +
                             "kube_pod_container_resource_limits{" + pods + ",resource=\"memory\"})";
  const std::string cpu = "max(rate(container_cpu_usage_seconds_total{" + pods +
                          "}[5m]) / on (namespace, pod, container) " + "kube_pod_container_resource_limits{" + pods +
                          ",resource=\"cpu\"})";
  const std::string prefix = "StillOnTime";
  json rules = json::array({
      alert(prefix + "BackendDown", "absent(up{" + sel + "} == 1)", "1m", "critical",
            "The StillOnTime backend " + ns + "/" + backend + " is down"),
      alert(prefix + "HighErrorRate", error_ratio + " > 0.10", "5m", "critical",
            "More than 10% of requests fail with 5xx"),
      alert(prefix + "ElevatedErrorRate", error_ratio + " > 0.05", "5m", "warning",
            "More than 5% of requests fail with 5xx"),
      alert(prefix + "HighLatency", p95 + " > 1", "5m", "warning", "95th percentile latency is above 1s"),
      alert(prefix + "MemoryExhaustion", memory + " > 0.90", "5m", "critical",
            "A container uses more than 90% of its memory limit"),
      alert(prefix + "HighMemory", memory + " > 0.80", "10m", "warning",
            "A container uses more than 80% of its memory limit"),
      alert(prefix + "CPUExhaustion", cpu + " > 0.90", "5m", "critical",
            "A container uses more than 90% of its CPU limit"),
      alert(prefix + "HighCPU", cpu + " > 0.80", "10m", "warning", "A container uses more than 80% of its CPU limit"),
  });
  return json::array({{{"name", "stillontime." + ns + "." + r.metadata.name}, {"rules", std::move(rules)}}});
}

std::optional<json> build_prometheus_rule(const StillOnTime& r, const BuildContext& ctx) {
  if (!ctx.api.monitoring || !r.spec.monitoring.enabled.value_or(false)) return std::nullopt;
  return json{{"apiVersion", "monitoring.coreos.com/v1"},
              {"kind", "PrometheusRule"},
              {"metadata", object_meta(r, r.metadata.name, kMonitoring)},
              {"spec", {{"groups", prometheus_rule_groups(r)}}}};
}

}  // namespace sot::stillontime
