// PDBs: policy/v1 or v1beta1, only when more than one replica can run.
#include <doctest/doctest.h>

#include "stillontime/builders/builders.h"
#include "unit/stillontime/helpers.h"

namespace sot::stillontime {
namespace {

using test::make_resource;

TEST_CASE("PDB versions and shape") {
  auto r = make_resource({{"environment", "production"}});
  for (const auto& api : {ApiVersions::latest(), ApiVersions::k8s_1_20()}) {
    BuildContext ctx;
    ctx.api = api;
    auto pdb = build_pdb(r, ctx, kBackend);
    REQUIRE(pdb.has_value());
    CHECK((*pdb)["apiVersion"] == api.pdb);
    CHECK((*pdb)["metadata"]["name"] == "sot-backend");
    test::check_contract_labels(*pdb, "backend");
    CHECK((*pdb)["spec"]["maxUnavailable"] == 1);
    CHECK((*pdb)["spec"]["selector"]["matchLabels"] == selector_labels(r, kBackend));
  }
}

TEST_CASE("no PDB at one replica") {
  auto dev = make_resource({{"environment", "development"}});
  CHECK_FALSE(build_pdb(dev, BuildContext{}, kBackend).has_value());
  CHECK_FALSE(build_pdb(dev, BuildContext{}, kFrontend).has_value());
  auto fixed = make_resource({{"backend", {{"replicas", 1}, {"autoscaling", {{"enabled", false}}}}}});
  CHECK_FALSE(build_pdb(fixed, BuildContext{}, kBackend).has_value());
  auto two = make_resource({{"environment", "development"}, {"backend", {{"replicas", 2}}}});
  CHECK(build_pdb(two, BuildContext{}, kBackend).has_value());
}

}  // namespace
}  // namespace sot::stillontime
