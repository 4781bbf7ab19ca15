// Logs and uploads claims: sizes, access mode, deletionPolicy decides the ownerReference.
#include <doctest/doctest.h>

#include "stillontime/builders/builders.h"
#include "unit/stillontime/helpers.h"

namespace sot::stillontime {
namespace {

using test::make_resource;

TEST_CASE("claims in production are retained and shared") {
  auto r = make_resource({{"environment", "production"}, {"storageClassName", "gp2"}});
  auto logs = build_logs_pvc(r);
  CHECK(logs["kind"] == "PersistentVolumeClaim");
  CHECK(logs["metadata"]["name"] == "sot-backend-logs");
  test::check_contract_labels(logs, "backend");
  CHECK(logs["spec"]["resources"]["requests"]["storage"] == "10Gi");
  CHECK(logs["spec"]["accessModes"] == json::array({"ReadWriteMany"}));
  CHECK(logs["spec"]["storageClassName"] == "gp2");
  CHECK_FALSE(logs["metadata"].contains("ownerReferences"));
  CHECK(logs["metadata"]["annotations"]["stillontime.app/deletion-policy"] == "Retain");
  auto uploads = build_uploads_pvc(r);
  CHECK(uploads["metadata"]["name"] == "sot-backend-uploads");
  CHECK(uploads["spec"]["resources"]["requests"]["storage"] == "50Gi");
}

TEST_CASE("claims in development go with the resource") {
  auto r = make_resource({{"environment", "development"}});
  auto logs = build_logs_pvc(r);
  CHECK(logs["spec"]["accessModes"] == json::array({"ReadWriteOnce"}));
  CHECK(logs["metadata"]["ownerReferences"][0]["name"] == "sot");
  CHECK_FALSE(logs["spec"].contains("storageClassName"));
}

}  // namespace
}  // namespace sot::stillontime
