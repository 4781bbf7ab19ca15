// Postgres and Redis StatefulSets: headless serviceName, claim templates, restricted pods, secrets by reference.
#include <doctest/doctest.h>

#include "stillontime/builders/builders.h"
#include "unit/stillontime/helpers.h"

namespace sot::stillontime {
namespace {

using test::make_resource;

TEST_CASE("postgres statefulset") {
  auto r = make_resource({{"storageClassName", "gp2"}});
  BuildContext ctx;
  ctx.checksums[kPostgres] = "pg";
  auto s = build_postgres_statefulset(r, ctx);
  CHECK(s["kind"] == "StatefulSet");
  CHECK(s["metadata"]["name"] == "sot-postgres");
  test::check_contract_labels(s, "postgres");
  CHECK(s["metadata"]["ownerReferences"][0]["uid"] == "uid-1");
  CHECK(s["spec"]["serviceName"] == "sot-postgres-headless");
  CHECK(s["spec"]["replicas"] == 1);
  CHECK(s["spec"]["template"]["metadata"]["annotations"]["stillontime.app/checksum"] == "pg");
  const auto& pod = s["spec"]["template"]["spec"];
  test::check_restricted(pod);
  CHECK(pod["securityContext"]["runAsUser"] == 999);
  const auto& c = pod["containers"][0];
  CHECK(c["image"] == "postgres:16");
  CHECK(c["ports"][0] == json{{"name", "postgres"}, {"containerPort", 5432}, {"protocol", "TCP"}});
  CHECK(c["env"][1]["valueFrom"]["secretKeyRef"] ==
        json{{"name", "sot-postgres-credentials"}, {"key", "POSTGRES_PASSWORD"}});
  const auto& vct = s["spec"]["volumeClaimTemplates"][0];
  CHECK(vct["metadata"]["name"] == "data");
  CHECK(vct["spec"]["resources"]["requests"]["storage"] == "100Gi");
  CHECK(vct["spec"]["storageClassName"] == "gp2");
  CHECK(vct["spec"]["accessModes"] == json::array({"ReadWriteOnce"}));
  test::check_contract_labels(vct, "postgres");
}

TEST_CASE("redis statefulset never puts the password on a command line it builds") {
  auto r = make_resource();
  auto s = build_redis_statefulset(r, BuildContext{});
  CHECK(s["metadata"]["name"] == "sot-redis");
  CHECK(s["spec"]["serviceName"] == "sot-redis-headless");
  const auto& pod = s["spec"]["template"]["spec"];
  test::check_restricted(pod);
  const auto& c = pod["containers"][0];
  CHECK(c["env"][0]["valueFrom"]["secretKeyRef"] == json{{"name", "sot-redis-credentials"}, {"key", "REDIS_PASSWORD"}});
  CHECK(c["args"].dump().find("$(REDIS_PASSWORD)") != std::string::npos);
  CHECK(s["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "20Gi");
}

}  // namespace
}  // namespace sot::stillontime
