// Discovery picks the served version of CronJob, HPA and PDB, and notices monitoring.coreos.com.
#include "stillontime/api_versions.h"

#include <doctest/doctest.h>

namespace sot::stillontime {
namespace {

kube::GroupVersion gv(const std::string& group, const std::string& version) {
  return {group, version, false};
}
kube::ApiResource res(const std::string& name) {
  return {name, "", true, {}};
}

TEST_CASE("presets") {
  CHECK(ApiVersions::k8s_1_20().cronjob == "batch/v1beta1");
  CHECK(ApiVersions::k8s_1_20().hpa == "autoscaling/v2beta2");
  CHECK(ApiVersions::k8s_1_20().pdb == "policy/v1beta1");
  CHECK_FALSE(ApiVersions::k8s_1_20().monitoring);
  CHECK(ApiVersions::latest().cronjob == "batch/v1");
  CHECK(ApiVersions::latest().hpa == "autoscaling/v2");
  CHECK(ApiVersions::latest().pdb == "policy/v1");
  CHECK(ApiVersions::latest().monitoring);
  ApiVersions a;
  CHECK(api_versions_from_name("1.20", a));
  CHECK(a == ApiVersions::k8s_1_20());
  CHECK(api_versions_from_name("latest", a));
  CHECK(a == ApiVersions::latest());
  CHECK_FALSE(api_versions_from_name("1.19", a));
}

TEST_CASE("a 1.20 server: batch/v1 serves Jobs but not CronJobs") {
  std::vector<kube::GroupVersion> groups = {gv("batch", "v1"), gv("batch", "v1beta1"), gv("autoscaling", "v1"),
                                            gv("autoscaling", "v2beta2"), gv("policy", "v1beta1")};
  DiscoveredResources resources = {{"batch/v1", {res("jobs"), res("jobs/status")}},
                                   {"batch/v1beta1", {res("cronjobs")}},
                                   {"autoscaling/v2beta2", {res("horizontalpodautoscalers")}},
                                   {"policy/v1beta1", {res("poddisruptionbudgets")}}};
  CHECK(choose_api_versions(groups, resources) == ApiVersions::k8s_1_20());
}

TEST_CASE("a current server with prometheus-operator") {
  std::vector<kube::GroupVersion> groups = {gv("batch", "v1"), gv("autoscaling", "v2"), gv("policy", "v1"),
                                            gv("monitoring.coreos.com", "v1")};
  DiscoveredResources resources = {
      {"batch/v1", {res("jobs"), res("cronjobs")}},
      {"autoscaling/v2", {res("horizontalpodautoscalers")}},
      {"policy/v1", {res("poddisruptionbudgets")}},
      {"monitoring.coreos.com/v1", {res("servicemonitors"), res("prometheusrules"), res("podmonitors")}}};
  CHECK(choose_api_versions(groups, resources) == ApiVersions::latest());
  // ServiceMonitor without PrometheusRule: not enough.
  resources["monitoring.coreos.com/v1"] = {res("servicemonitors")};
  CHECK_FALSE(choose_api_versions(groups, resources).monitoring);
}

TEST_CASE("group versions alone decide when resources were not fetched") {
  CHECK(choose_api_versions({gv("autoscaling", "v2"), gv("policy", "v1")}, {}).hpa == "autoscaling/v2");
  CHECK(choose_api_versions({gv("autoscaling", "v2"), gv("policy", "v1")}, {}).pdb == "policy/v1");
}

TEST_CASE("resource refs of the kinds we write") {
  auto ref = resource_ref("autoscaling/v2beta2", "HorizontalPodAutoscaler");
  CHECK(ref.group == "autoscaling");
  CHECK(ref.version == "v2beta2");
  CHECK(ref.plural == "horizontalpodautoscalers");
  CHECK(resource_ref("v1", "Service").group == "");
  CHECK(resource_ref("v1", "Service").plural == "services");
  CHECK(resource_ref("networking.k8s.io/v1", "NetworkPolicy").plural == "networkpolicies");
  CHECK(resource_ref("networking.k8s.io/v1", "Ingress").plural == "ingresses");
  CHECK(resource_ref("monitoring.coreos.com/v1", "PrometheusRule").plural == "prometheusrules");
  CHECK(resource_ref("v1", "PersistentVolumeClaim").plural == "persistentvolumeclaims");
}

}  // namespace
}  // namespace sot::stillontime
