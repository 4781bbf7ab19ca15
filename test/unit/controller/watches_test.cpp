// The controller's watches (controller_spec): the Namespace watch re-queues the
// resources that target a namespace when its consent changes, and exists only
// while cross-namespace targets are allowed (stillontime/tenancy.h).
#include <algorithm>

#include <doctest/doctest.h>

#include "controller/reconciler.h"
#include "runtime/store.h"
#include "stillontime/api_versions.h"
#include "stillontime/tenancy.h"
#include "unit/stillontime/helpers.h"

using namespace sot;
using namespace sot::stillontime;
using Json = nlohmann::json;
using sot::stillontime::test::namespace_object;

TEST_CASE("the Namespace watch re-queues the resources that target a namespace, and only while targets are allowed") {
  auto spec = controller_spec(ApiVersions::k8s_1_20());
  REQUIRE(spec.watches.size() == 1);
  CHECK(spec.watches[0].resource == kube::resources::namespaces());
  runtime::Store crs(spec.primary_index);
  auto cr = [](const std::string& ns, const std::string& name, const std::string& target) {
    Json o = {{"apiVersion", "stillontime.app/v1alpha1"},
              {"kind", "StillOnTime"},
              {"metadata", {{"namespace", ns}, {"name", name}, {"resourceVersion", "1"}}},
              {"spec", {{"environment", "development"}, {"version", "1"}}}};
    if (!target.empty()) o["spec"]["targetNamespace"] = target;
    return std::make_shared<const Json>(std::move(o));
  };
  (void)crs.upsert(cr("a", "one", "b"));
  (void)crs.upsert(cr("c", "two", "b"));
  (void)crs.upsert(cr("b", "local", ""));  // in b itself: no consent involved
  (void)crs.upsert(cr("a", "other", "d"));
  auto keys = spec.watches[0].map(namespace_object("b", "a"), crs);
  std::sort(keys.begin(), keys.end());
  CHECK(keys == std::vector<kube::ObjectKey>{{"a", "one"}, {"c", "two"}});
  CHECK(spec.watches[0].map(namespace_object("nobody-targets-me"), crs).empty());

  TenancyPolicy closed;
  closed.cross_namespace = false;
  CHECK(controller_spec(ApiVersions::k8s_1_20(), closed).watches.empty());
}
