// The files users apply: every example renders, every invalid example is
// refused with the message in its "# expect:" line, and the CRD schema knows
// exactly the fields the operator parses.
#include <algorithm>
#include <sstream>

#include <doctest/doctest.h>

#include "kube/yaml.h"
#include "stillontime/defaults.h"
#include "stillontime/render.h"
#include "stillontime/validate.h"
#include "unit/stillontime/helpers.h"

namespace sot::stillontime {
namespace {

const std::string kExamples = STILLONTIME_EXAMPLES_DIR;
const std::string kCrd = std::string(STILLONTIME_CRDS_DIR) + "/stillontime.app_stillontimes.yaml";

TEST_CASE("every example renders at both API version sets") {
  auto files = test::list_files(kExamples, ".yaml");
  CHECK(files.size() >= 4);
  for (const auto& file : files) {
    for (const char* versions : {"1.20", "latest"}) {
      INFO(file << " " << versions);
      std::ostringstream out, err;
      CHECK(render_command({"-f", file, "--api-versions", versions}, out, err) == 0);
      CHECK(err.str() == "");
      auto docs = kube::yaml_documents_to_json(out.str());
      REQUIRE(docs.ok());
      CHECK(docs->size() > 15);
    }
  }
}

TEST_CASE("the staging and production examples sit in the guide's namespaces") {
  auto staging = kube::yaml_documents_to_json(test::read_file(kExamples + "/staging.yaml"));
  REQUIRE(staging.ok());
  CHECK((*staging)[0]["metadata"]["namespace"] == "stillontime-staging");
  auto production = kube::yaml_documents_to_json(test::read_file(kExamples + "/production.yaml"));
  REQUIRE(production.ok());
  CHECK((*production)[0]["metadata"]["namespace"] == "stillontime");
  auto target = kube::yaml_documents_to_json(test::read_file(kExamples + "/targetnamespace.yaml"));
  REQUIRE(target.ok());
  CHECK((*target)[0]["spec"].contains("targetNamespace"));
}

std::string expect_line(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  const std::string marker = "# expect: ";
  while (std::getline(in, line)) {
    if (line.rfind(marker, 0) == 0) return line.substr(marker.size());
  }
  return "";
}

TEST_CASE("every invalid example is refused with its expected message") {
  auto files = test::list_files(kExamples + "/invalid", ".yaml");
  CHECK(files.size() >= 4);
  for (const auto& file : files) {
    INFO(file);
    const std::string text = test::read_file(file);
    const std::string expected = expect_line(text);
    REQUIRE_MESSAGE(!expected.empty(), "no '# expect:' line");
    auto docs = kube::yaml_documents_to_json(text);
    REQUIRE(docs.ok());
    std::vector<FieldError> errors;
    std::vector<NamespaceClaim> claims;
    for (std::size_t i = 0; i < docs->size(); ++i) {
      auto parsed = parse((*docs)[i]);
      REQUIRE_MESSAGE(parsed.ok(), "the schema-level parse must accept it: " << join_errors(parsed.errors));
      auto resource = apply_defaults(parsed.resource);
      resource.metadata.creation_timestamp = "2024-01-0" + std::to_string(i + 1) + "T00:00:00Z";  // file order
      auto found = validate(resource);
      if (auto claim = check_namespace_claim(resource, claims)) found.push_back(*claim);
      claims.push_back(claim_of(resource));
      errors.insert(errors.end(), found.begin(), found.end());
    }
    const std::string all = join_errors(errors);
    INFO("got: " << all);
    CHECK(all.find(expected) != std::string::npos);
    // render refuses it too.
    std::ostringstream out, err;
    CHECK(render_command({"-f", file}, out, err) == 1);
    CHECK(err.str().find(expected) != std::string::npos);
  }
}

// A value of the schema's type for every property, recursively.
json sample(const json& schema) {
  if (schema.value("x-kubernetes-int-or-string", false)) return "1";
  const std::string type = schema.value("type", "");
  if (type == "object") {
    json out = json::object();
    const json properties = schema.value("properties", json::object());
    for (const auto& [key, sub] : properties.items()) out[key] = sample(sub);
    return out;
  }
  if (type == "array") return json::array({sample(schema["items"])});
  if (type == "integer") return 1;
  if (type == "boolean") return true;
  if (schema.contains("enum")) return schema["enum"][0];
  return "x";
}

TEST_CASE("the CRD") {
  auto docs = kube::yaml_documents_to_json(test::read_file(kCrd));
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 1);
  const json& crd = (*docs)[0];
  CHECK(crd["apiVersion"] == "apiextensions.k8s.io/v1");
  CHECK(crd["metadata"]["name"] == "stillontimes.stillontime.app");
  CHECK(crd["spec"]["group"] == "stillontime.app");
  CHECK(crd["spec"]["scope"] == "Namespaced");
  CHECK(crd["spec"]["names"]["plural"] == "stillontimes");
  CHECK(crd["spec"]["names"]["kind"] == "StillOnTime");
  CHECK(crd["spec"]["names"]["shortNames"] == json::array({"sot"}));
  const json& version = crd["spec"]["versions"][0];
  CHECK(version["name"] == "v1alpha1");
  CHECK(version["subresources"]["status"] == json::object());
  std::vector<std::string> columns;
  for (const auto& c : version["additionalPrinterColumns"]) columns.push_back(c["name"]);
  CHECK(columns == std::vector<std::string>{"Environment", "Version", "Ready", "Phase", "Age"});
  CHECK(version["additionalPrinterColumns"][2]["jsonPath"] == ".status.conditions[?(@.type==\"Ready\")].status");
  // Kubernetes 1.20: no CEL.
  CHECK(test::read_file(kCrd).find("x-kubernetes-validations") == std::string::npos);

