// The whole desired set: which children exist under which conditions, refs, order.
#include "stillontime/desired_state.h"

#include <set>

#include <doctest/doctest.h>

#include "stillontime/builders/common.h"
#include "unit/stillontime/helpers.h"

namespace sot::stillontime {
namespace {

using test::find;
using test::make_resource;

std::set<std::string> keys(const std::vector<DesiredObject>& objects) {
  std::set<std::string> out;
  for (const auto& o : objects)
    out.insert(o.object["kind"].get<std::string>() + "/" + o.object["metadata"]["name"].get<std::string>());
  return out;
}

TEST_CASE("production at latest: every child") {
  auto objects = desired_state(make_resource({{"environment", "production"}}), BuildContext{});
  auto k = keys(objects);
  for (const char* expected : {"ServiceAccount/sot-app",
                               "Role/sot-app",
                               "RoleBinding/sot-app",
                               "Secret/sot-postgres-credentials",
                               "Secret/sot-redis-credentials",
                               "Secret/sot-app-secrets",
                               "PersistentVolumeClaim/sot-backend-logs",
                               "PersistentVolumeClaim/sot-backend-uploads",
                               "Service/sot-backend",
                               "Service/sot-frontend",
                               "Service/sot-postgres",
                               "Service/sot-postgres-headless",
                               "Service/sot-redis",
                               "Service/sot-redis-headless",
                               "StatefulSet/sot-postgres",
                               "StatefulSet/sot-redis",
                               "Deployment/sot-backend",
                               "Deployment/sot-frontend",
                               "HorizontalPodAutoscaler/sot-backend",
                               "HorizontalPodAutoscaler/sot-frontend",
                               "PodDisruptionBudget/sot-backend",
                               "PodDisruptionBudget/sot-frontend",
                               "NetworkPolicy/sot-default-deny",
                               "ServiceMonitor/sot-backend",
                               "PrometheusRule/sot"}) {
    INFO(expected);
    CHECK(k.count(expected) == 1);
  }
  CHECK(k.count("Ingress/sot") == 0);
  CHECK(k.size() == objects.size());  // no duplicates
  for (const auto& o : objects) {
    INFO(o.object["kind"] << "/" << o.object["metadata"]["name"]);
    CHECK(o.ref.api_version() == o.object["apiVersion"]);
    CHECK(o.ref.kind == o.object["kind"]);
    CHECK(o.key().ns == "apps");
    CHECK(o.create_only == (o.object["kind"] == "Secret"));
    test::check_contract_labels(o.object, o.object["metadata"]["labels"][kLabelComponent]);
  }
}

TEST_CASE("development at 1.20: no HPA, PDB or monitoring; 1.20 versions") {
  BuildContext ctx;
  ctx.api = ApiVersions::k8s_1_20();
  auto objects = desired_state(make_resource({{"environment", "development"}}), ctx);
  for (const auto& o : objects) {
    CHECK(o.object["kind"] != "HorizontalPodAutoscaler");
    CHECK(o.object["kind"] != "PodDisruptionBudget");
    CHECK(o.object["kind"] != "ServiceMonitor");
  }
  auto staging = desired_state(make_resource({{"environment", "staging"}}), ctx);
  CHECK((*find(staging, "HorizontalPodAutoscaler", "sot-backend"))["apiVersion"] == "autoscaling/v2beta2");
  CHECK((*find(staging, "PodDisruptionBudget", "sot-backend"))["apiVersion"] == "policy/v1beta1");
  CHECK(find(staging, "ServiceMonitor", "sot-backend") == nullptr);
}

TEST_CASE("cross-namespace children carry no ownerReferences") {
  auto objects = desired_state(make_resource({{"targetNamespace", "elsewhere"}}), BuildContext{});
  for (const auto& o : objects) {
    CHECK(o.key().ns == "elsewhere");
    CHECK_FALSE(o.object["metadata"].contains("ownerReferences"));
    CHECK(o.object["metadata"]["labels"]["stillontime.app/owner"] == "apps.sot");
  }
}

TEST_CASE("same-namespace children carry the controller reference (retained claims excepted)") {
  auto objects = desired_state(make_resource({{"environment", "staging"}}), BuildContext{});
  for (const auto& o : objects) {
    INFO(o.object["kind"] << "/" << o.object["metadata"]["name"]);
    CHECK(o.object["metadata"].contains("ownerReferences") == (o.object["kind"] != "PersistentVolumeClaim"));
  }
}

TEST_CASE("every pod template is restricted and every port says TCP") {
  auto objects = desired_state(make_resource({{"environment", "production"}}), BuildContext{});
  int pods = 0;
  for (const auto& o : objects) {
    if (o.object["kind"] == "Deployment" || o.object["kind"] == "StatefulSet") {
      ++pods;
      test::check_restricted(o.object["spec"]["template"]["spec"]);
      CHECK(o.object["spec"]["template"]["metadata"]
                .value("annotations", nlohmann::json::object())
                .contains(kChecksumAnnotation) == (o.object["metadata"]["name"] != "sot-frontend"));
    }
    if (o.object["kind"] == "Service") {
      for (const auto& p : o.object["spec"]["ports"]) CHECK(p["protocol"] == "TCP");
    }
  }
  CHECK(pods == 4);
}

TEST_CASE("external database: no postgres children") {
  auto objects =
      desired_state(make_resource({{"postgres", {{"external", {{"secretRef", {{"name", "db"}}}}}}}}), BuildContext{});
  for (const auto& o : objects)
    CHECK(o.object["metadata"]["name"].get<std::string>().find("postgres") == std::string::npos);
}

TEST_CASE("ingress when enabled") {
  auto objects =
      desired_state(make_resource({{"ingress", {{"enabled", true}, {"host", "a.example.com"}}}}), BuildContext{});
  CHECK(find(objects, "Ingress", "sot") != nullptr);
}

TEST_CASE("managed kinds follow the API versions and leave out Secrets and claims") {
  auto kinds = managed_kinds(ApiVersions::k8s_1_20());
  bool hpa = false;
  for (const auto& k : kinds) {
    CHECK(k.kind != "Secret");
    CHECK(k.kind != "PersistentVolumeClaim");
    CHECK(k.kind != "ServiceMonitor");
    if (k.kind == "HorizontalPodAutoscaler") hpa = k.version == "v2beta2";
  }
  CHECK(hpa);
  CHECK(managed_kinds(ApiVersions::latest()).size() == kinds.size() + 2);
}

}  // namespace
}  // namespace sot::stillontime
