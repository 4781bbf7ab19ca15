// The JSON <-> YAML codec: YAML 1.2 core scalars, quoting on the way out,
// round trips, and streams that would expand or loop without bound.
#include "kube/yaml.h"

#include <string>

#include <doctest/doctest.h>

namespace sot::kube {
namespace {

using nlohmann::json;

// Found by fuzzing (test/fuzz/fuzz_spec): std::stod threw out_of_range on a
// float beyond a double's range. Such numbers now stay strings, as too-long
// integers already did.
TEST_CASE("numbers JSON cannot hold stay strings") {
  auto docs = yaml_documents_to_json("a: 1e99999\nb: -1e99999\nc: 123456789012345678901234567890\nd: 1.5e3\n");
  REQUIRE(docs.ok());
  CHECK((*docs)[0]["a"] == "1e99999");
  CHECK((*docs)[0]["b"] == "-1e99999");
  CHECK((*docs)[0]["c"] == "123456789012345678901234567890");
  CHECK((*docs)[0]["d"] == 1500.0);
}

TEST_CASE("scalars keep their YAML 1.2 core types") {
  auto docs = yaml_documents_to_json("[1, -2, +3, .5, 1., 2.5e-3, 1e5, abc, 1e, ., '-', 1.2.3, 0x10, '7']");
  REQUIRE(docs.ok());
  const auto& a = (*docs)[0];
  CHECK(a[0] == 1);
  CHECK(a[1] == -2);
  CHECK(a[2] == 3);
  CHECK(a[3] == 0.5);
  CHECK(a[4] == 1.0);
  CHECK(a[5] == 0.0025);
  CHECK(a[6] == 100000.0);
  for (int i : {7, 8, 9, 10, 11, 12, 13}) CHECK(a[i].is_string());
  CHECK(json_to_yaml(json{{"k", "1e5"}}) == "k: \"1e5\"");
  CHECK(json_to_yaml(json{{"k", "plain/safe_1.2@x-y"}}) == "k: plain/safe_1.2@x-y");
}

// A few hundred bytes of nested aliases expand to a billion nodes; the codec
// refuses such a stream instead of running out of memory.
TEST_CASE("alias bombs and very deep nesting are refused") {
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) bomb += (j ? ", *a" : "*a") + std::to_string(i - 1);
    bomb += "]\n";
  }
  auto docs = yaml_documents_to_json(bomb);
  REQUIRE_FALSE(docs.ok());
  CHECK(docs.error().message.find("more than 1000000 nodes") != std::string::npos);
  auto deep = yaml_documents_to_json(std::string(300, '[') + std::string(300, ']'));
  REQUIRE_FALSE(deep.ok());
  CHECK(docs.ok() == false);
  auto fine = yaml_documents_to_json("a: &x {b: 1}\nc: *x\n");
  REQUIRE(fine.ok());
  CHECK((*fine)[0]["c"]["b"] == 1);
}

// Found by fuzzing (test/fuzz/fuzz_spec): on this stream (a JSON object cut
// off inside a string) yaml-cpp's LoadAll() reports documents forever and
// grew until the process ran out of memory.
TEST_CASE("a stream the YAML parser cannot end is refused") {
  const std::string text =
      "{\n \"apiVersion\": \"x\",\n \"spec\": {\n  \"tls\": {\n    \"clusterIssuer\": \"letsencrypt-stLLLLL\n  "
      "\"namespace\n}";
  auto docs = yaml_documents_to_json(text);
  REQUIRE_FALSE(docs.ok());
  CHECK(docs.error().message.find("YAML") == 0);
}

TEST_CASE("yaml <-> json") {
  auto docs =
      yaml_documents_to_json("a: 1\nb: '1'\nc: true\nd: \"true\"\ne: 1.5\nf: ~\ng: [x, 2]\nh: 1.4.2\n---\n---\nz: 0\n");
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 2);
  const auto& d = (*docs)[0];
  CHECK(d["a"] == 1);
  CHECK(d["b"] == "1");
  CHECK(d["c"] == true);
  CHECK(d["d"] == "true");
  CHECK(d["e"] == 1.5);
  CHECK(d["f"].is_null());
  CHECK(d["g"] == json::array({"x", 2}));
  CHECK(d["h"] == "1.4.2");
  json value = {{"s", "true"},      {"n", "3000"}, {"v", "1.4.2"},    {"i", 3},
                {"b", false},       {"e", ""},     {"colon", "a: b"}, {"list", json::array({"*", "ok"})},
                {"k8s.io/key", "x"}};
  auto back = yaml_documents_to_json(json_to_yaml(value));
  REQUIRE(back.ok());
  CHECK((*back)[0] == value);
  CHECK_FALSE(yaml_documents_to_json("a: [").ok());
}

}  // namespace
}  // namespace sot::kube
