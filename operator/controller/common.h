// What several stages of a reconcile pass share: reading the raw resource,
// recognising a refusal for size, and naming the children of one resource.
// No state: every function here reads only its arguments.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "kube/resource.h"
#include "kube/result.h"
#include "runtime/controller.h"

namespace sot::stillontime {

// A target namespace or a user's Secret that does not exist yet is looked for
// again this often (its appearance may bring no event for the resource).
inline constexpr auto kRecheckMissing = std::chrono::seconds(10);

// The CR's spec, or an empty object when it has none (parse() reports that);
// const operator[] on a missing key is undefined behaviour in nlohmann::json.
const nlohmann::json& spec_of(const nlohmann::json& cr);

// The CR's current status (object form; {} when none).
nlohmann::json current_status(const nlohmann::json& cr);

// Wall-clock time for condition timestamps (the runtime's Clock is monotonic).
std::string now_rfc3339();

// The label selector of one resource's children: stillontime.app/owner=<ns>.<name>.
std::string owner_selector_text(const kube::ObjectKey& key);

// A child made by one of our children (a CronJob's Job): theirs to manage.
bool owned_by_other_controller(const nlohmann::json& object);

// The API server cannot store the object: etcd's request limit (1.5 MiB by
// default; the 1.20 server answers 500 "etcdserver: request is too large", or
// "ResourceExhausted ... larger than max" when its own gRPC limit of 2 MiB
// trips first) or its request body limit (413). The same object fails the same
// way every time.
bool too_large(const kube::Error& e);

// The spec field that holds most of the resource's bytes, for a message that
// says what to shorten: "spec.backend.env" for 20,000 env vars,
// "spec.backend.env[0].value" for one enormous value.
std::string largest_field(const nlohmann::json& spec);

// The resource itself is as large as etcd stores: its status, or the
// finalizer, would make it larger and is refused. Nothing can be said on the
// resource, so it is said in a Warning Event (a separate object).
void report_resource_too_large(runtime::Context& ctx, const nlohmann::json& cr, const kube::Error& error);

}  // namespace sot::stillontime
