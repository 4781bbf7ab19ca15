// Which API version of each version-varying kind the operator writes. Chosen
// once from discovery, so one binary runs on Kubernetes 1.20 (batch/v1beta1
// CronJob, autoscaling/v2beta2 HPA, policy/v1beta1 PDB) and on the newest
// (batch/v1, autoscaling/v2, policy/v1). Everything else the operator writes
// (apps/v1, networking.k8s.io/v1, rbac/v1, core/v1) is served by both.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "kube/client.h"
#include "kube/resource.h"

namespace sot::stillontime {

struct ApiVersions {
  std::string cronjob = "batch/v1";    // or batch/v1beta1
  std::string hpa = "autoscaling/v2";  // or autoscaling/v2beta2
  std::string pdb = "policy/v1";       // or policy/v1beta1
  bool monitoring = false;             // monitoring.coreos.com/v1 ServiceMonitor and PrometheusRule served

  static ApiVersions k8s_1_20();  // batch/v1beta1, autoscaling/v2beta2, policy/v1beta1, no monitoring
  static ApiVersions latest();    // batch/v1, autoscaling/v2, policy/v1, monitoring served

  bool operator==(const ApiVersions&) const = default;
};

// Discovery results: the served group versions, and for each "group/version"
// ("v1" for core) the resources it serves.
using DiscoveredResources = std::map<std::string, std::vector<kube::ApiResource>>;

// Prefers the newest served version of each kind; falls back to the 1.20
// versions when discovery shows neither (an old or partial answer).
ApiVersions choose_api_versions(const std::vector<kube::GroupVersion>& groups, const DiscoveredResources& resources);

// The group versions choose_api_versions() looks into, so a caller asks
// server_resources() only for these.
std::vector<std::string> api_versions_of_interest();

// "--api-versions" values: "1.20" or "latest"; false for anything else.
bool api_versions_from_name(const std::string& name, ApiVersions& out);

// ResourceRef of a kind the operator writes, from apiVersion and kind
// ("apps/v1", "Deployment" -> apps/v1 deployments, namespaced).
kube::ResourceRef resource_ref(const std::string& api_version, const std::string& kind);

// Asks the server's discovery (only the group versions of interest) and
// chooses; falls back to 1.20's versions when discovery fails.
ApiVersions discover_api_versions(kube::KubeClient& client);

}  // namespace sot::stillontime
