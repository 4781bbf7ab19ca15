// The Ingress, when spec.ingress.enabled: host -> frontend, with /api on the
// same host to the backend; apiHost (when set) -> backend. TLS uses
// tls.secretName (default N-tls); tls.clusterIssuer adds cert-manager's
// annotation so cert-manager fills that Secret.
#include "stillontime/builders/builders.h"

namespace sot::stillontime {

namespace {

json path(const char* p, const std::string& service, int port) {
  return {{"path", p},
          {"pathType", "Prefix"},
          {"backend", {{"service", {{"name", service}, {"port", {{"number", port}}}}}}}};
}

}  // namespace

std::optional<json> build_ingress(const StillOnTime& r) {
  const auto& i = r.spec.ingress;
  if (!i.enabled.value_or(false) || !i.host) return std::nullopt;
  const std::string backend = child_name(r, kBackend);
  const std::string frontend = child_name(r, kFrontend);
  json rules = json::array();
  rules.push_back(
      {{"host", *i.host},
       {"http", {{"paths", json::array({path("/api", backend, kBackendPort), path("/", frontend, kFrontendPort)})}}}});
  json hosts = json::array({*i.host});
  if (i.api_host && *i.api_host != *i.host) {
    rules.push_back({{"host", *i.api_host}, {"http", {{"paths", json::array({path("/", backend, kBackendPort)})}}}});
    hosts.push_back(*i.api_host);
  }
  json meta = object_meta(r, r.metadata.name, kFrontend);
  json spec = {{"rules", std::move(rules)}};
  if (i.class_name) spec["ingressClassName"] = *i.class_name;
  if (i.tls) {
    spec["tls"] = json::array({{{"hosts", hosts}, {"secretName", i.tls->secret_name.value_or(child_name(r, "tls"))}}});
    if (i.tls->cluster_issuer) meta["annotations"]["cert-manager.io/cluster-issuer"] = *i.tls->cluster_issuer;
  }
  return json{{"apiVersion", "networking.k8s.io/v1"},
              {"kind", "Ingress"},
              {"metadata", std::move(meta)},
              {"spec", std::move(spec)}};
}

}  // namespace sot::stillontime
