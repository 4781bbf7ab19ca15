// Services: names, selectors, ports with protocol TCP, headless for StatefulSets.
#include <doctest/doctest.h>

#include "stillontime/builders/builders.h"
#include "unit/stillontime/helpers.h"

namespace sot::stillontime {
namespace {

using test::make_resource;

void check_ports_tcp(const json& svc) {
  for (const auto& p : svc["spec"]["ports"]) CHECK(p["protocol"] == "TCP");
}

TEST_CASE("backend service exposes http and metrics") {
  auto r = make_resource();
  auto s = build_backend_service(r);
  CHECK(s["kind"] == "Service");
  CHECK(s["metadata"]["name"] == "sot-backend");
  test::check_contract_labels(s, "backend");
  CHECK(s["spec"]["selector"] == selector_labels(r, kBackend));
  CHECK(s["spec"]["ports"] ==
        json::array({{{"name", "http"}, {"port", 3000}, {"targetPort", "http"}, {"protocol", "TCP"}},
                     {{"name", "metrics"}, {"port", 9090}, {"targetPort", "metrics"}, {"protocol", "TCP"}}}));
  CHECK_FALSE(s["spec"].contains("clusterIP"));
}

TEST_CASE("frontend, postgres and redis services") {
  auto r = make_resource();
  auto f = build_frontend_service(r);
  CHECK(f["metadata"]["name"] == "sot-frontend");
  CHECK(f["spec"]["ports"][0]["port"] == 8080);
  check_ports_tcp(f);
  auto p = build_postgres_service(r);
  CHECK(p["metadata"]["name"] == "sot-postgres");
  CHECK(p["spec"]["ports"][0]["port"] == 5432);
  check_ports_tcp(p);
  auto ph = build_postgres_headless_service(r);
  CHECK(ph["metadata"]["name"] == "sot-postgres-headless");
  CHECK(ph["spec"]["clusterIP"] == "None");
  check_ports_tcp(ph);
  auto rs = build_redis_service(r);
  CHECK(rs["metadata"]["name"] == "sot-redis");
  CHECK(rs["spec"]["ports"][0]["port"] == 6379);
  auto rh = build_redis_headless_service(r);
  CHECK(rh["spec"]["clusterIP"] == "None");
  test::check_contract_labels(rh, "redis");
}

}  // namespace
}  // namespace sot::stillontime
