// Ingress: only when enabled; hosts, paths, TLS, class, cert-manager annotation.
#include <doctest/doctest.h>

#include "stillontime/builders/builders.h"
#include "unit/stillontime/helpers.h"

namespace sot::stillontime {
namespace {

using test::make_resource;

TEST_CASE("absent when disabled") {
  CHECK_FALSE(build_ingress(make_resource()).has_value());
}

TEST_CASE("host, apiHost, TLS and cluster issuer") {
  auto r = make_resource({{"ingress",
                           {{"enabled", true},
                            {"className", "nginx"},
                            {"host", "app.example.com"},
                            {"apiHost", "api.example.com"},
                            {"tls", {{"clusterIssuer", "letsencrypt-prod"}}}}}});
  auto ing = build_ingress(r);
  REQUIRE(ing.has_value());
  CHECK((*ing)["apiVersion"] == "networking.k8s.io/v1");
  CHECK((*ing)["metadata"]["name"] == "sot");
  test::check_contract_labels(*ing, "frontend");
  CHECK((*ing)["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-prod");
  const auto& spec = (*ing)["spec"];
  CHECK(spec["ingressClassName"] == "nginx");
  CHECK(spec["tls"] == json::array({{{"hosts", {"app.example.com", "api.example.com"}}, {"secretName", "sot-tls"}}}));
  CHECK(spec["rules"][0]["host"] == "app.example.com");
  CHECK(spec["rules"][0]["http"]["paths"][0]["path"] == "/api");
  CHECK(spec["rules"][0]["http"]["paths"][0]["backend"]["service"] ==
        json{{"name", "sot-backend"}, {"port", {{"number", 3000}}}});
  CHECK(spec["rules"][0]["http"]["paths"][1]["backend"]["service"] ==
        json{{"name", "sot-frontend"}, {"port", {{"number", 8080}}}});
  CHECK(spec["rules"][1]["host"] == "api.example.com");
}

TEST_CASE("development: plain HTTP unless tls is set") {
  auto r =
      make_resource({{"environment", "development"}, {"ingress", {{"enabled", true}, {"host", "dev.example.com"}}}});
  auto ing = build_ingress(r);
  REQUIRE(ing.has_value());
  CHECK_FALSE((*ing)["spec"].contains("tls"));
  CHECK_FALSE((*ing)["metadata"].contains("annotations"));
}

}  // namespace
}  // namespace sot::stillontime
