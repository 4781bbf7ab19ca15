#include <doctest/doctest.h>

#include "stillontime/drift.h"

using namespace sot::stillontime;
using nlohmann::json;

namespace {
json deployment() {
  return json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "b", "namespace": "n", "labels": {"a": "b"}},
    "spec": {"replicas": 3, "template": {"spec": {
      "containers": [{"name": "c", "image": "img:1", "ports": [{"containerPort": 3000, "protocol": "TCP"}],
                      "resources": {"requests": {"cpu": "0.5", "memory": "256Mi"}}}],
      "securityContext": {}}}}})");
}
// What the API server hands back: defaults added, quantities normalised.
json served(const json& applied) {
  json live = applied;
  live["metadata"]["uid"] = "u";
  live["metadata"]["resourceVersion"] = "7";
  live["spec"]["strategy"] = {{"type", "RollingUpdate"}};
  auto& c = live["spec"]["template"]["spec"]["containers"][0];
  c["imagePullPolicy"] = "IfNotPresent";
  c["terminationMessagePath"] = "/dev/termination-log";
  c["resources"]["requests"]["cpu"] = "500m";
  live["spec"]["template"]["spec"].erase("securityContext");  // an empty object comes back absent
  live["status"] = {{"replicas", 3}};
  return live;
}
}  // namespace

TEST_CASE("a child the server defaulted is up to date") {
  const json desired = stamp_applied_hash(deployment());
  CHECK(up_to_date(nullptr, desired) == false);
  const json live = served(desired);
  CHECK(up_to_date(&live, desired));
}

TEST_CASE("a human's edit is drift") {
  const json desired = stamp_applied_hash(deployment());
  json live = served(desired);
  live["spec"]["replicas"] = 1;
  CHECK_FALSE(up_to_date(&live, desired));
  live = served(desired);
  live["spec"]["template"]["spec"]["containers"][0]["image"] = "evil:latest";
  CHECK_FALSE(up_to_date(&live, desired));
  live = served(desired);
  live["metadata"]["labels"].erase("a");
  CHECK_FALSE(up_to_date(&live, desired));
  live = served(desired);
  live["spec"]["template"]["spec"]["containers"].push_back({{"name", "sidecar"}});
  CHECK_FALSE(up_to_date(&live, desired));
}

TEST_CASE("a field we stopped setting changes the hash") {
  const json before = stamp_applied_hash(deployment());
  const json live = served(before);
  json changed = deployment();
  changed["metadata"]["labels"].erase("a");
  const json after = stamp_applied_hash(changed);
  CHECK(contains_desired(live, changed));  // the subset check alone would miss it
  CHECK_FALSE(up_to_date(&live, after));
}

TEST_CASE("hashes are stable and ignore a previous stamp") {
  const json a = stamp_applied_hash(deployment());
  const json b = stamp_applied_hash(a);
  CHECK(a == b);
  CHECK(content_hash(json{{"b", 1}, {"a", 2}}) == content_hash(json{{"a", 2}, {"b", 1}}));
  CHECK(content_hash(json{{"a", 1}}).size() == 64);
}

TEST_CASE("quantities and int-or-string compare by value") {
  CHECK(contains_desired(json("500m"), json("0.5")));
  CHECK(contains_desired(json("1Gi"), json("1024Mi")));
  CHECK_FALSE(contains_desired(json("1G"), json("1Gi")));
  CHECK(contains_desired(json(3000), json("3000")));
  CHECK_FALSE(contains_desired(json("http"), json("https")));
  CHECK(contains_desired(json::object(), json{{"optional", false}}));
  CHECK_FALSE(contains_desired(json::object(), json{{"needed", true}}));
}

TEST_CASE("the same list elements in another order are not drift, other elements are") {
  const json want = json::parse(R"([{"name": "cpu", "v": 70}, {"name": "memory", "v": 80}])");
  CHECK(contains_desired(json::parse(R"([{"name": "memory", "v": 80}, {"name": "cpu", "v": 70}])"), want));
  CHECK_FALSE(contains_desired(json::parse(R"([{"name": "memory", "v": 70}, {"name": "cpu", "v": 80}])"), want));
  CHECK_FALSE(contains_desired(json::parse(R"([{"name": "cpu", "v": 70}, {"name": "cpu", "v": 70}])"), want));
}
