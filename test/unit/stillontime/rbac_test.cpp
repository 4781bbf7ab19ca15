// ServiceAccount, Role and RoleBinding: least privilege (nothing), no token mounted.
#include <doctest/doctest.h>

#include "stillontime/builders/builders.h"
#include "unit/stillontime/helpers.h"

namespace sot::stillontime {
namespace {

using test::make_resource;

TEST_CASE("rbac objects") {
  auto r = make_resource({{"targetNamespace", "elsewhere"}});
  auto sa = build_service_account(r);
  CHECK(sa["kind"] == "ServiceAccount");
  CHECK(sa["metadata"]["name"] == "sot-app");
  CHECK(sa["metadata"]["namespace"] == "elsewhere");
  CHECK(sa["automountServiceAccountToken"] == false);
  test::check_contract_labels(sa, "app");
  auto role = build_role(r);
  CHECK(role["kind"] == "Role");
  CHECK(role["rules"] == json::array());
  auto binding = build_role_binding(r);
  CHECK(binding["roleRef"] == json{{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "sot-app"}});
  CHECK(binding["subjects"] ==
        json::array({{{"kind", "ServiceAccount"}, {"name", "sot-app"}, {"namespace", "elsewhere"}}}));
}

}  // namespace
}  // namespace sot::stillontime