  const json& schema = version["schema"]["openAPIV3Schema"];
  CHECK(schema["properties"]["spec"]["required"] == json::array({"environment", "version"}));
  // Every field the schema declares is one parse() knows (no "unknown field").
  json cr = {{"apiVersion", "stillontime.app/v1alpha1"},
             {"kind", "StillOnTime"},
             {"metadata", {{"name", "x"}}},
             {"spec", sample(schema["properties"]["spec"])}};
  auto parsed = parse(cr);
  std::string unknown;
  for (const auto& e : parsed.errors) {
    if (e.message == "unknown field") unknown += e.field + " ";
  }
  CHECK(unknown == "");
  // Status conditions have metav1.Condition's shape.
  const json& cond = schema["properties"]["status"]["properties"]["conditions"]["items"];
  CHECK(cond["required"] == json::array({"type", "status", "lastTransitionTime", "reason", "message"}));
  CHECK(schema["properties"]["status"]["properties"]["phase"]["enum"] ==
        json::array({"Pending", "Progressing", "Ready", "Degraded", "Paused", "Terminating"}));
}

// Every leaf of the spec schema, as "backend.env[].name"; fields whose content
// the schema leaves open (x-kubernetes-preserve-unknown-fields) count as leaves.
void spec_leaves(const json& schema, const std::string& path, std::vector<std::string>& out) {
  const json properties = schema.value("properties", json::object());
  if (schema.value("type", "") == "array") return spec_leaves(schema["items"], path + "[]", out);
  if (properties.empty()) return out.push_back(path);
  for (const auto& [key, sub] : properties.items()) spec_leaves(sub, path.empty() ? key : path + "." + key, out);
}

// True when `value` (or, through "[]", any element of a list) sets `path`.
bool sets(const json& value, const std::string& path) {
  if (path.empty()) return !value.is_null();
  if (path.rfind("[]", 0) == 0) {
    if (!value.is_array()) return false;
    const std::string rest = path.size() > 2 && path[2] == '.' ? path.substr(3) : path.substr(2);
    return std::any_of(value.begin(), value.end(), [&](const json& item) { return sets(item, rest); });
  }
  const auto end = path.find_first_of(".[");
  const std::string key = path.substr(0, end);
  if (!value.is_object() || !value.contains(key)) return false;
  std::string rest = end == std::string::npos ? "" : path.substr(end);
  if (!rest.empty() && rest[0] == '.') rest.erase(0, 1);
  return sets(value[key], rest);
}

TEST_CASE("examples/complete.yaml sets every field of the spec") {
  auto crd = kube::yaml_documents_to_json(test::read_file(kCrd));
  REQUIRE(crd.ok());
  std::vector<std::string> leaves;
  spec_leaves((*crd)[0]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"], "", leaves);
  CHECK(leaves.size() > 70);
  auto docs = kube::yaml_documents_to_json(test::read_file(kExamples + "/complete.yaml"));
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 2);
  for (const auto& leaf : leaves) {
    INFO(leaf);
    CHECK(std::any_of(docs->begin(), docs->end(), [&](const json& doc) { return sets(doc["spec"], leaf); }));
  }
  for (const auto& doc : *docs) {
    auto parsed = parse(doc);
    REQUIRE(parsed.ok());
    CHECK(join_errors(validate(apply_defaults(parsed.resource))) == "");
  }
}

}  // namespace
}  // namespace sot::stillontime
