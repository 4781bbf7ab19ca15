// NetworkPolicies (DESIGN.md "Children"): a default deny for every pod of the
// instance, then one allow list per component. Policies select this instance's
// pods only (name + instance labels), never the whole namespace, so other
// workloads sharing the namespace are untouched. Peers outside the instance:
//  - the ingress controller: pods labelled app.kubernetes.io/name=ingress-nginx
//    in any namespace (the label ingress-nginx's manifests and chart set);
//  - Prometheus: pods labelled app.kubernetes.io/name=prometheus in any namespace
//    (what prometheus-operator sets);
//  - DNS: UDP and TCP 53 anywhere;
//  - the backend's calls to Google, OpenWeather and SMTP: TCP 443 and 587 anywhere.
// With spec.monitoring.embedded, our own Prometheus (component prometheus of
// this instance) is admitted to the backend's and exporters' metrics ports,
// and the stack gets its own policies: Prometheus to its scrape targets,
// Alertmanager, the operator's metrics (pods labelled
// app.kubernetes.io/name=stillontime-operator, any namespace) and the API
// server (TCP 443 and 6443 anywhere: the API server is not a pod, and its
// address differs per cluster); Grafana from the ingress controller and
// Prometheus on 3000, to Prometheus and Alertmanager; Alertmanager from
// Prometheus and Grafana, with no egress (it has no receiver to call).
#include "stillontime/builders/builders.h"

namespace sot::stillontime {

namespace {

json port(int number, const char* protocol = "TCP") {
  return {{"port", number}, {"protocol", protocol}};
}

json component_peer(const StillOnTime& r, const char* component) {
  return {{"podSelector", {{"matchLabels", selector_labels(r, component)}}}};
}

json any_namespace_peer(const char* app_name) {
  return {{"namespaceSelector", json::object()}, {"podSelector", {{"matchLabels", {{kLabelName, app_name}}}}}};
}

// Who may scrape a metrics port: a cluster's Prometheus, and ours when embedded.
json prometheus_peers(const StillOnTime& r) {
  json peers = json::array({any_namespace_peer("prometheus")});
  if (embedded_monitoring(r)) peers.push_back(component_peer(r, kPrometheus));
  return peers;
}

json policy(const StillOnTime& r, const std::string& name, json pod_selector, json types, json ingress, json egress) {
  json spec = {{"podSelector", {{"matchLabels", std::move(pod_selector)}}}, {"policyTypes", std::move(types)}};
  if (!ingress.empty()) spec["ingress"] = std::move(ingress);
  if (!egress.empty()) spec["egress"] = std::move(egress);
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "NetworkPolicy"},
          {"metadata", object_meta(r, name, kNetwork)},
          {"spec", std::move(spec)}};
}

}  // namespace

