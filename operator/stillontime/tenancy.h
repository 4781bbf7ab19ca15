// Who may put children where. The operator holds cluster-wide write rights;
// whoever may create a StillOnTime in namespace A must not be able to borrow
// them to write into, or read Secrets of, a namespace B they have no rights
// over (the confused-deputy problem). So a resource in A may target B != A only
// when all of these hold:
//
//   1. the operator allows cross-namespace targets at all (--cross-namespace,
//      default true);
//   2. B is not a namespace that is never a target: kube-system, kube-public,
//      kube-node-lease and the operator's own namespace, unless the operator
//      was started with B in --allow-target-namespaces;
//   3. B consents: its Namespace object carries the annotation
//      stillontime.app/accept-from listing A (comma-separated) or "*".
//
// Consent lives on the Namespace object because only someone who may update
// that object (a cluster admin, or whom a cluster admin granted `patch` on
// that one namespace) can write it; the tenant of A cannot, and needs no new
// kind to ask for it. check_target() is a pure function of the two names, the
// target's Namespace object and the policy, so the reconciler, the claim check
// and the tests all decide the same way.
#pragma once

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/result.h"

namespace sot::stillontime {

inline constexpr const char* kAcceptFromAnnotation = "stillontime.app/accept-from";

// Namespaces that belong to the cluster itself.
inline const std::vector<std::string> kSystemNamespaces = {"kube-system", "kube-public", "kube-node-lease"};

struct TenancyPolicy {
  // --cross-namespace: false refuses every target outside the resource's own namespace.
  bool cross_namespace = true;
  // --allow-target-namespaces: namespaces of the never-target list that may
  // still be targets (with consent, like any other).
  std::set<std::string> allowed_targets;
  // Where the operator itself runs (its pod's namespace, the Lease's): never
  // targets unless allowed. kSystemNamespaces are always added.
  std::set<std::string> operator_namespaces;

  bool never_target(const std::string& ns) const;
};

enum class TargetDecision {
  kOwnNamespace,            // no targetNamespace, or it names the resource's own namespace
  kAccepted,                // the target's annotation lists the source namespace or "*"
  kCrossNamespaceDisabled,  // --cross-namespace=false
  kNeverTarget,             // a system or operator namespace, not in --allow-target-namespaces
  kNamespaceMissing,        // the target namespace does not exist (yet)
  kNotAccepted,             // it exists and has not consented to the source namespace
};

struct TargetPermission {
  TargetDecision decision = TargetDecision::kOwnNamespace;
  std::string message;  // "" when permitted; else what to add where

  bool permitted() const { return decision == TargetDecision::kOwnNamespace || decision == TargetDecision::kAccepted; }
  // The Stalled reason: TargetNamespaceMissing or TargetNamespaceNotPermitted.
  std::string reason() const;
};

// May a resource in `source` put children in `target`? `target_namespace` is the
// target's Namespace object (nullptr when it does not exist); it is looked at
// only after the policy alone allows the target.
TargetPermission check_target(const std::string& source, const std::string& target,
                              const nlohmann::json* target_namespace, const TenancyPolicy& policy);

// The source namespaces a Namespace object accepts ("*" for all), from its
// annotation; entries that are neither "*" nor a namespace name are ignored.
std::set<std::string> accepted_sources(const nlohmann::json& namespace_object);

// Parses --cross-namespace[=true|false] and --allow-target-namespaces a,b
// ("--flag value" or "--flag=value"); arguments it does not know go to `rest`
// in order. Every error names the flag.
kube::Result<TenancyPolicy> parse_tenancy_flags(const std::vector<std::string>& args, std::vector<std::string>* rest);
// The flags and their defaults, for --help.
std::string tenancy_flags_help();

}  // namespace sot::stillontime
