// Generated Secrets: built from given values (pure), data not stringData, marked as generated.
#include <doctest/doctest.h>

#include "common/base64.h"
#include "stillontime/builders/builders.h"
#include "unit/stillontime/helpers.h"

namespace sot::stillontime {
namespace {

using test::make_resource;

TEST_CASE("postgres credentials") {
  auto r = make_resource();
  GeneratedCredentials creds{"p@ss/word", "redispw", std::string(40, 'j')};
  auto s = build_postgres_secret(r, creds);
  CHECK(s["kind"] == "Secret");
  CHECK(s["metadata"]["name"] == "sot-postgres-credentials");
  test::check_contract_labels(s, "postgres");
  CHECK(s["metadata"]["annotations"]["stillontime.app/generated"] == "true");
  CHECK_FALSE(s.contains("stringData"));
  CHECK(s["data"]["POSTGRES_PASSWORD"] == common::base64_encode("p@ss/word"));
  CHECK(s["data"]["POSTGRES_USER"] == common::base64_encode("stillontime"));
  CHECK(s["data"]["DATABASE_URL"] ==
        common::base64_encode("postgresql://stillontime:p%40ss%2Fword@sot-postgres.apps.svc:5432/stillontime"));
  // The same inputs give the same object: a builder never invents randomness.
  CHECK(build_postgres_secret(r, creds) == s);
}

TEST_CASE("redis and app secrets") {
  auto r = make_resource({{"targetNamespace", "other"}});
  GeneratedCredentials creds{"p", "redispw", std::string(40, 'j')};
  auto redis = build_redis_secret(r, creds);
  CHECK(redis["metadata"]["name"] == "sot-redis-credentials");
  CHECK(redis["metadata"]["namespace"] == "other");
  CHECK(redis["data"]["REDIS_PASSWORD"] == common::base64_encode("redispw"));
  CHECK(redis["data"]["REDIS_URL"] == common::base64_encode("redis://sot-redis.other.svc:6379"));
  auto app = build_app_secret(r, creds);
  CHECK(app["metadata"]["name"] == "sot-app-secrets");
  CHECK(app["data"]["JWT_SECRET"] == common::base64_encode(std::string(40, 'j')));
  CHECK(app["metadata"]["annotations"]["stillontime.app/generated"] == "true");
}

TEST_CASE("placeholders are marked and long enough for the server") {
  auto p = placeholder_credentials();
  CHECK(p.jwt_secret.find(kPlaceholderMarker) == 0);
  CHECK(p.jwt_secret.size() >= 32);
  CHECK(p.postgres_password.find(kPlaceholderMarker) == 0);
}

}  // namespace
}  // namespace sot::stillontime
