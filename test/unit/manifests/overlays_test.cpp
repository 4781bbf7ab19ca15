// The overlays carry copies of examples/staging.yaml and examples/production.yaml
// (kustomize loads no file from outside a kustomization's root); the copies must
// say what the examples say.
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>

#include "kube/yaml.h"

namespace {

nlohmann::json documents_of(const std::string& relative) {
  std::ifstream in(std::string(STILLONTIME_SOURCE_DIR) + "/" + relative);
  REQUIRE_MESSAGE(in.good(), relative);
  std::stringstream ss;
  ss << in.rdbuf();
  auto docs = sot::kube::yaml_documents_to_json(ss.str());
  REQUIRE(docs.ok());
  return *docs;
}

}  // namespace

TEST_CASE("the overlays' StillOnTime resources are the examples") {
  for (const char* env : {"staging", "production"}) {
    CAPTURE(env);
    CHECK(documents_of(std::string("manifests/overlays/") + env + "/stillontime.yaml") ==
          documents_of(std::string("examples/") + env + ".yaml"));
  }
}
