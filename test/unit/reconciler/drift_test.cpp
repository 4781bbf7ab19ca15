#include "stillontime/drift.h"

#include <doctest/doctest.h>

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
  live["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = 8080;
  CHECK_FALSE(up_to_date(&live, desired));
  live = served(desired);
  live["spec"]["template"]["spec"]["containers"][0]["name"] = "renamed";
  CHECK_FALSE(up_to_date(&live, desired));
}

TEST_CASE("elements another manager added to a list merged by key are theirs, not drift") {
  json d = deployment();
  auto& container = d["spec"]["template"]["spec"]["containers"][0];
  container["env"] = json::array({{{"name", "PORT"}, {"value", "3000"}}, {{"name", "APP_ENV"}, {"value", "dev"}}});
  container["volumeMounts"] = json::array({{{"name", "tmp"}, {"mountPath", "/tmp"}}});
  d["spec"]["template"]["spec"]["volumes"] = json::array({{{"name", "tmp"}, {"emptyDir", json::object()}}});
  const json desired = stamp_applied_hash(d);

  // `kubectl set env FOO=bar`, a sidecar, its volume and mount, another port:
  // server-side apply keeps them for their manager whatever we send.
  json live = served(desired);
  auto& c = live["spec"]["template"]["spec"]["containers"];
  c[0]["env"].insert(c[0]["env"].begin() + 1, json{{"name", "FOO"}, {"value", "bar"}});
  c[0]["volumeMounts"].push_back({{"name", "cache"}, {"mountPath", "/cache"}});
  c[0]["ports"].push_back({{"containerPort", 9000}, {"protocol", "TCP"}});
  c.push_back({{"name", "sidecar"}, {"image", "proxy:1"}});
  live["spec"]["template"]["spec"]["volumes"].push_back({{"name", "cache"}, {"emptyDir", json::object()}});
  live["metadata"]["ownerReferences"] = json::array({{{"uid", "other"}, {"kind", "Thing"}}});
  CHECK(up_to_date(&live, desired));

  // Our own elements are still checked, by key, wherever they sit.
  json changed = live;
  changed["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = "9999";
  CHECK_FALSE(up_to_date(&changed, desired));
  changed = live;
  changed["spec"]["template"]["spec"]["containers"][0]["env"].erase(2);  // APP_ENV, after FOO
  CHECK_FALSE(up_to_date(&changed, desired));
  changed = live;
  changed["spec"]["template"]["spec"]["volumes"][0]["emptyDir"] = nullptr;
  changed["spec"]["template"]["spec"]["volumes"][0]["hostPath"] = {{"path", "/"}};
  CHECK(contains_desired(changed, desired));  // an extra field of our element: server defaults look the same
  changed["spec"]["template"]["spec"]["volumes"].erase(0);
  CHECK_FALSE(up_to_date(&changed, desired));
}

TEST_CASE("lists not merged by key are compared whole") {
  // A NetworkPolicy rule's ports and a container's args are atomic: an extra
  // element came from a replacement of the whole list, which our apply undoes.
  const json rule = json::parse(R"({"ports": [{"port": 3000, "protocol": "TCP"}]})");
  CHECK_FALSE(contains_desired(
      json::parse(R"({"ports": [{"port": 3000, "protocol": "TCP"}, {"port": 22, "protocol": "TCP"}]})"), rule));
  CHECK_FALSE(contains_desired(json::parse(R"({"args": ["a", "b", "c"]})"), json::parse(R"({"args": ["a", "b"]})")));
  // Service ports are merged by (port, protocol).
  const json svc = json::parse(R"({"ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]})");
  CHECK(contains_desired(json::parse(R"({"ports": [{"name": "x", "port": 81, "targetPort": 81, "protocol": "TCP"},
                                                   {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]})"),
                         svc));
  CHECK_FALSE(contains_desired(
      json::parse(R"({"ports": [{"name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"}]})"), svc));
}

TEST_CASE("a long list is compared in linear time") {
  // 20,000 env vars (the most a StillOnTime the API server stores can carry):
  // one changed value is found without the quadratic unordered match.
  json want = json::array();
  for (int i = 0; i < 20000; ++i) want.push_back({{"name", "VAR_" + std::to_string(i)}, {"value", "v"}});
  json have = want;
  CHECK(contains_desired(json{{"env", have}}, json{{"env", want}}));
  have[10000]["value"] = "edited";
  CHECK_FALSE(contains_desired(json{{"env", have}}, json{{"env", want}}));
  // An atomic list of that length in another order is drift (checked in order only).
  json args = json::array();
  for (int i = 0; i < 20000; ++i) args.push_back(std::to_string(i));
  json reversed = json::array();
  for (auto it = args.rbegin(); it != args.rend(); ++it) reversed.push_back(*it);
  CHECK_FALSE(contains_desired(json{{"args", reversed}}, json{{"args", args}}));
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
  // Numbers no long double holds are not quantities (no exception, no crash).
  CHECK_FALSE(contains_desired(json(std::string(5000, '9')), json(std::string(5000, '8'))));
  CHECK_FALSE(contains_desired(json(std::string(200000, '1')), json("1")));
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
