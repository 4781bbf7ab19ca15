// How the store keeps objects: deflated MessagePack that reads back exactly,
// labels packed into one string, and errors (not crashes) on corrupt bytes.
#include "runtime/store.h"

#include <stdexcept>

#include <doctest/doctest.h>

#include "runtime/compact.h"
#include "unit/runtime/fakes.h"

using namespace sot;
using namespace sot::runtime;
using sot::test::config_map;

namespace {

Json deployment_like(int i) {
  Json container = {{"name", "backend"},
                    {"image", "ghcr.io/stillontime/stillontime-server:1.4.2"},
                    {"terminationMessagePath", "/dev/termination-log"},
                    {"terminationMessagePolicy", "File"},
                    {"imagePullPolicy", "IfNotPresent"},
                    {"securityContext", {{"allowPrivilegeEscalation", false}, {"capabilities", {{"drop", {"ALL"}}}}}}};
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata",
           {{"name", "app-" + std::to_string(i) + "-backend"},
            {"namespace", "ns"},
            {"resourceVersion", std::to_string(1000 + i)},
            {"labels",
             {{"app.kubernetes.io/name", "stillontime"}, {"app.kubernetes.io/instance", "app-" + std::to_string(i)}}}}},
          {"spec", {{"replicas", 2}, {"template", {{"spec", {{"containers", Json::array({container})}}}}}}},
          {"status", {{"readyReplicas", 1}, {"ratio", 0.5}, {"big", 1ULL << 62}, {"neg", -7}, {"none", nullptr}}}};
}

}  // namespace

TEST_CASE("pack_object deflates, and unpack_object gives back the identical object") {
  for (int i = 0; i < 20; ++i) {
    const Json original = deployment_like(i);
    const PackedObject packed = pack_object(original);
    CHECK(packed.key == kube::ObjectKey{"ns", "app-" + std::to_string(i) + "-backend"});
    CHECK(packed.resource_version == std::to_string(1000 + i));
    CHECK(packed.packed.size() < Json::to_msgpack(original).size() / 2);
    CHECK(*unpack_object(packed) == original);
    CHECK(packed.labels.find("app.kubernetes.io/instance") ==
          std::optional<std::string_view>("app-" + std::to_string(i)));
    CHECK_FALSE(packed.labels.find("app.kubernetes.io/component"));
  }
}

TEST_CASE("deflate_bytes and inflate_bytes round-trip any bytes, empty and large included") {
  std::vector<std::uint8_t> empty;
  CHECK(inflate_bytes(deflate_bytes(empty)).empty());
  std::vector<std::uint8_t> large(1 << 20);
  std::uint32_t x = 12345;
  for (auto& b : large) {  // incompressible: inflate must grow its buffer many times
    x = x * 1664525u + 1013904223u;
    b = static_cast<std::uint8_t>(x >> 24);
  }
  CHECK(inflate_bytes(deflate_bytes(large)) == large);
}

TEST_CASE("corrupt or truncated packed bytes throw instead of crashing") {
  const auto good = deflate_bytes(Json::to_msgpack(deployment_like(1)));
  auto truncated = good;
  truncated.resize(good.size() / 2);
  CHECK_THROWS_AS(inflate_bytes(truncated), std::runtime_error);
  std::vector<std::uint8_t> garbage(64, 0xAB);
  CHECK_THROWS_AS(inflate_bytes(garbage), std::runtime_error);
  // The shared stream is usable again after an error.
  CHECK(Json::from_msgpack(inflate_bytes(good)) == deployment_like(1));
}

TEST_CASE("packed labels skip non-string values and answer lookups of absent keys") {
  const PackedLabels labels(Json{{"a", "1"}, {"n", 5}, {"b", ""}});
  CHECK(labels.find("a") == std::optional<std::string_view>("1"));
  CHECK(labels.find("b") == std::optional<std::string_view>(""));
  CHECK_FALSE(labels.find("n"));
  CHECK_FALSE(labels.find(""));
  CHECK_FALSE(PackedLabels(Json()).find("a"));
  CHECK_FALSE(PackedLabels(config_map("ns", "x")["metadata"]).find("zzz"));
}

TEST_CASE("list_keys answers like list() without unpacking; by_index finds objects by their indexed value") {
  Store store([](const Json& o) { return o["metadata"].value("labels", Json::object()).value("claim", ""); });
  auto put = [&](const char* ns, const char* name, Json labels) {
    Json o = config_map(ns, name);
    o["metadata"]["labels"] = std::move(labels);
    (void)store.upsert(std::make_shared<const Json>(std::move(o)));
  };
  put("a", "one", {{"app", "x"}, {"claim", "red"}});
  put("a", "two", {{"app", "y"}});
  put("b", "three", {{"app", "x"}, {"claim", "red"}});
  put("b", "four", {{"app", "x"}, {"claim", "blue"}});
  auto sel = LabelSelector::parse("app=x");
  REQUIRE(sel.ok());
  for (std::string_view ns : {"", "a", "b", "c"}) {
    std::vector<ObjectKey> listed;
    for (const auto& o : store.list(ns, &*sel)) listed.push_back(key_of(*o));
    CHECK(store.list_keys(ns, &*sel) == listed);
  }
  CHECK(store.list_keys("a").size() == 2);
  std::vector<std::string> red;
  for (const auto& o : store.by_index("red")) red.push_back(key_of(*o).to_string());
  CHECK(red == std::vector<std::string>{"a/one", "b/three"});
  CHECK(store.by_index("blue").size() == 1);
  CHECK(store.by_index("").empty());       // "" means "not indexed", never a value
  CHECK(Store().by_index("red").empty());  // no indexer, no index
  // The index follows updates.
  put("b", "four", {{"app", "x"}, {"claim", "red"}});
  CHECK(store.by_index("red").size() == 3);
  CHECK(store.by_index("blue").empty());
}

// Objects come from the API server; fields of an unexpected type read as empty
// instead of throwing out of the informer's thread.
TEST_CASE("key_of and resource_version_of read fields of the wrong type as empty") {
  const Json odd = Json::parse(R"({"metadata":{"name":5,"namespace":["ns"],"resourceVersion":12}})");
  CHECK_NOTHROW((void)key_of(odd));
  CHECK(key_of(odd) == ObjectKey{});
  CHECK(resource_version_of(odd).empty());
  CHECK(key_of(Json::parse(R"({"metadata":"x"})")) == ObjectKey{});
  CHECK(key_of(Json(5)) == ObjectKey{});
}
