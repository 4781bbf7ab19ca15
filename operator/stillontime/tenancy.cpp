#include "stillontime/tenancy.h"

#include <algorithm>
#include <sstream>

#include "stillontime/validate.h"

namespace sot::stillontime {
namespace {

using Json = nlohmann::json;

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return {};
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

// Comma-separated namespace names; `flag` names the error's source.
kube::Result<std::set<std::string>> namespace_list(const std::string& text, const std::string& flag) {
  std::set<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = trim(item);
    if (item.empty()) continue;
    if (!check_dns_label(item).empty()) {
      return kube::make_error(kube::Code::kInvalid, flag + ": \"" + item + "\" is not a namespace name");
    }
    out.insert(item);
  }
  return out;
}

std::string consent_command(const std::string& source, const std::string& target) {
  return "kubectl annotate namespace " + target + " " + kAcceptFromAnnotation + "=" + source;
}

}  // namespace

bool TenancyPolicy::never_target(const std::string& ns) const {
  if (allowed_targets.count(ns) > 0) return false;
  return operator_namespaces.count(ns) > 0 ||
         std::find(kSystemNamespaces.begin(), kSystemNamespaces.end(), ns) != kSystemNamespaces.end();
}

std::string TargetPermission::reason() const {
  if (permitted()) return {};
  return decision == TargetDecision::kNamespaceMissing ? "TargetNamespaceMissing" : "TargetNamespaceNotPermitted";
}

std::set<std::string> accepted_sources(const Json& namespace_object) {
  std::set<std::string> out;
  const auto meta = namespace_object.find("metadata");
  if (meta == namespace_object.end() || !meta->is_object()) return out;
  const auto annotations = meta->find("annotations");
  if (annotations == meta->end() || !annotations->is_object()) return out;
  const auto value = annotations->find(kAcceptFromAnnotation);
  if (value == annotations->end() || !value->is_string()) return out;
  std::stringstream ss(value->get<std::string>());
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = trim(item);
    if (item == "*" || (!item.empty() && check_dns_label(item).empty())) out.insert(item);
  }
  return out;
}

TargetPermission check_target(const std::string& source, const std::string& target, const Json* target_namespace,
                              const TenancyPolicy& policy) {
  if (target.empty() || target == source) return {TargetDecision::kOwnNamespace, {}};
  if (!policy.cross_namespace) {
    return {TargetDecision::kCrossNamespaceDisabled,
            "spec.targetNamespace: this operator runs with --cross-namespace=false and puts children only in the "
            "resource's own namespace (" +
                source + "); remove spec.targetNamespace, or create the resource in " + target + " instead"};
  }
  if (policy.never_target(target)) {
    return {TargetDecision::kNeverTarget,
            "spec.targetNamespace: namespace " + target +
                " is never a target (it belongs to the cluster or to the operator); only an operator started with "
                "--allow-target-namespaces=" +
                target + " puts children there, and then only with " + target + "'s consent"};
  }
  if (target_namespace == nullptr) {
    return {TargetDecision::kNamespaceMissing,
            "spec.targetNamespace: namespace " + target + " does not exist; create it, with the annotation " +
                kAcceptFromAnnotation + "=" + source + ", and the operator continues"};
  }
  const auto accepted = accepted_sources(*target_namespace);
  if (accepted.count("*") > 0 || accepted.count(source) > 0) return {TargetDecision::kAccepted, {}};
  // The message never repeats the annotation's current value: the author of
  // the resource learns only that their namespace is not on the list.
  if (accepted.empty()) {
    return {TargetDecision::kNotAccepted, "spec.targetNamespace: namespace " + target +
                                              " has not consented to children of StillOnTime resources in " + source +
                                              "; someone who may update namespace " + target +
                                              " consents with: " + consent_command(source, target)};
  }
  return {TargetDecision::kNotAccepted, "spec.targetNamespace: namespace " + target +
                                            " does not accept StillOnTime resources from " + source +
                                            ": its annotation " + kAcceptFromAnnotation + " does not list " + source +
                                            "; someone who may update "
                                            "namespace " +
                                            target + " adds " + source + " to that comma-separated list"};
}

std::string tenancy_flags_help() {
  return "  --cross-namespace=true|false        allow spec.targetNamespace outside the resource's namespace, with the\n"
         "                                      target's consent (annotation stillontime.app/accept-from) (default "
         "true)\n"
         "  --allow-target-namespaces a,b       system or operator namespaces that may still be targets (default: "
         "none)\n";
}

kube::Result<TenancyPolicy> parse_tenancy_flags(const std::vector<std::string>& args, std::vector<std::string>* rest) {
  TenancyPolicy policy;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const auto eq = arg.find('=');
    const std::string name = arg.starts_with("--") ? arg.substr(0, eq) : std::string();
    if (name == "--cross-namespace") {
      const std::string value = eq == std::string::npos ? "true" : arg.substr(eq + 1);
      if (value != "true" && value != "false") {
        return kube::make_error(kube::Code::kInvalid, "--cross-namespace: \"" + value + "\" is not true or false");
      }
      policy.cross_namespace = value == "true";
    } else if (name == "--allow-target-namespaces") {
      std::string value;
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return kube::make_error(kube::Code::kInvalid, "--allow-target-namespaces needs a value");
      }
      auto list = namespace_list(value, "--allow-target-namespaces");
      if (!list.ok()) return list.error();
      policy.allowed_targets = std::move(*list);
    } else if (rest != nullptr) {
      rest->push_back(arg);
    } else {
      return kube::make_error(kube::Code::kInvalid, "unknown flag " + arg);
    }
  }
  return policy;
}

}  // namespace sot::stillontime
