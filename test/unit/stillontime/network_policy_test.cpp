// NetworkPolicies: default deny, then the flows DESIGN.md lists, for this instance's pods only.
#include <doctest/doctest.h>

#include "stillontime/builders/builders.h"
#include "unit/stillontime/helpers.h"

namespace sot::stillontime {
namespace {

using test::make_resource;

const json* policy(const std::vector<json>& all, const std::string& name) {
  for (const auto& p : all) {
    if (p["metadata"]["name"] == name) return &p;
  }
  return nullptr;
}

// Does a rule list admit a peer on `port`? `peer` is a component ("frontend")
// or "label=value" for a peer outside the instance (matched on app.kubernetes.io/name).
bool allows(const json& rules, const std::string& direction, const std::string& peer, int port) {
  const auto eq = peer.find('=');
  const std::string key = eq == std::string::npos ? kLabelComponent : kLabelName;
  const std::string value = eq == std::string::npos ? peer : peer.substr(eq + 1);
  for (const auto& rule : rules) {
    bool port_ok = false;
    for (const auto& p : rule.value("ports", json::array())) port_ok |= p["port"] == port;
    if (!port_ok) continue;
    for (const auto& candidate : rule.value(direction, json::array())) {
      if (candidate["podSelector"]["matchLabels"].value(key, "") == value) return true;
    }
  }
  return false;
}

TEST_CASE("the set of policies") {
  auto r = make_resource({{"ingress", {{"enabled", true}, {"host", "a.example.com"}}}});
  auto all = build_network_policies(r);
  std::vector<std::string> names;
  for (const auto& p : all) {
    names.push_back(p["metadata"]["name"]);
    CHECK(p["apiVersion"] == "networking.k8s.io/v1");
    test::check_contract_labels(p, "network");
    for (const char* dir : {"ingress", "egress"}) {
      for (const auto& rule : p["spec"].value(dir, json::array())) {
        for (const auto& port : rule.value("ports", json::array())) CHECK(port.contains("protocol"));
      }
    }
  }
  CHECK(names == std::vector<std::string>{"sot-default-deny", "sot-allow-dns", "sot-backend", "sot-frontend",
                                          "sot-postgres", "sot-redis", "sot-backup"});

  const json& deny = *policy(all, "sot-default-deny");
  CHECK(deny["spec"]["podSelector"]["matchLabels"] == instance_selector(r));
  CHECK(deny["spec"]["policyTypes"] == json::array({"Ingress", "Egress"}));
  CHECK_FALSE(deny["spec"].contains("ingress"));
  CHECK_FALSE(deny["spec"].contains("egress"));

  const json& dns = *policy(all, "sot-allow-dns");
  CHECK(dns["spec"]["egress"][0]["ports"] ==
        json::array({{{"port", 53}, {"protocol", "UDP"}}, {{"port", 53}, {"protocol", "TCP"}}}));

  const json& backend = *policy(all, "sot-backend");
  CHECK(allows(backend["spec"]["ingress"], "from", "frontend", 3000));
  CHECK(allows(backend["spec"]["ingress"], "from", "app.kubernetes.io/name=ingress-nginx", 3000));
  CHECK(allows(backend["spec"]["ingress"], "from", "app.kubernetes.io/name=prometheus", 9090));
  CHECK(allows(backend["spec"]["egress"], "to", "postgres", 5432));
  CHECK(allows(backend["spec"]["egress"], "to", "redis", 6379));

  const json& frontend = *policy(all, "sot-frontend");
  CHECK(allows(frontend["spec"]["ingress"], "from", "app.kubernetes.io/name=ingress-nginx", 8080));
  CHECK(allows(frontend["spec"]["egress"], "to", "backend", 3000));

  const json& postgres = *policy(all, "sot-postgres");
  CHECK(allows(postgres["spec"]["ingress"], "from", "backend", 5432));
  CHECK(allows(postgres["spec"]["ingress"], "from", "backup", 5432));
  CHECK_FALSE(allows(postgres["spec"]["ingress"], "from", "frontend", 5432));
  const json& redis = *policy(all, "sot-redis");
  CHECK(allows(redis["spec"]["ingress"], "from", "backend", 6379));
  CHECK(allows(redis["spec"]["ingress"], "from", "backup", 6379));
  const json& backup = *policy(all, "sot-backup");
  CHECK(allows(backup["spec"]["egress"], "to", "postgres", 5432));
  CHECK(allows(backup["spec"]["egress"], "to", "redis", 6379));
}

TEST_CASE("no ingress controller rules without an Ingress; none at all when disabled") {
  auto r = make_resource();
  auto all = build_network_policies(r);
  const json& frontend = *policy(all, "sot-frontend");
  CHECK_FALSE(frontend["spec"].contains("ingress"));
  CHECK_FALSE(
      allows(policy(all, "sot-backend")->at("spec")["ingress"], "from", "app.kubernetes.io/name=ingress-nginx", 3000));
  CHECK(build_network_policies(make_resource({{"networkPolicy", {{"enabled", false}}}})).empty());
}

TEST_CASE("an external database has no postgres policy") {
  auto all = build_network_policies(make_resource({{"postgres", {{"external", {{"secretRef", {{"name", "db"}}}}}}}}));
  CHECK(policy(all, "sot-postgres") == nullptr);
}

}  // namespace
}  // namespace sot::stillontime
