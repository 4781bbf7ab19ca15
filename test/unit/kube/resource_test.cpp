#include "kube/resource.h"

#include <doctest/doctest.h>

using namespace sot::kube;

TEST_CASE("paths for core, grouped, namespaced and cluster-scoped resources") {
  CHECK(collection_path(resources::config_maps(), "ns1") == "/api/v1/namespaces/ns1/configmaps");
  CHECK(collection_path(resources::config_maps(), "") == "/api/v1/configmaps");
  CHECK(collection_path(resources::deployments(), "a") == "/apis/apps/v1/namespaces/a/deployments");
  CHECK(collection_path(resources::namespaces(), "ignored") == "/api/v1/namespaces");
  CHECK(object_path(resources::deployments(), {"a", "web"}) == "/apis/apps/v1/namespaces/a/deployments/web");
  CHECK(object_path(resources::deployments(), {"a", "web"}, "status") ==
        "/apis/apps/v1/namespaces/a/deployments/web/status");
  CHECK(object_path(resources::custom_resource_definitions(), {"", "x.example.com"}) ==
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x.example.com");
  CHECK(resources::deployments().api_version() == "apps/v1");
  CHECK(resources::secrets().api_version() == "v1");
}

TEST_CASE("url encoding keeps unreserved characters only") {
  CHECK(url_encode("abc-_.~09") == "abc-_.~09");
  CHECK(url_encode("a=b,c!=d") == "a%3Db%2Cc%21%3Dd");
  CHECK(url_encode("app.kubernetes.io/managed-by in (x y)") == "app.kubernetes.io%2Fmanaged-by%20in%20%28x%20y%29");
}

TEST_CASE("list and watch queries") {
  ListOptions lo;
  CHECK(list_query(lo).empty());
  lo.label_selector = "app=x";
  lo.limit = 500;
  lo.continue_token = "tok/en=";
  CHECK(list_query(lo) == "?labelSelector=app%3Dx&limit=500&continue=tok%2Fen%3D");

  WatchOptions wo;
  wo.resource_version = "123";
  CHECK(watch_query(wo) == "?watch=true&resourceVersion=123&allowWatchBookmarks=true&timeoutSeconds=300");
  wo.allow_bookmarks = false;
  wo.timeout_seconds = 0;
  wo.label_selector = "a=b";
  CHECK(watch_query(wo) == "?watch=true&labelSelector=a%3Db&resourceVersion=123");
}
