// The RBAC of manifests/default is enough: the operator runs as the token user
// stillontime-operator, bound only to the ClusterRole and the leader-election
// Role rendered from manifests/default, and reconciles examples/production.yaml
// to Ready, prunes a child it no longer wants, and never sees a 403.
// (test/unit/rbac checks the other direction: nothing granted goes unused.)
// No kubelet runs: workload readiness is set through the status subresource.
#include <fstream>
#include <sstream>
#include <thread>

#include <doctest/doctest.h>

#include "e2e/support.h"
#include "kube/yaml.h"
#include "operator_process.h"

using namespace sot;
using namespace sot::kube;
using namespace std::chrono_literals;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<Json> documents(const std::string& text) {
  auto docs = kube::yaml_documents_to_json(text);
  REQUIRE_MESSAGE(docs.ok(), docs.error().to_string());
  return *docs;
}

std::string condition(const Json& cr, const std::string& type) {
  for (const auto& c : cr.value("status", Json::object()).value("conditions", Json::array())) {
    if (c.value("type", "") == type) return c.value("status", "");
  }
  return "";
}

// rest_client_requests_total lines with code="403".
std::vector<std::string> forbidden_lines(const std::string& metrics) {
  std::vector<std::string> out;
  std::istringstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("rest_client_requests_total{") && line.find("code=\"403\"") != std::string::npos) {
      const double v = std::stod(line.substr(line.rfind(' ') + 1));
      if (v > 0) out.push_back(line);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("with only the manifests' RBAC the operator reconciles the production example to Ready, no 403") {
  e2e::OperatorGrants grants;
  auto admin = e2e::client();
  e2e::TestNamespace ns("rbac-prod");

  // The user's Secret named in spec.backend.secretRef (docs/install.md).
  Json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "stillontime-external"}, {"namespace", ns.name()}}},
                 {"stringData", {{"GOOGLE_CLIENT_ID", "id"}, {"GOOGLE_CLIENT_SECRET", "secret"}}}};
  REQUIRE(admin->create(resources::secrets(), ns.name(), secret).ok());

  auto examples = documents(read_text(STILLONTIME_SOURCE_DIR "/examples/production.yaml"));
  REQUIRE(examples.size() == 1);
  Json cr = examples[0];
  cr["metadata"]["namespace"] = ns.name();
  const std::string name = cr["metadata"]["name"];
  const ObjectKey key{ns.name(), name};

  // The operator, as the user with only the manifests' grants.
  // --namespaces: resources other suites left in namespaces being deleted (where
  // every create is refused with 403) are not this test's business.
  e2e::OperatorProcess op({"--kubeconfig", e2e::control_plane().kubeconfig("operator"), "--leader-elect",
                           "--leader-election-namespace", e2e::kOperatorNamespace, "--namespaces", ns.name()});
  auto created = admin->create(e2e::kStillOnTime, ns.name(), cr);
  REQUIRE_MESSAGE(created.ok(), created.error().to_string());

  REQUIRE_MESSAGE(e2e::eventually(
                      [&] {
                        return admin->get(resources::deployments(), {ns.name(), name + "-backend"}).ok() &&
                               admin->get(resources::deployments(), {ns.name(), name + "-frontend"}).ok() &&
                               admin->get(resources::stateful_sets(), {ns.name(), name + "-postgres"}).ok() &&
                               admin->get(resources::stateful_sets(), {ns.name(), name + "-redis"}).ok();
                      },
                      30s),
                  ("workloads not created; operator log: " + op.log_path()));
  CHECK(e2e::eventually([&] { return admin->get(resources::ingresses(), {ns.name(), name}).ok(); }, 20s));
  e2e::make_workloads_ready(*admin, ns.name(), ns.name() + "." + name);
  auto wait = e2e::run("kubectl wait --for=condition=Ready --timeout=30s -n " + ns.name() + " stillontime/" + name);
  CHECK_MESSAGE(wait.exit_code == 0, (wait.output + "\noperator log: " + op.log_path()));
  CHECK(condition(e2e::get_or_null(*admin, e2e::kStillOnTime, key), "Stalled") == "False");

  // A child no longer desired is pruned (the delete verb).
  REQUIRE(admin
              ->merge_patch(e2e::kStillOnTime, key, {{"spec", {{"ingress", {{"enabled", false}}}}}},
                            PatchOptions{"kubectl"})
              .ok());
  CHECK(e2e::eventually([&] { return !admin->get(resources::ingresses(), {ns.name(), name}).ok(); }, 20s));
  // The workloads may have been re-applied (a new generation): ready them again.
  CHECK(e2e::eventually(
      [&] {
        e2e::make_workloads_ready(*admin, ns.name(), ns.name() + "." + name);
        const Json now = e2e::get_or_null(*admin, e2e::kStillOnTime, key);
        return condition(now, "Ready") == "True" &&
               now["status"]["observedGeneration"] == now["metadata"]["generation"];
      },
      20s));

  const std::string metrics = op.metrics();
  REQUIRE(!metrics.empty());
  CHECK(metrics.find("leader_election_master_status{name=\"stillontime-operator\"} 1") != std::string::npos);
  const auto forbidden = forbidden_lines(metrics);
  std::string joined;
  for (const auto& l : forbidden) joined += l + "\n";
  CHECK_MESSAGE(forbidden.empty(), ("403s from the API server:\n" + joined + "operator log: " + op.log_path()));
  CHECK(op.requests({"GET", "LIST", "WATCH", "POST", "PATCH", "PUT", "DELETE"}) > 0);
  // The whole log, for a 403 that the metrics would not name.
  const std::string log = read_text(op.log_path());
  CHECK_MESSAGE(log.find("Forbidden") == std::string::npos, ("operator log mentions Forbidden: " + op.log_path()));
  op.stop();
}
