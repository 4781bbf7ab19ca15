// The render command: argument handling, YAML in and out, errors for invalid specs.
#include "stillontime/render.h"

#include <sstream>

#include <doctest/doctest.h>

#include "kube/yaml.h"
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
  auto docs = kube::yaml_documents_to_json(a.out);
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
  CHECK(render_text("--- 5\n--- [1, 2]\n--- {kind: 7}\n--- {kind: [StillOnTime]}\n", "odd.yaml", "latest", out, err) ==
        1);
  std::ostringstream out2, err2;
  CHECK(render_text("--- {kind: 7}\n", "odd.yaml", "latest", out2, err2) == 1);
  CHECK(err2.str().find("holds no StillOnTime") != std::string::npos);
}

// Found by fuzzing (test/fuzz/fuzz_spec): a JSON object cut off inside a
// string, which yaml-cpp's LoadAll() never finishes (see kube/yaml_test).
TEST_CASE("render refuses a stream the YAML parser cannot end") {
  const std::string text =
      "{\n \"apiVersion\": \"x\",\n \"spec\": {\n  \"tls\": {\n    \"clusterIssuer\": \"letsencrypt-stLLLLL\n  "
      "\"namespace\n}";
  std::ostringstream out, err;
  CHECK(render_text(text, "cut.yaml", "latest", out, err) == 1);
}

}  // namespace
}  // namespace sot::stillontime
