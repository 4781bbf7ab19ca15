// The render command: argument handling, YAML in and out, errors for invalid specs.
#include <doctest/doctest.h>

#include <sstream>

#include "stillontime/render.h"
#include "unit/stillontime/helpers.h"

namespace sot::stillontime {
namespace {

const std::string kExamples = STILLONTIME_EXAMPLES_DIR;

struct Run {
  int code;
  std::string out;
  std::string err;
};

Run run(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  int code = render_command(args, out, err);
  return {code, out.str(), err.str()};
}

TEST_CASE("usage errors") {
  CHECK(run({}).code == 2);
  CHECK(run({"-f"}).code == 2);
  CHECK(run({"-f", kExamples + "/staging.yaml", "--api-versions", "1.19"}).code == 2);
  CHECK(run({"--bogus"}).code == 2);
  CHECK(run({"-f", "/nonexistent.yaml"}).code == 1);
}

TEST_CASE("render prints a stable multi-document stream") {
  auto a = run({"render", "-f", kExamples + "/production.yaml", "--api-versions", "latest"});
  INFO(a.err);
  REQUIRE(a.code == 0);
  auto b = run({"-f", kExamples + "/production.yaml", "--api-versions=latest"});
  CHECK(a.out == b.out);
  auto docs = yaml_documents_to_json(a.out);
  REQUIRE(docs.ok());
  CHECK(docs->size() > 20);
  CHECK((*docs)[0]["kind"] == "ServiceAccount");
  bool saw_secret = false;
  for (const auto& d : *docs) {
    if (d["kind"] == "Secret") {
      saw_secret = true;
      CHECK(d["metadata"]["annotations"]["stillontime.app/generated"] == "true");
    }
    // Strings stay strings through YAML: annotation values and env values.
    if (d["kind"] == "Deployment" && d["metadata"]["name"] == "stillontime-backend") {
      CHECK(d["spec"]["template"]["metadata"]["annotations"]["prometheus.io/scrape"] == "true");
      CHECK(d["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == "9090");
      CHECK(d["spec"]["template"]["spec"]["containers"][0]["env"][1]["value"] == "3000");
    }
  }
  CHECK(saw_secret);
  CHECK(a.out.find("GENERATED-AT-APPLY-TIME: placeholder values, not secrets") != std::string::npos);
}

TEST_CASE("1.20 versions") {
  auto r = run({"-f", kExamples + "/staging.yaml", "--api-versions", "1.20"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("autoscaling/v2beta2") != std::string::npos);
  CHECK(r.out.find("policy/v1beta1") != std::string::npos);
  CHECK(r.out.find("ServiceMonitor") == std::string::npos);
}

TEST_CASE("an invalid resource prints its field errors and renders nothing") {
  auto r = run({"-f", kExamples + "/invalid/hpa-max-below-min.yaml"});
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(r.err.find("spec.backend.autoscaling.maxReplicas (2) must be >= minReplicas (3)") != std::string::npos);
}

// Found by fuzzing (test/fuzz/fuzz_spec): a document whose kind is not a
// string threw out of render.
TEST_CASE("documents of any shape and kind are skipped or refused, never thrown on") {
  std::ostringstream out, err;
  CHECK(render_text("--- 5\n--- [1, 2]\n--- {kind: 7}\n--- {kind: [StillOnTime]}\n", "odd.yaml", "latest", out, err) == 1);
  std::ostringstream out2, err2;
  CHECK(render_text("--- {kind: 7}\n", "odd.yaml", "latest", out2, err2) == 1);
  CHECK(err2.str().find("holds no StillOnTime") != std::string::npos);
}

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

// A few hundred bytes of nested aliases expand to a billion nodes; render
// refuses such a file instead of running out of memory.
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
      "{\n \"apiVersion\": \"x\",\n \"spec\": {\n  \"tls\": {\n    \"clusterIssuer\": \"letsencrypt-stLLLLL\n  \"namespace\n}";
  auto docs = yaml_documents_to_json(text);
  if (!docs.ok()) CHECK(docs.error().message.find("YAML") == 0);
  std::ostringstream out, err;
  CHECK(render_text(text, "cut.yaml", "latest", out, err) == 1);
}

TEST_CASE("yaml <-> json") {
  auto docs = yaml_documents_to_json("a: 1\nb: '1'\nc: true\nd: \"true\"\ne: 1.5\nf: ~\ng: [x, 2]\nh: 1.4.2\n---\n---\nz: 0\n");
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
  json value = {{"s", "true"}, {"n", "3000"}, {"v", "1.4.2"}, {"i", 3}, {"b", false}, {"e", ""}, {"colon", "a: b"},
                {"list", json::array({"*", "ok"})}, {"k8s.io/key", "x"}};
  auto back = yaml_documents_to_json(json_to_yaml(value));
  REQUIRE(back.ok());
  CHECK((*back)[0] == value);
  CHECK_FALSE(yaml_documents_to_json("a: [").ok());
}

}  // namespace
}  // namespace sot::stillontime
