// Who may put children where (tenancy.h): one case per decision of the
// consent check, the annotation's syntax and the flags. The Namespace watch
// that acts on consent changes is the controller's (test/unit/controller/watches_test.cpp).
#include "stillontime/tenancy.h"

#include <doctest/doctest.h>

#include "unit/stillontime/helpers.h"

using namespace sot;
using namespace sot::stillontime;
using Json = nlohmann::json;
using sot::stillontime::test::namespace_object;

TEST_CASE("consent: the resource's own namespace needs none, whatever the policy") {
  TenancyPolicy closed;
  closed.cross_namespace = false;
  closed.operator_namespaces = {"ops"};
  for (const auto& policy : {TenancyPolicy{}, closed}) {
    auto none = check_target("a", "", nullptr, policy);
    CHECK(none.decision == TargetDecision::kOwnNamespace);
    CHECK(none.permitted());
    CHECK(none.reason().empty());
    auto same = check_target("a", "a", nullptr, policy);
    CHECK(same.decision == TargetDecision::kOwnNamespace);
    CHECK(same.permitted());
  }
  // A resource in kube-system or in the operator's namespace targeting its own namespace.
  CHECK(check_target("kube-system", "kube-system", nullptr, closed).permitted());
  CHECK(check_target("ops", "ops", nullptr, closed).permitted());
}

TEST_CASE("consent: the target's annotation listing the source namespace, or \"*\", permits") {
  const TenancyPolicy policy;
  const Json listed = namespace_object("b", "x, a ,y");
  auto ok = check_target("a", "b", &listed, policy);
  CHECK(ok.decision == TargetDecision::kAccepted);
  CHECK(ok.permitted());
  CHECK(ok.message.empty());
  const Json everyone = namespace_object("b", "*");
  CHECK(check_target("a", "b", &everyone, policy).decision == TargetDecision::kAccepted);
  CHECK(check_target("zz", "b", &everyone, policy).decision == TargetDecision::kAccepted);
}

TEST_CASE("consent: no annotation is no consent, and the message says what to add where") {
  const Json bare = namespace_object("b");
  auto refused = check_target("a", "b", &bare, TenancyPolicy{});
  CHECK(refused.decision == TargetDecision::kNotAccepted);
  CHECK_FALSE(refused.permitted());
  CHECK(refused.reason() == "TargetNamespaceNotPermitted");
  CHECK(refused.message ==
        "spec.targetNamespace: namespace b has not consented to children of StillOnTime resources in a; someone who "
        "may update namespace b consents with: kubectl annotate namespace b stillontime.app/accept-from=a");
}

TEST_CASE("consent: an annotation that lists other namespaces refuses, without telling which") {
  const Json others = namespace_object("b", "secret-team,c");
  auto refused = check_target("a", "b", &others, TenancyPolicy{});
  CHECK(refused.decision == TargetDecision::kNotAccepted);
  CHECK(refused.reason() == "TargetNamespaceNotPermitted");
  CHECK(refused.message.find("does not list a") != std::string::npos);
  CHECK(refused.message.find("adds a to that comma-separated list") != std::string::npos);
  CHECK(refused.message.find("secret-team") == std::string::npos);
  // Prefixes, case and look-alikes are not the source namespace.
  for (const char* value : {"ab", "A", "a*", "-a", "a.b", "", " , ", "b"}) {
    CAPTURE(value);
    const Json ns = namespace_object("b", value);
    CHECK(check_target("a", "b", &ns, TenancyPolicy{}).decision == TargetDecision::kNotAccepted);
  }
  // An annotation that is not a string (a hand-edited object) is no consent.
  Json odd = namespace_object("b");
  odd["metadata"]["annotations"][kAcceptFromAnnotation] = Json::array({"a"});
  CHECK(check_target("a", "b", &odd, TenancyPolicy{}).decision == TargetDecision::kNotAccepted);
}

TEST_CASE("consent: a target namespace that does not exist is Missing, with the annotation to create it with") {
  auto missing = check_target("a", "b", nullptr, TenancyPolicy{});
  CHECK(missing.decision == TargetDecision::kNamespaceMissing);
  CHECK_FALSE(missing.permitted());
  CHECK(missing.reason() == "TargetNamespaceMissing");
  CHECK(missing.message ==
        "spec.targetNamespace: namespace b does not exist; create it, with the annotation "
        "stillontime.app/accept-from=a, and the operator continues");
}

