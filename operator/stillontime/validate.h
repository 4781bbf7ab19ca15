// Everything the structural schema cannot check: relations between fields
// (HPA min <= max, requests <= limits, restore id with from), value syntaxes
// (cron, Kubernetes quantities, image references, host names) and name lengths
// so that every child name stays a valid DNS label. validate() runs on the
// defaulted resource and returns every problem; an empty list means "valid".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stillontime/spec.h"

namespace sot::stillontime {

// The longest resource name whose children stay valid: "N-postgres" is a
// StatefulSet name (its pods' controller-revision-hash label adds 11
// characters and must fit in 63), so N is at most 63 - 11 - 9 = 43.
inline constexpr std::size_t kMaxNameLength = 43;

std::vector<FieldError> validate(const StillOnTime& resource);

// Another StillOnTime's claim on a target namespace, as the reconciler sees it
// in its cache. Only an explicit spec.targetNamespace that differs from the
// resource's own namespace is a claim; the oldest claim (creationTimestamp,
// then namespace/name) wins and every later one is refused.
struct NamespaceClaim {
  std::string ns;
  std::string name;
  std::string creation_timestamp;
  std::string target_namespace;
};

NamespaceClaim claim_of(const StillOnTime& resource);

// An error on spec.targetNamespace when an older resource in `others` claims the
// same namespace (entries for `resource` itself are ignored).
std::optional<FieldError> check_namespace_claim(const StillOnTime& resource, const std::vector<NamespaceClaim>& others);

// Syntax checks, exposed for tests and for the status of other components.
// Each returns "" when valid, or a message.
std::string check_quantity(std::string_view quantity);
// A quantity's value (e.g. "512Mi" -> 536870912, "250m" -> 0.25); nullopt if it does not parse.
std::optional<long double> quantity_value(std::string_view quantity);
// Standard 5-field cron (minute hour day-of-month month day-of-week) with *,
// ranges, steps, lists and month/day names, or a macro (@daily, @hourly, ...),
// as Kubernetes' CronJob controller accepts it: parse_cron()'s message (cron.h).
std::string check_cron(std::string_view schedule);
std::string check_dns_label(std::string_view name);      // RFC 1123 label, 63 max
std::string check_dns_subdomain(std::string_view name);  // RFC 1123 subdomain, 253 max
std::string check_host(std::string_view host);           // Ingress host: subdomain, "*." prefix allowed
std::string check_image(std::string_view image);         // [registry/]path[:tag][@digest]
std::string check_image_tag(std::string_view tag);
std::string check_env_name(std::string_view name);

}  // namespace sot::stillontime
