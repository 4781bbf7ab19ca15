// ServiceMonitor and PrometheusRule only when monitoring is on and the API is served.
#include <doctest/doctest.h>

#include "stillontime/builders/builders.h"
#include "unit/stillontime/helpers.h"

namespace sot::stillontime {
namespace {

using test::make_resource;

TEST_CASE("only when served and enabled") {
  auto prod = make_resource({{"environment", "production"}});
  BuildContext served;
  served.api = ApiVersions::latest();
  BuildContext not_served;
  not_served.api = ApiVersions::k8s_1_20();
  CHECK(build_service_monitor(prod, served).has_value());
  CHECK(build_prometheus_rule(prod, served).has_value());
  CHECK_FALSE(build_service_monitor(prod, not_served).has_value());
  CHECK_FALSE(build_prometheus_rule(prod, not_served).has_value());
  auto dev = make_resource({{"environment", "development"}});
  CHECK_FALSE(build_service_monitor(dev, served).has_value());
  CHECK_FALSE(build_prometheus_rule(dev, served).has_value());
}

TEST_CASE("service monitor scrapes the backend's metrics port") {
  BuildContext ctx;
  auto sm = *build_service_monitor(make_resource(), ctx);
  CHECK(sm["apiVersion"] == "monitoring.coreos.com/v1");
  CHECK(sm["metadata"]["name"] == "sot-backend");
  test::check_contract_labels(sm, "monitoring");
  CHECK(sm["spec"]["selector"]["matchLabels"][kLabelComponent] == "backend");
  CHECK(sm["spec"]["endpoints"][0]["port"] == "metrics");
  CHECK(sm["spec"]["endpoints"][0]["interval"] == "15s");
}

TEST_CASE("prometheus rule uses the metrics the server exports") {
  auto rule = *build_prometheus_rule(make_resource(), BuildContext{});
  const std::string text = rule.dump();
  CHECK(text.find("http_requests_total") != std::string::npos);
  CHECK(text.find("http_request_duration_seconds_bucket") != std::string::npos);
  int critical = 0;
  for (const auto& r : rule["spec"]["groups"][0]["rules"]) critical += r["labels"]["severity"] == "critical";
  CHECK(critical >= 3);
}

}  // namespace
}  // namespace sot::stillontime
