// HPAs: v2 or v2beta2 by the chosen version, the profile's ranges and targets, none when off.
#include <doctest/doctest.h>

#include "stillontime/builders/builders.h"
#include "unit/stillontime/helpers.h"

namespace sot::stillontime {
namespace {

using test::make_resource;

TEST_CASE("production backend HPA in both versions") {
  auto r = make_resource({{"environment", "production"}});
  for (const auto& api : {ApiVersions::latest(), ApiVersions::k8s_1_20()}) {
    BuildContext ctx;
    ctx.api = api;
    auto hpa = build_hpa(r, ctx, kBackend);
    REQUIRE(hpa.has_value());
    CHECK((*hpa)["apiVersion"] == api.hpa);
    CHECK((*hpa)["kind"] == "HorizontalPodAutoscaler");
    CHECK((*hpa)["metadata"]["name"] == "sot-backend");
    test::check_contract_labels(*hpa, "backend");
    const auto& spec = (*hpa)["spec"];
    CHECK(spec["scaleTargetRef"] == json{{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "sot-backend"}});
    CHECK(spec["minReplicas"] == 3);
    CHECK(spec["maxReplicas"] == 10);
    CHECK(spec["metrics"][0]["resource"] ==
          json{{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", 70}}}});
    CHECK(spec["metrics"][1]["resource"] ==
          json{{"name", "memory"}, {"target", {{"type", "Utilization"}, {"averageUtilization", 80}}}});
  }
  auto frontend = build_hpa(r, BuildContext{}, kFrontend);
  REQUIRE(frontend.has_value());
  CHECK((*frontend)["spec"]["minReplicas"] == 2);
  CHECK((*frontend)["spec"]["maxReplicas"] == 6);
}

TEST_CASE("no HPA in development") {
  auto r = make_resource({{"environment", "development"}});
  CHECK_FALSE(build_hpa(r, BuildContext{}, kBackend).has_value());
  CHECK_FALSE(build_hpa(r, BuildContext{}, kFrontend).has_value());
}

}  // namespace
}  // namespace sot::stillontime
