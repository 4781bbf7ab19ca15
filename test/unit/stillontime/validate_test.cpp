// validate(): what the schema cannot check, and the syntax checkers behind it.
#include "stillontime/validate.h"

#include <doctest/doctest.h>

#include "unit/stillontime/helpers.h"

namespace sot::stillontime {
namespace {

using test::make_resource;

std::string errors_of(const json& spec, const std::string& name = "sot") {
  return join_errors(validate(make_resource(spec, name)));
}

TEST_CASE("the default profiles are valid") {
  for (const char* env : {"development", "staging", "production"}) {
    INFO(env);
    CHECK(errors_of({{"environment", env}}) == "");
  }
}

TEST_CASE("relations between fields") {
  CHECK(errors_of({{"frontend", {{"autoscaling", {{"minReplicas", 5}, {"maxReplicas", 4}}}}}}) ==
        "spec.frontend.autoscaling.maxReplicas (4) must be >= minReplicas (5)");
  CHECK(errors_of({{"restore", {{"id", "x"}}}}) ==
        "spec.restore.from: is required when spec.restore.id is set (a backup file name or \"latest\")");
  CHECK(
      errors_of(
          {{"postgres", {{"external", {{"secretRef", {{"name", "db"}}}}}, {"bootstrap", {{"fromBackup", "latest"}}}}}})
          .find("spec.postgres.bootstrap.fromBackup: cannot be used with spec.postgres.external") != std::string::npos);
  CHECK(errors_of({{"backend",
                    {{"env", json::array({{{"name", "A"}, {"value", "1"}}, {{"name", "A"}, {"value", "2"}}})}}}}) ==
        "spec.backend.env[1].name (\"A\") is set twice");
}

TEST_CASE("names that would make invalid children") {
  CHECK(errors_of({}, "Bad_Name").find("metadata.name (\"Bad_Name\") must be a DNS label") == 0);
  CHECK(errors_of({}, "1abc").find("metadata.name (\"1abc\") must be a DNS label starting with a letter") == 0);
  CHECK(errors_of({}, std::string(43, 'a')) == "");
  // namespace + "." + name must fit a label value
  auto r = make_resource({}, std::string(40, 'a'), std::string(30, 'n'));
  CHECK(join_errors(validate(r)).find("together with the namespace must be at most 62 characters") !=
        std::string::npos);
}

TEST_CASE("image references") {
  CHECK(check_image("ghcr.io/ruvnet/stillontime/backend") == "");
  CHECK(check_image("localhost:5000/x/y:1.0") == "");
  CHECK(check_image("postgres:16") == "");
  CHECK(check_image("repo@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef") == "");
  CHECK(check_image("Repo/Upper") != "");
  CHECK(check_image("repo:bad tag") != "");
  CHECK(check_image("") != "");
  CHECK(errors_of({{"backend", {{"image", "UPPER/case"}}}}).find("spec.backend.image (\"UPPER/case\")") == 0);
  CHECK(check_image_tag("1.4.2") == "");
  CHECK(check_image_tag(".hidden") != "");
}

TEST_CASE("ingress host when enabled") {
  CHECK(errors_of({{"ingress", {{"enabled", true}}}}) ==
        "spec.ingress.host: is required when spec.ingress.enabled is true");
  CHECK(errors_of({{"ingress", {{"enabled", true}, {"host", "https://x.example.com"}}}})
            .find("must be a host name only") != std::string::npos);
  CHECK(errors_of({{"ingress", {{"enabled", true}, {"host", "*.example.com"}}}}) == "");
  CHECK(check_host("10.0.0.1") != "");
}

TEST_CASE("quantities") {
  for (const char* ok : {"1", "0.5", "250m", "512Mi", "1Gi", "1e3", "1E-2", "+1k", ".5", "5."}) {
    INFO(ok);
    CHECK(check_quantity(ok) == "");
  }
  for (const char* bad : {"512MB", "1 Gi", "Gi", "", "1.2.3", "1ki", "abc", "1e"}) {
    INFO(bad);
    CHECK(check_quantity(bad) != "");
  }
  CHECK(*quantity_value("512Mi") == doctest::Approx(536870912.0));
  CHECK(*quantity_value("250m") == doctest::Approx(0.25));
  CHECK(*quantity_value("1e3") == doctest::Approx(1000.0));
  CHECK(errors_of({{"redis", {{"storage", {{"size", "0"}}}}}}) ==
        "spec.redis.storage.size (\"0\") must be greater than zero");
}

TEST_CASE("values the API server accepts at any length are refused or passed without a crash") {
  // The CRD sets no maxLength on images, env names or quantities, so the API
  // server stores 100,000-character values; std::regex overflowed the stack
  // on them and std::stold threw on 5,000 digits.
  const std::string huge(200000, 'a');
  CHECK(check_image(huge) != "");
  CHECK(check_image("repo@sha256:" + std::string(200000, 'a')) == "");  // a long digest is still a digest
  CHECK(check_image("repo@sha256:" + std::string(200000, 'g')) != "");
  CHECK(check_image(std::string(200000, 'a') + ".io/x") != "");
  CHECK(check_image("registry.example.com:" + std::string(100000, '5') + "/x") ==
        "repository name must be at most 255 characters");
  CHECK(check_env_name(huge) == "");
  CHECK(check_env_name("1" + huge) != "");
  CHECK(check_quantity(std::string(5000, '9')) == "is out of range");
  CHECK(check_quantity("0." + std::string(5000, '0') + "1") == "");
  CHECK(check_quantity("0e9999") == "");
  CHECK(check_quantity(std::string(200000, '9') + "Gi") == "is out of range");
  const std::string errors =
      errors_of({{"backend", {{"image", huge}, {"resources", {{"requests", {{"cpu", std::string(5000, '1')}}}}}}}});
  CHECK(errors.find("spec.backend.image (\"aaaa") == 0);
  CHECK(errors.find("spec.backend.resources.requests.cpu") != std::string::npos);
  CHECK(errors.size() < 1000);  // the values are shortened, not repeated whole
  // The grammars themselves are unchanged.
  CHECK(check_image("a__b/c-d--e.f_g:1.0") == "");
  CHECK(check_image("a___b") != "");
  CHECK(check_image("a-/b") != "");
  CHECK(check_image("-a/b") != "");
  CHECK(check_image("host-.example.com/x") != "");
  CHECK(check_image("example.com:/x") != "");
  CHECK(check_image("repo@sha256:0123") != "");
  CHECK(check_image("repo@" + std::string(64, 'a')) != "");
  CHECK(check_image("repo@sha256+x.y_z:" + std::string(64, 'a')) == "");
  CHECK(check_image("repo@sha256++x:" + std::string(64, 'a')) != "");
  CHECK(check_image_tag(std::string(128, 'a')) == "");
  CHECK(check_image_tag(std::string(129, 'a')) != "");
  CHECK(check_env_name(".x-y_z") == "");
  CHECK(check_env_name("A=B") != "");
  CHECK(errors_of({{"restore", {{"from", "latest"}, {"id", std::string(63, 'a')}}}}) == "");
  CHECK(errors_of({{"restore", {{"from", "latest"}, {"id", std::string(64, 'a')}}}}) != "");
  CHECK(errors_of({{"restore", {{"from", "latest"}, {"id", "a.b-c_d"}}}}) == "");
  CHECK(errors_of({{"restore", {{"from", "latest"}, {"id", "-a"}}}}) != "");
}

TEST_CASE("env valueFrom has the shape the API server accepts") {
  auto env = [](json from) {
    return json{{"backend", {{"env", json::array({{{"name", "X"}, {"valueFrom", from}}})}}}};
  };
  CHECK(errors_of(env({{"secretKeyRef", {{"name", "s"}, {"key", "k"}, {"optional", true}}}})) == "");
  CHECK(errors_of(env({{"configMapKeyRef", {{"name", "c"}, {"key", "k"}}}})) == "");
  CHECK(errors_of(env({{"fieldRef", {{"fieldPath", "metadata.name"}}}})) == "");
  CHECK(errors_of(env({{"resourceFieldRef", {{"resource", "limits.cpu"}, {"divisor", "1m"}}}})) == "");
  CHECK(errors_of(env(json::object())) ==
        "spec.backend.env[0].valueFrom: must set exactly one of secretKeyRef, configMapKeyRef, fieldRef, "
        "resourceFieldRef");
  CHECK(errors_of(env({{"secretKeyRef", {{"name", "s"}, {"key", "k"}}}, {"fieldRef", {{"fieldPath", "x"}}}}))
            .find("must set exactly one") != std::string::npos);
  CHECK(errors_of(env({{"vaultRef", {{"path", "x"}}}})) ==
        "spec.backend.env[0].valueFrom.vaultRef: is not a value source: must set exactly one of secretKeyRef, "
        "configMapKeyRef, fieldRef, resourceFieldRef");
  CHECK(errors_of(env({{"secretKeyRef", {{"name", "s"}}}})) ==
        "spec.backend.env[0].valueFrom.secretKeyRef.key: is required");
  CHECK(errors_of(env({{"secretKeyRef", {{"name", "s"}, {"key", "k"}, {"deep", {{"a", 1}}}}}})) ==
        "spec.backend.env[0].valueFrom.secretKeyRef.deep: is not a field of secretKeyRef");
  CHECK(errors_of(env({{"secretKeyRef", {{"name", "s"}, {"key", 5}}}})) ==
        "spec.backend.env[0].valueFrom.secretKeyRef.key: must be a string");
  CHECK(errors_of(env({{"secretKeyRef", {{"name", ""}, {"key", "k"}}}})) ==
        "spec.backend.env[0].valueFrom.secretKeyRef.name: must not be empty");
  CHECK(errors_of(env({{"fieldRef", "metadata.name"}})) == "spec.backend.env[0].valueFrom.fieldRef: must be an object");
}

TEST_CASE("cron schedules") {
  for (const char* ok : {"0 2 * * *", "*/15 * * * *", "0 0-23/2 * * mon-fri", "0 0 1,15 * *", "0 12 * JAN,jul sun",
                         "@daily", "@hourly", "5 4 * * 0", "0  2  *  *  *"}) {
    if (std::string(ok).empty()) continue;
    INFO(ok);
    CHECK(check_cron(ok) == "");
  }
  CHECK(check_cron("0 2 * *") == "must have 5 fields (minute hour day-of-month month day-of-week), got 4");
  CHECK(check_cron("0 25 * * *") == "hour: 25 is out of range 0-23");
  CHECK(check_cron("60 * * * *") == "minute: 60 is out of range 0-59");
  CHECK(check_cron("0 0 0 * *") == "day-of-month: 0 is out of range 1-31");
  CHECK(check_cron("0 0 * 13 *") == "month: 13 is out of range 1-12");
  CHECK(check_cron("0 0 * * 7") == "day-of-week: 7 is out of range 0-6");
  CHECK(check_cron("*/0 * * * *") == "minute: step \"0\" must be a positive integer");
  CHECK(check_cron("5-1 * * * *") == "minute: range 5-1 ends before it starts");
  CHECK(check_cron("0 0 * * funday") == "day-of-week: \"funday\" is not a number or a name");
  CHECK(check_cron("@sometimes") != "");
  CHECK(check_cron("1,,2 * * * *") == "minute: empty list element");
  CHECK(check_cron("0 2 * * * *") != "");
}

TEST_CASE("requests above limits") {
  CHECK(errors_of({{"frontend", {{"resources", {{"requests", {{"cpu", "2"}}}}}}}}) ==
        "spec.frontend.resources.requests.cpu (2) must be <= limits.cpu (100m)");
}

TEST_CASE("target namespace claims: the oldest claim wins") {
  auto first = make_resource({{"targetNamespace", "shared"}}, "first", "ops");
  first.metadata.creation_timestamp = "2024-01-01T00:00:00Z";
  auto second = make_resource({{"targetNamespace", "shared"}}, "second", "ops");
  second.metadata.creation_timestamp = "2024-01-02T00:00:00Z";
  std::vector<NamespaceClaim> all = {claim_of(first), claim_of(second)};
  CHECK_FALSE(check_namespace_claim(first, all).has_value());
  auto refused = check_namespace_claim(second, all);
  REQUIRE(refused.has_value());
  CHECK(refused->to_string() == "spec.targetNamespace (\"shared\") is already claimed by StillOnTime ops/first");
  // Resources without targetNamespace claim nothing: many may share their own namespace.
  auto plain = make_resource({}, "plain", "shared");
  CHECK_FALSE(check_namespace_claim(plain, all).has_value());
  auto other = make_resource({{"targetNamespace", "elsewhere"}}, "third", "ops");
  CHECK_FALSE(check_namespace_claim(other, all).has_value());
}

}  // namespace
}  // namespace sot::stillontime