TEST_CASE("consent: --cross-namespace=false refuses every other namespace, even one that consents") {
  TenancyPolicy policy;
  policy.cross_namespace = false;
  const Json everyone = namespace_object("b", "*");
  auto refused = check_target("a", "b", &everyone, policy);
  CHECK(refused.decision == TargetDecision::kCrossNamespaceDisabled);
  CHECK(refused.reason() == "TargetNamespaceNotPermitted");
  CHECK(refused.message.find("--cross-namespace=false") != std::string::npos);
  // Decided from the policy alone: a missing namespace is not even looked for.
  CHECK(check_target("a", "b", nullptr, policy).decision == TargetDecision::kCrossNamespaceDisabled);
}

TEST_CASE("consent: system and operator namespaces are never targets, even with \"*\", unless allowed") {
  TenancyPolicy policy;
  policy.operator_namespaces = {"stillontime-system"};
  for (const char* target : {"kube-system", "kube-public", "kube-node-lease", "stillontime-system"}) {
    CAPTURE(target);
    const Json everyone = namespace_object(target, "*");
    auto refused = check_target("a", target, &everyone, policy);
    CHECK(refused.decision == TargetDecision::kNeverTarget);
    CHECK(refused.reason() == "TargetNamespaceNotPermitted");
    CHECK(refused.message.find("--allow-target-namespaces=" + std::string(target)) != std::string::npos);
    CHECK(check_target("a", target, nullptr, policy).decision == TargetDecision::kNeverTarget);
  }
  // Allowed: then it is a namespace like any other, and still needs consent.
  policy.allowed_targets = {"kube-system", "stillontime-system"};
  const Json bare = namespace_object("kube-system");
  CHECK(check_target("a", "kube-system", &bare, policy).decision == TargetDecision::kNotAccepted);
  const Json consenting = namespace_object("stillontime-system", "a");
  CHECK(check_target("a", "stillontime-system", &consenting, policy).decision == TargetDecision::kAccepted);
  // Allowing one does not allow the others.
  const Json everyone = namespace_object("kube-public", "*");
  CHECK(check_target("a", "kube-public", &everyone, policy).decision == TargetDecision::kNeverTarget);
}

TEST_CASE("accepted_sources: a comma-separated list of namespace names or \"*\"; anything else is ignored") {
  CHECK(accepted_sources(namespace_object("b")).empty());
  CHECK(accepted_sources(namespace_object("b", "a")) == std::set<std::string>{"a"});
  CHECK(accepted_sources(namespace_object("b", " a ,, c\t")) == std::set<std::string>{"a", "c"});
  CHECK(accepted_sources(namespace_object("b", "*")) == std::set<std::string>{"*"});
  CHECK(accepted_sources(namespace_object("b", "UPPER,a_b,a.b,ok-1")) == std::set<std::string>{"ok-1"});
  CHECK(accepted_sources(namespace_object("b", std::string(64, 'a'))).empty());
  CHECK(accepted_sources(Json::object()).empty());
  CHECK(accepted_sources(Json{{"metadata", "x"}}).empty());
  CHECK(accepted_sources(Json{{"metadata", {{"annotations", 3}}}}).empty());
}

TEST_CASE("tenancy flags: defaults, both spellings, and errors naming the flag") {
  std::vector<std::string> rest;
  auto d = parse_tenancy_flags({}, &rest);
  REQUIRE(d.ok());
  CHECK(d->cross_namespace);
  CHECK(d->allowed_targets.empty());

  rest.clear();
  auto p = parse_tenancy_flags(
      {"--leader-elect", "--cross-namespace=false", "--allow-target-namespaces", "kube-system,ops", "x"}, &rest);
  REQUIRE(p.ok());
  CHECK_FALSE(p->cross_namespace);
  CHECK(p->allowed_targets == std::set<std::string>{"kube-system", "ops"});
  CHECK(rest == std::vector<std::string>{"--leader-elect", "x"});
  auto alone = parse_tenancy_flags({"--cross-namespace", "--allow-target-namespaces=ops"}, nullptr);
  REQUIRE(alone.ok());
  CHECK(alone->cross_namespace);
  CHECK(alone->allowed_targets == std::set<std::string>{"ops"});

  auto bad_bool = parse_tenancy_flags({"--cross-namespace=no"}, &rest);
  REQUIRE_FALSE(bad_bool.ok());
  CHECK(bad_bool.error().message == "--cross-namespace: \"no\" is not true or false");
  auto bad_name = parse_tenancy_flags({"--allow-target-namespaces=kube-system,Kube_System"}, &rest);
  REQUIRE_FALSE(bad_name.ok());
  CHECK(bad_name.error().message == "--allow-target-namespaces: \"Kube_System\" is not a namespace name");
  auto no_value = parse_tenancy_flags({"--allow-target-namespaces"}, &rest);
  REQUIRE_FALSE(no_value.ok());
  CHECK(no_value.error().message == "--allow-target-namespaces needs a value");
  CHECK_FALSE(parse_tenancy_flags({"--unknown"}, nullptr).ok());
}
