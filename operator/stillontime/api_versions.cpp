// Discovery-driven choice of API versions (see api_versions.h).
#include "stillontime/api_versions.h"

#include <algorithm>
#include <cctype>

namespace sot::stillontime {

ApiVersions ApiVersions::k8s_1_20() {
  return {"batch/v1beta1", "autoscaling/v2beta2", "policy/v1beta1", false};
}
ApiVersions ApiVersions::latest() {
  return {"batch/v1", "autoscaling/v2", "policy/v1", true};
}

namespace {

bool serves(const DiscoveredResources& resources, const std::string& gv, const std::string& plural) {
  auto it = resources.find(gv);
  if (it == resources.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const kube::ApiResource& r) { return r.name == plural; });
}

bool has_group_version(const std::vector<kube::GroupVersion>& groups, const std::string& gv) {
  return std::any_of(groups.begin(), groups.end(), [&](const kube::GroupVersion& g) {
    return (g.group.empty() ? g.version : g.group + "/" + g.version) == gv;
  });
}

// A kind is served at gv when discovery lists the resource there, or (when the
// caller did not fetch that group's resources) at least lists the group version.
bool served(const std::vector<kube::GroupVersion>& groups, const DiscoveredResources& resources, const std::string& gv,
            const std::string& plural) {
  if (resources.count(gv)) return serves(resources, gv, plural);
  return has_group_version(groups, gv);
}

}  // namespace

std::vector<std::string> api_versions_of_interest() {
  return {"batch/v1",  "batch/v1beta1",  "autoscaling/v2",          "autoscaling/v2beta2",
          "policy/v1", "policy/v1beta1", "monitoring.coreos.com/v1"};
}

ApiVersions choose_api_versions(const std::vector<kube::GroupVersion>& groups, const DiscoveredResources& resources) {
  ApiVersions out = ApiVersions::k8s_1_20();
  if (served(groups, resources, "batch/v1", "cronjobs")) out.cronjob = "batch/v1";
  if (served(groups, resources, "autoscaling/v2", "horizontalpodautoscalers")) out.hpa = "autoscaling/v2";
  if (served(groups, resources, "policy/v1", "poddisruptionbudgets")) out.pdb = "policy/v1";
  out.monitoring = served(groups, resources, "monitoring.coreos.com/v1", "servicemonitors") &&
                   served(groups, resources, "monitoring.coreos.com/v1", "prometheusrules");
  return out;
}

bool api_versions_from_name(const std::string& name, ApiVersions& out) {
  if (name == "1.20") {
    out = ApiVersions::k8s_1_20();
    return true;
  }
  if (name == "latest") {
    out = ApiVersions::latest();
    return true;
  }
  return false;
}

kube::ResourceRef resource_ref(const std::string& api_version, const std::string& kind) {
  kube::ResourceRef ref;
  auto slash = api_version.find('/');
  ref.group = slash == std::string::npos ? "" : api_version.substr(0, slash);
  ref.version = slash == std::string::npos ? api_version : api_version.substr(slash + 1);
  ref.kind = kind;
  static const std::map<std::string, std::string> kPlurals = {
      {"PersistentVolumeClaim", "persistentvolumeclaims"},
      {"NetworkPolicy", "networkpolicies"},
      {"Ingress", "ingresses"},
      {"HorizontalPodAutoscaler", "horizontalpodautoscalers"},
      {"PodDisruptionBudget", "poddisruptionbudgets"},
      {"ServiceAccount", "serviceaccounts"},
  };
  if (auto it = kPlurals.find(kind); it != kPlurals.end()) {
    ref.plural = it->second;
  } else {
    std::string lower;
    for (char c : kind) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ref.plural = lower + "s";  // Deployment, Service, StatefulSet, Secret, ConfigMap, Role, RoleBinding, CronJob, Job,
                               // ServiceMonitor, PrometheusRule
  }
  ref.namespaced = true;
  return ref;
}

ApiVersions discover_api_versions(kube::KubeClient& client) {
  auto groups = client.server_groups();
  if (!groups.ok()) return ApiVersions::k8s_1_20();
  DiscoveredResources resources;
  for (const auto& gv_text : api_versions_of_interest()) {
    const auto slash = gv_text.find('/');
    const std::string group = slash == std::string::npos ? "" : gv_text.substr(0, slash);
    const std::string version = slash == std::string::npos ? gv_text : gv_text.substr(slash + 1);
    bool served = false;
    for (const auto& g : *groups) served = served || (g.group == group && g.version == version);
    if (!served) continue;
    auto list = client.server_resources(group, version);
    if (list.ok()) resources[gv_text] = *list;
  }
  return choose_api_versions(*groups, resources);
}

}  // namespace sot::stillontime
