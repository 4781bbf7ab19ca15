// Shared metadata: labels, ownerReferences only within the resource's namespace, encoders.
#include "stillontime/builders/common.h"

#include <doctest/doctest.h>

#include "unit/stillontime/helpers.h"

namespace sot::stillontime {
namespace {

using test::make_resource;

TEST_CASE("object_meta: same namespace gets a controller ownerReference") {
  auto r = make_resource();
  auto meta = object_meta(r, "sot-backend", kBackend);
  CHECK(meta["namespace"] == "apps");
  REQUIRE(meta["ownerReferences"].size() == 1);
  const auto& ref = meta["ownerReferences"][0];
  CHECK(ref["apiVersion"] == "stillontime.app/v1alpha1");
  CHECK(ref["kind"] == "StillOnTime");
  CHECK(ref["name"] == "sot");
  CHECK(ref["uid"] == "uid-1");
  CHECK(ref["controller"] == true);
  CHECK(ref["blockOwnerDeletion"] == true);
}

TEST_CASE("object_meta: another namespace gets labels only") {
  auto r = make_resource({{"targetNamespace", "elsewhere"}});
  auto meta = object_meta(r, "sot-backend", kBackend);
  CHECK(meta["namespace"] == "elsewhere");
  CHECK_FALSE(meta.contains("ownerReferences"));
  CHECK(meta["labels"]["stillontime.app/owner"] == "apps.sot");
}

TEST_CASE("object_meta: no uid (render of a file) gets no ownerReference") {
  auto r = make_resource({}, "sot", "apps", "");
  CHECK_FALSE(object_meta(r, "x", kBackend).contains("ownerReferences"));
}

TEST_CASE("image_reference adds spec.version unless a tag or digest is given") {
  CHECK(image_reference("ghcr.io/a/b", "1.2") == "ghcr.io/a/b:1.2");
  CHECK(image_reference("localhost:5000/a", "1.2") == "localhost:5000/a:1.2");
  CHECK(image_reference("a/b:pinned", "1.2") == "a/b:pinned");
  CHECK(image_reference("a/b@sha256:00", "1.2") == "a/b@sha256:00");
}

}  // namespace
}  // namespace sot::stillontime
