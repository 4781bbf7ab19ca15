// parse(): typed fields, and errors that name the field.
#include "stillontime/spec.h"

#include <doctest/doctest.h>

#include "unit/stillontime/helpers.h"

namespace sot::stillontime {
namespace {

json cr(json spec) {
  return {{"apiVersion", "stillontime.app/v1alpha1"},
          {"kind", "StillOnTime"},
          {"metadata", {{"name", "sot"}, {"namespace", "apps"}}},
          {"spec", spec}};
}

bool has_error(const ParseResult& r, const std::string& text) {
  for (const auto& e : r.errors) {
    if (e.to_string() == text) return true;
  }
  return false;
}

TEST_CASE("parse reads every section") {
  auto r = parse(cr({{"environment", "staging"},
                     {"version", "2.0.0"},
                     {"targetNamespace", "other"},
                     {"paused", true},
                     {"backend",
                      {{"replicas", 4},
                       {"resources", {{"limits", {{"memory", "1Gi"}, {"cpu", 1}}}}},
                       {"autoscaling", {{"enabled", true}, {"minReplicas", 2}, {"maxReplicas", 7}}},
                       {"secretRef", {{"name", "ext"}}},
                       {"env", json::array({{{"name", "A"}, {"value", "b"}}})},
                       {"storage", {{"logs", "1Gi"}, {"accessMode", "ReadWriteOnce"}}}}},
                     {"postgres", {{"external", {{"secretRef", {{"name", "db"}}}}}}},
                     {"backup", {{"schedule", "@daily"}, {"keep", 3}}},
                     {"restore", {{"from", "latest"}, {"id", "r1"}}},
                     {"ingress", {{"enabled", true}, {"host", "a.example.com"}, {"tls", {{"clusterIssuer", "le"}}}}},
                     {"deletionPolicy", "Delete"}}));
  INFO(join_errors(r.errors));
  REQUIRE(r.ok());
  const Spec& s = r.resource.spec;
  CHECK(s.environment == Environment::kStaging);
  CHECK(s.version == "2.0.0");
  CHECK(r.resource.target_namespace() == "other");
  CHECK(r.resource.cross_namespace());
  CHECK(s.paused);
  CHECK(*s.backend.replicas == 4);
  CHECK(*s.backend.resources.limits.cpu == "1");
  CHECK(*s.backend.autoscaling.max_replicas == 7);
  CHECK(s.backend.secret_ref->name == "ext");
  CHECK(s.backend.env.at(0).name == "A");
  CHECK(*s.backend.storage.access_mode == "ReadWriteOnce");
  CHECK(s.postgres.external->name == "db");
  CHECK(s.postgres.external->key == "DATABASE_URL");
  CHECK(*s.backup.keep == 3);
  CHECK(*s.restore.id == "r1");
  CHECK(*s.ingress.tls->cluster_issuer == "le");
  CHECK(*s.deletion_policy == DeletionPolicy::kDelete);
}

TEST_CASE("parse names the field of each error and reports them all") {
  auto r = parse(cr({{"environment", "prod"},
                     {"version", 1},
                     {"backend", {{"replicas", "three"}, {"autoscaling", {{"enabled", "yes"}}}, {"colour", "red"}}},
                     {"ingress", "on"}}));
  CHECK_FALSE(r.ok());
  CHECK(has_error(r, "spec.environment (\"prod\") must be development, staging or production"));
  CHECK(has_error(r, "spec.version: must be a string"));
  CHECK(has_error(r, "spec.backend.replicas: must be an integer"));
  CHECK(has_error(r, "spec.backend.autoscaling.enabled: must be a boolean (true or false)"));
  CHECK(has_error(r, "spec.backend.colour: unknown field"));
  CHECK(has_error(r, "spec.ingress: must be an object"));
}

TEST_CASE("environment and version are required") {
  auto r = parse(cr(json::object()));
  CHECK(has_error(r, "spec.environment: is required"));
  CHECK(has_error(r, "spec.version: is required"));
  auto no_spec = parse(json{{"metadata", {{"name", "x"}}}});
  CHECK(has_error(no_spec, "spec: is required"));
}

TEST_CASE("wrong kind and missing name are reported") {
  auto r = parse(json{{"apiVersion", "v1"},
                      {"kind", "ConfigMap"},
                      {"metadata", json::object()},
                      {"spec", {{"environment", "staging"}, {"version", "1"}}}});
  CHECK(has_error(r, "apiVersion: must be stillontime.app/v1alpha1"));
  CHECK(has_error(r, "kind: must be StillOnTime"));
  CHECK(has_error(r, "metadata.name: is required"));
}

TEST_CASE("quantities may be integers") {
  auto r = parse(cr({{"environment", "staging"}, {"version", "1"}, {"redis", {{"storage", {{"size", 20}}}}}}));
  REQUIRE(r.ok());
  CHECK(*r.resource.spec.redis.storage.size == "20");
}

// Found by fuzzing (test/fuzz/fuzz_spec): metadata of the wrong type threw
// out of parse() and took `render` down.
TEST_CASE("metadata fields of the wrong type are field errors, not exceptions") {
  json object = cr({{"environment", "staging"}, {"version", "1"}});
  object["metadata"] = {{"name", json::array({"x"})}, {"namespace", 5}, {"uid", false}, {"creationTimestamp", 1.5}};
  ParseResult r;
  CHECK_NOTHROW(r = parse(object));
  CHECK(has_error(r, "metadata.name: must be a string"));
  CHECK(has_error(r, "metadata.namespace: must be a string"));
  CHECK(has_error(r, "metadata.uid: must be a string"));
  CHECK(has_error(r, "metadata.creationTimestamp: must be a string"));
  CHECK_FALSE(has_error(r, "metadata.name: is required"));
}

}  // namespace

// A value of 100,000 characters, or thousands of errors, in one message made
// the Stalled condition longer than the API server stores (32,768).
TEST_CASE("long values and many errors are shortened in messages") {
  const std::string value = "\"" + std::string(100000, 'a') + "\"";
  const std::string text = FieldError{"spec.backend.image", value, "is not a valid image reference"}.to_string();
  CHECK(text.size() < 250);
  CHECK(text.find("spec.backend.image (\"aaa") == 0);
  CHECK(text.find("... 100002 bytes) is not a valid image reference") != std::string::npos);
  // Cut on a character boundary: two-byte characters are never split.
  std::string accents;
  for (int i = 0; i < 1000; ++i) accents += "\xc3\xa9";
  const std::string cut = FieldError{"f", "x" + accents, "m"}.to_string();
  CHECK_NOTHROW((void)json(cut).dump());
  std::vector<FieldError> many;
  for (int i = 0; i < 5000; ++i)
    many.push_back({"spec.backend.env[" + std::to_string(i) + "].name", "", "is set twice"});
  const std::string joined = join_errors(many);
  CHECK(joined.find("spec.backend.env[19].name: is set twice; and 4980 more") != std::string::npos);
  CHECK(joined.find("env[20]") == std::string::npos);
  CHECK(join_errors({many.begin(), many.begin() + 20}).find("more") == std::string::npos);
}

}  // namespace sot::stillontime