std::vector<json> build_network_policies(const StillOnTime& r) {
  if (!r.spec.network_policy.enabled.value_or(true)) return {};
  const bool ingress_enabled = r.spec.ingress.enabled.value_or(false);
  const bool own_postgres = !r.spec.postgres.external;
  std::vector<json> out;

  out.push_back(policy(r, child_name(r, "default-deny"), instance_selector(r), json::array({"Ingress", "Egress"}),
                       json::array(), json::array()));

  out.push_back(policy(r, child_name(r, "allow-dns"), instance_selector(r), json::array({"Egress"}), json::array(),
                       json::array({{{"ports", json::array({port(53, "UDP"), port(53, "TCP")})}}})));

  // Backend: from the frontend (nginx proxies /api) and the ingress controller
  // on 3000, from Prometheus on 9090; to Postgres, Redis and the internet (443, 587).
  {
    json from_http = json::array({component_peer(r, kFrontend)});
    if (ingress_enabled) from_http.push_back(any_namespace_peer("ingress-nginx"));
    json ingress = json::array({{{"from", from_http}, {"ports", json::array({port(kBackendPort)})}},
                                {{"from", prometheus_peers(r)}, {"ports", json::array({port(kMetricsPort)})}}});
    json egress = json::array();
    if (own_postgres) {
      egress.push_back(
          {{"to", json::array({component_peer(r, kPostgres)})}, {"ports", json::array({port(kPostgresPort)})}});
    } else {
      egress.push_back({{"ports", json::array({port(kPostgresPort)})}});  // an external database: anywhere
    }
    egress.push_back({{"to", json::array({component_peer(r, kRedis)})}, {"ports", json::array({port(kRedisPort)})}});
    egress.push_back({{"ports", json::array({port(443), port(587)})}});
    out.push_back(policy(r, child_name(r, kBackend), selector_labels(r, kBackend), json::array({"Ingress", "Egress"}),
                         std::move(ingress), std::move(egress)));
  }

  // Frontend: from the ingress controller on 8080; to the backend on 3000.
  {
    json ingress = json::array();
    if (ingress_enabled) {
      ingress.push_back({{"from", json::array({any_namespace_peer("ingress-nginx")})},
                         {"ports", json::array({port(kFrontendPort)})}});
    }
    json egress = json::array(
        {{{"to", json::array({component_peer(r, kBackend)})}, {"ports", json::array({port(kBackendPort)})}}});
    out.push_back(policy(r, child_name(r, kFrontend), selector_labels(r, kFrontend), json::array({"Ingress", "Egress"}),
                         std::move(ingress), std::move(egress)));
  }

  // Postgres and Redis: from the backend and the backup job; their exporters
  // (when monitoring is on) from Prometheus.
  if (own_postgres) {
    json ingress = json::array({{{"from", json::array({component_peer(r, kBackend), component_peer(r, kBackup)})},
                                 {"ports", json::array({port(kPostgresPort)})}}});
    if (monitoring_on(r))
      ingress.push_back({{"from", prometheus_peers(r)}, {"ports", json::array({port(kPostgresExporterPort)})}});
    out.push_back(policy(r, child_name(r, kPostgres), selector_labels(r, kPostgres), json::array({"Ingress"}),
                         std::move(ingress), json::array()));
  }
  {
    json ingress = json::array({{{"from", json::array({component_peer(r, kBackend), component_peer(r, kBackup)})},
                                 {"ports", json::array({port(kRedisPort)})}}});
    if (monitoring_on(r))
      ingress.push_back({{"from", prometheus_peers(r)}, {"ports", json::array({port(kRedisExporterPort)})}});
    out.push_back(policy(r, child_name(r, kRedis), selector_labels(r, kRedis), json::array({"Ingress"}),
                         std::move(ingress), json::array()));
  }

  // Backup: to Postgres (or the external database) and Redis.
  {
    json egress = json::array();
    if (own_postgres) {
      egress.push_back(
          {{"to", json::array({component_peer(r, kPostgres)})}, {"ports", json::array({port(kPostgresPort)})}});
    } else {
      egress.push_back({{"ports", json::array({port(kPostgresPort)})}});
    }
    egress.push_back({{"to", json::array({component_peer(r, kRedis)})}, {"ports", json::array({port(kRedisPort)})}});
    out.push_back(policy(r, child_name(r, kBackup), selector_labels(r, kBackup), json::array({"Egress"}), json::array(),
                         std::move(egress)));
  }

  if (embedded_monitoring(r)) {
    // Prometheus: from Grafana; to every scrape target, Alertmanager and the API server.
    {
      json ingress = json::array(
          {{{"from", json::array({component_peer(r, kGrafana)})}, {"ports", json::array({port(kPrometheusPort)})}}});
      json egress = json::array();
      auto to = [&](const char* component, int number) {
        egress.push_back({{"to", json::array({component_peer(r, component)})}, {"ports", json::array({port(number)})}});
      };
      to(kBackend, kMetricsPort);
      if (own_postgres) to(kPostgres, kPostgresExporterPort);
      to(kRedis, kRedisExporterPort);
      to(kAlertmanager, kAlertmanagerPort);
      to(kGrafana, kGrafanaPort);
      egress.push_back({{"to", json::array({any_namespace_peer("stillontime-operator")})},
                        {"ports", json::array({port(kOperatorMetricsPort)})}});
      egress.push_back({{"ports", json::array({port(443), port(6443)})}});
      out.push_back(policy(r, child_name(r, kPrometheus), selector_labels(r, kPrometheus),
                           json::array({"Ingress", "Egress"}), std::move(ingress), std::move(egress)));
    }
    // Alertmanager: from Prometheus (alerts) and Grafana (its Alertmanager data source).
    {
      json ingress = json::array({{{"from", json::array({component_peer(r, kPrometheus), component_peer(r, kGrafana)})},
                                   {"ports", json::array({port(kAlertmanagerPort)})}}});
      out.push_back(policy(r, child_name(r, kAlertmanager), selector_labels(r, kAlertmanager), json::array({"Ingress"}),
                           std::move(ingress), json::array()));
    }
    // Grafana: from the ingress controller and Prometheus (its /metrics); to
    // Prometheus and Alertmanager. kubectl port-forward does not pass through
    // NetworkPolicies.
    {
      json ingress =
          json::array({{{"from", json::array({any_namespace_peer("ingress-nginx"), component_peer(r, kPrometheus)})},
                        {"ports", json::array({port(kGrafanaPort)})}}});
      json egress = json::array(
          {{{"to", json::array({component_peer(r, kPrometheus)})}, {"ports", json::array({port(kPrometheusPort)})}},
           {{"to", json::array({component_peer(r, kAlertmanager)})},
            {"ports", json::array({port(kAlertmanagerPort)})}}});
      out.push_back(policy(r, child_name(r, kGrafana), selector_labels(r, kGrafana), json::array({"Ingress", "Egress"}),
                           std::move(ingress), std::move(egress)));
    }
  }
  return out;
}

}  // namespace sot::stillontime
