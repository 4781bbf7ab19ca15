#include <doctest/doctest.h>

#include "plugin/history.h"
#include "plugin/ownership.h"

using namespace sot::plugin;
using nlohmann::json;

namespace {
json history() {
  return json::array({{{"version", "1.3.0"}, {"firstApplied", "t5"}},                  // current, not Ready yet
                      {{"version", "1.2.0"}, {"firstApplied", "t4"}, {"left", "t5"}},  // never Ready
                      {{"version", "1.1.0"}, {"firstApplied", "t2"}, {"becameReady", "t3"}, {"left", "t4"}},
                      {{"version", "1.0.0"}, {"firstApplied", "t0"}, {"becameReady", "t1"}, {"left", "t2"}}});
}
json with_fields(json managed) {
  return {{"metadata", {{"managedFields", std::move(managed)}}}};
}
json entry(const std::string& manager, const std::string& op, json fields) {
  return {{"manager", manager}, {"operation", op}, {"time", "2024-05-15T02:00:00Z"}, {"fieldsV1", std::move(fields)}};
}
const json kVersion = {{"f:spec", {{"f:version", json::object()}}}};
}  // namespace

TEST_CASE("rollback goes to the newest earlier version that became Ready, skipping ones that never did") {
  CHECK(*choose_rollback(history(), "1.3.0", "") == "1.1.0");
  // Already back at 1.1.0: the one before it.
  json h = history();
  h.insert(h.begin(), json{{"version", "1.1.0"}, {"firstApplied", "t6"}, {"becameReady", "t7"}});
  CHECK(*choose_rollback(h, "1.1.0", "") == "1.0.0");
  CHECK(*choose_rollback(history(), "1.3.0", "1.0.0") == "1.0.0");
}

TEST_CASE("rollback refuses with the reason and the way out") {
  auto never = choose_rollback(history(), "1.3.0", "1.2.0");
  REQUIRE_FALSE(never.ok());
  CHECK(never.error().message.find("never became Ready") != std::string::npos);
  CHECK(never.error().message.find("deploy --version 1.2.0") != std::string::npos);
  auto unknown = choose_rollback(history(), "1.3.0", "0.9.0");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message.find("not in status.versionHistory") != std::string::npos);
  CHECK(unknown.error().message.find("1.1.0 (was Ready)") != std::string::npos);
  CHECK_FALSE(choose_rollback(history(), "1.3.0", "1.3.0").ok());
  auto empty = choose_rollback(json::array(), "1.0.0", "");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().message.find("empty") != std::string::npos);
  CHECK_FALSE(choose_rollback(json("garbage"), "1.0.0", "").ok());
  auto only_current = choose_rollback(json::array({{{"version", "1.0.0"}, {"becameReady", "t"}}}), "1.0.0", "");
  REQUIRE_FALSE(only_current.ok());
  CHECK(only_current.error().message.find("--to") != std::string::npos);
}

TEST_CASE("spec.version owners: GitOps controllers block, a person's kubectl and we do not") {
  const json cr = with_fields(json::array({entry("kubectl-client-side-apply", "Update", kVersion),
                                           entry("kustomize-controller", "Apply", kVersion),
                                           entry("stillontime-operator", "Update", {{"f:status", json::object()}})}));
  const auto owners = owners_of(cr, {"spec", "version"});
  REQUIRE(owners.size() == 2);
  auto blocking = blocking_owner(owners, "kubectl-stillontime");
  REQUIRE(blocking);
  CHECK(blocking->manager == "kustomize-controller");
  CHECK(describe_owner(*blocking) == "kustomize-controller (Flux; server-side apply at 2024-05-15T02:00:00Z)");
  CHECK(describe_owner({"argocd-controller", "Update", ""}) == "argocd-controller (Argo CD; update)");
  for (const char* person :
       {"kubectl", "kubectl-edit", "kubectl-patch", "kubectl-client-side-apply", "kubectl-stillontime"}) {
    CAPTURE(person);
    CHECK_FALSE(blocking_owner({{person, "Apply", ""}}, "kubectl-stillontime"));
  }
  // Any other controller that writes spec.version has a source of truth elsewhere.
  CHECK(blocking_owner({{"my-release-bot", "Update", ""}}, "kubectl-stillontime"));
  CHECK(owners_of(with_fields("not a list"), {"spec", "version"}).empty());
  CHECK(owners_of(json::object(), {"spec", "version"}).empty());
}

TEST_CASE("foreign fields: leaf paths under spec and data, list items by key, ignored managers and subresources") {
  const json fields = json::parse(R"({"f:metadata": {"f:labels": {"f:x": {}}},
      "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"backend\"}": {".": {}, "f:image": {}}}}}}})");
  const json obj =
      with_fields(json::array({entry("kubectl-edit", "Update", fields), entry("stillontime-operator", "Apply", fields),
                               entry("kubectl-patch", "Update", {{"f:metadata", json::object()}}),
                               entry("kubectl", "Update", {{"f:spec", {{"f:replicas", json::object()}}}})}));
  auto found = foreign_fields(obj, {"stillontime-operator"});
  REQUIRE(found.size() == 2);
  CHECK(found[0].owner.manager == "kubectl-edit");
  CHECK(found[0].paths ==
        std::vector<std::string>{"spec.replicas", "spec.template.spec.containers[name=backend].image"});
  CHECK(found[1].owner.manager == "kubectl");
  json status_write = entry("kubectl", "Update", {{"f:spec", {{"f:replicas", json::object()}}}});
  status_write["subresource"] = "status";
  CHECK(foreign_fields(with_fields(json::array({status_write})), {}).empty());
  CHECK(foreign_fields(obj, {"stillontime-operator"}, 1)[0].paths.size() == 1);
}
