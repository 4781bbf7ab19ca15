#include "stillontime/reconciler.h"

#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "common/base64.h"
#include "runtime/owner.h"
#include "stillontime/backup_status.h"
#include "stillontime/builders/common.h"
#include "stillontime/defaults.h"
#include "stillontime/desired_state.h"
#include "stillontime/drift.h"
#include "stillontime/spec.h"
#include "stillontime/status.h"
#include "stillontime/validate.h"

namespace sot::stillontime {
namespace {

using runtime::ReconcileResult;
using Json = nlohmann::json;
using namespace std::chrono_literals;

constexpr auto kRecheckMissing = std::chrono::seconds(10);
// How long an apply of ours may take to come back through the watch.
constexpr auto kApplyEchoWindow = std::chrono::seconds(5);
// After writing, look again shortly: the server may answer a no-op apply
// without an event, and status should not keep saying "Applying".
constexpr auto kRecheckAfterWrites = std::chrono::seconds(1);
// Writes of one reconcile in flight at once.
constexpr std::size_t kApplyParallelism = 8;
// How long a child refused for its size is not sent again (unless it or the
// spec changes).
constexpr auto kRetryRefused = std::chrono::minutes(10);

std::string owner_value(const kube::ObjectKey& key) { return key.ns + "." + key.name; }

std::string owner_selector_text(const kube::ObjectKey& key) {
  return std::string(kLabelOwner) + "=" + owner_value(key);
}

// Wall-clock time for condition timestamps (the runtime's Clock is monotonic).
std::string now_rfc3339() {
  return rfc3339(std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count());
}

// The CR's spec, or an empty object when it has none (parse() reports that);
// const operator[] on a missing key is undefined behaviour in nlohmann::json.
const Json& spec_of(const Json& cr) {
  static const Json kEmpty = Json::object();
  auto it = cr.find("spec");
  return it != cr.end() && it->is_object() ? *it : kEmpty;
}

// Reads the CR's current status (object form).
Json current_status(const Json& cr) {
  auto it = cr.find("status");
  return it != cr.end() && it->is_object() ? *it : Json::object();
}

// The API server cannot store the object: etcd's request limit (1.5 MiB by
// default; the 1.20 server answers 500 "etcdserver: request is too large", or
// "ResourceExhausted ... larger than max" when its own gRPC limit of 2 MiB
// trips first) or its request body limit (413). The same object fails the same
// way every time.
bool too_large(const kube::Error& e) {
  return e.http_status == 413 || e.reason == "RequestEntityTooLarge" ||
         e.message.find("request is too large") != std::string::npos ||
         (e.message.find("ResourceExhausted") != std::string::npos &&
          e.message.find("larger than max") != std::string::npos);
}

// The spec field that holds most of the resource's bytes, for a message that
// says what to shorten: "spec.backend.env" for 20,000 env vars,
// "spec.backend.env[0].value" for one enormous value.
std::string largest_field(const Json& spec) {
  auto bytes = [](const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace).size(); };
  std::string path = "spec";
  const Json* at = &spec;
  std::size_t size = bytes(spec);
  while (at->is_structured() && !at->empty()) {
    const Json* best = nullptr;
    std::string step;
    std::size_t best_size = 0;
    if (at->is_object()) {
      for (const auto& [key, value] : at->items()) {
        if (const std::size_t n = bytes(value); n > best_size) best = &value, step = "." + key, best_size = n;
      }
    } else {
      for (std::size_t i = 0; i < at->size(); ++i) {
        if (const std::size_t n = bytes((*at)[i]); n > best_size) best = &(*at)[i], step = "[" + std::to_string(i) + "]", best_size = n;
      }
    }
    if (best == nullptr || best_size * 2 < size) break;   // no single part holds most of it
    path += step;
    at = best;
    size = best_size;
  }
  return path;
}

// The resource itself is as large as etcd stores: its status, or the
// finalizer, would make it larger and is refused. Nothing can be said on the
// resource, so it is said in a Warning Event (a separate object).
void report_resource_too_large(runtime::Context& ctx, const Json& cr, const kube::Error& error) {
  const std::string field = largest_field(spec_of(cr));
  const std::string message = field + ": this StillOnTime (" +
                              std::to_string(cr.dump(-1, ' ', false, Json::error_handler_t::replace).size()) +
                              " bytes of JSON) is as large as the API server stores; its status and finalizer do not fit (" +
                              error.message + "); make " + field + " smaller";
  ctx.log().warn("resource too large", {{"field", field}, {"error", error.to_string()}});
  if (ctx.events() != nullptr) ctx.events()->warning(cr, "ResourceTooLarge", message);
}

// Writes `status` through the status subresource when it differs from what the
// CR carries. Returns the error (logged, or reported when the resource is too
// large for it) when the write failed: the caller must retry the pass, or the
// status would stay stale until something else changes.
std::optional<kube::Error> write_status(runtime::Context& ctx, const Json& cr, const Json& status) {
  if (current_status(cr) == status) return std::nullopt;
  const auto key = runtime::key_of(cr);
  ctx.log().debug("writing status", {{"phase", status.value("phase", "")}});
  kube::PatchOptions opts;
  opts.subresource = "status";
  auto r = ctx.client().merge_patch(stillontime_resource(), key, {{"status", status}}, opts);
  if (!r.ok()) {
    if (too_large(r.error())) report_resource_too_large(ctx, cr, r.error());
    else ctx.log().warn("status write failed", {{"error", r.error().to_string()}});
    return r.error();
  }
  return std::nullopt;
}

// One decoded value of a Secret in the cache, "" when absent.
std::string secret_value(const Json* secret, const char* key) {
  if (secret == nullptr) return {};
  const Json& data = secret->value("data", Json::object());
  auto it = data.find(key);
  if (it == data.end() || !it->is_string()) return {};
  return common::base64_decode_lenient(it->get<std::string>()).value_or(std::string{});
}

// Components and their readiness, from the workloads we want and their cached state.
std::map<std::string, ComponentStatus> observe_components(const std::vector<DesiredObject>& desired,
                                                          runtime::Context& ctx) {
  std::map<std::string, ComponentStatus> out;
  for (const auto& d : desired) {
    if (d.ref.kind != "Deployment" && d.ref.kind != "StatefulSet") continue;
    const Json& meta = d.object["metadata"];
    const std::string component = meta["labels"].value(kLabelComponent, d.ref.kind);
    ComponentStatus c;
    const Json& containers = d.object["spec"]["template"]["spec"]["containers"];
    if (containers.is_array() && !containers.empty()) c.image = containers[0].value("image", "");
    c.desired = d.object["spec"].value("replicas", 1);
    const auto* cache = ctx.cache(d.ref);
    if (auto live = cache ? cache->get(d.key()) : nullptr) {
      // An HPA owns replicas once it runs: the live spec is the truth.
      c.desired = (*live)["spec"].value("replicas", c.desired);
      const Json& st = live->value("status", Json::object());
      const bool current = st.value("observedGeneration", std::int64_t{0}) >=
                           (*live)["metadata"].value("generation", std::int64_t{0});
      c.ready = current ? st.value("readyReplicas", 0) : 0;
      if (d.ref.kind == "Deployment" && current) {
        // A rollout is complete only when every replica runs the new template.
        c.ready = std::min(c.ready, st.value("updatedReplicas", 0));
      }
    }
    out[component] = c;
  }
  return out;
}

// The controller ownerReference of `object`, when it is not a StillOnTime:
// objects made by our children (a CronJob's Jobs) are theirs to manage.
bool owned_by_other_controller(const Json& object) {
  for (const auto& ref : object["metadata"].value("ownerReferences", Json::array())) {
    if (ref.value("controller", false) && ref.value("kind", "") != kKind) return true;
  }
  return false;
}

ReconcileResult stall(runtime::Context& ctx, const Json& cr, std::int64_t generation, const std::string& reason,
                      const std::string& message, std::optional<runtime::Duration> recheck = std::nullopt) {
  StatusInput in;
  in.generation = generation;
  const Json old = current_status(cr);
  in.phase = old.value("phase", "Pending");
  if (in.phase == "Ready") in.phase = "Degraded";
  in.version = old.value("version", "");
  in.target_namespace = old.value("targetNamespace", "");
  const Json old_components = old.value("components", Json::object());
  for (const auto& [name, c] : old_components.items()) {
    in.components[name] = {c.value("desired", 0), c.value("ready", 0), c.value("image", "")};
  }
  in.ready = {false, reason, message};
  in.reconciling = {false, reason, "stalled: " + message};
  in.stalled = {true, reason, message};
  const Json status = build_status(old, in, now_rfc3339());
  const bool changed = status != old;
  // A status too large to store is reported once (an Event); retrying it would not help.
  if (auto error = write_status(ctx, cr, status); error && !too_large(*error)) return ReconcileResult::failed(*error);
  if (changed && ctx.events() != nullptr) ctx.events()->warning(cr, reason, message);
  ctx.log().warn("stalled", {{"reason", reason}, {"message", message}});
  if (recheck) return ReconcileResult::after(*recheck);
  return ReconcileResult::done();
}

}  // namespace

kube::ResourceRef stillontime_resource() { return {kGroup, kVersion, kPlural, kKind, true}; }

std::string secure_random(std::size_t length) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  out.reserve(length);
  while (out.size() < length) {
    unsigned char buf[64];
    if (RAND_bytes(buf, sizeof buf) != 1) std::abort();  // no entropy: nothing safe to do
    for (unsigned char b : buf) {
      if (b < 248 && out.size() < length) out.push_back(kAlphabet[b % 62]);  // 248 = 4*62: no bias
    }
  }
  return out;
}

StillOnTimeReconciler::StillOnTimeReconciler(ApiVersions api, RandomSource random, prometheus::Registry* registry,
                                             TenancyPolicy tenancy)
    : api_(std::move(api)),
      random_(std::move(random)),
      tenancy_(std::move(tenancy)),
      backup_metrics_(registry != nullptr ? std::make_unique<BackupMetrics>(*registry) : nullptr) {}

StillOnTimeReconciler::~StillOnTimeReconciler() = default;

std::optional<std::chrono::steady_clock::duration> StillOnTimeReconciler::echo_pending(
    const std::string& child, const std::string& hash, const std::string& cached_version) {
  std::lock_guard lock(applied_mu_);
  auto it = applied_.find(child);
  if (it == applied_.end() || it->second.hash != hash || it->second.over_version != cached_version) return std::nullopt;
  const auto age = std::chrono::steady_clock::now() - it->second.at;
  if (age >= kApplyEchoWindow) return std::nullopt;
  return kApplyEchoWindow - age;
}

namespace {
// Keeps a map of one entry per child ever seen from growing: past 4,096
// entries, those older than `age` (no longer consulted) go.
template <typename Map>
void forget_old(Map& entries, std::chrono::steady_clock::duration age) {
  if (entries.size() <= 4096) return;
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(entries, [&](const auto& e) { return now - e.second.at >= age; });
}
}  // namespace

void StillOnTimeReconciler::remember_applied(const std::string& child, Applied applied) {
  std::lock_guard lock(applied_mu_);
  forget_old(applied_, kApplyEchoWindow);
  applied_[child] = std::move(applied);
  refused_.erase(child);
}

std::optional<std::string> StillOnTimeReconciler::refused(const std::string& child, const std::string& hash,
                                                         const std::string& cached_version) {
  std::lock_guard lock(applied_mu_);
  auto it = refused_.find(child);
  if (it == refused_.end() || it->second.hash != hash || it->second.over_version != cached_version) return std::nullopt;
  if (std::chrono::steady_clock::now() - it->second.at >= kRetryRefused) return std::nullopt;
  return it->second.message;
}

void StillOnTimeReconciler::remember_refused(const std::string& child, Refused refused) {
  std::lock_guard lock(applied_mu_);
  forget_old(refused_, kRetryRefused);
  refused_[child] = std::move(refused);
}

std::vector<kube::ResourceRef> child_kinds(const ApiVersions& api) {
  auto kinds = managed_kinds(api);
  kinds.push_back(resource_ref("v1", "Secret"));
  kinds.push_back(resource_ref("v1", "PersistentVolumeClaim"));
  return kinds;
}

std::string claimed_namespace(const Json& cr) {
  const auto meta = cr.find("metadata");
  const std::string own = meta != cr.end() && meta->is_object() ? meta->value("namespace", "") : "";
  const auto spec = cr.find("spec");
  if (spec == cr.end() || !spec->is_object()) return own;
  const auto target = spec->find("targetNamespace");
  return target != spec->end() && target->is_string() && !target->get_ref<const std::string&>().empty()
             ? target->get<std::string>()
             : own;
}

runtime::ControllerSpec controller_spec(const ApiVersions& api, const TenancyPolicy& tenancy) {
  runtime::ControllerSpec spec;
  spec.name = kControllerName;
  spec.primary = stillontime_resource();
  // A child set's echoes come over a few hundred milliseconds; edits by
  // others are put back a fifth of a second later than they would be.
  spec.owned_event_delay = std::chrono::milliseconds(1000);
  // Status is ours alone; its echo needs no pass (the resync and the recheck
  // after writes still come).
  spec.skip_status_only_updates = true;
  spec.primary_index = claimed_namespace;
  for (const auto& kind : child_kinds(api)) {
    runtime::OwnedResource owned;
    owned.resource = kind;
    owned.label_selector = std::string(kLabelManagedBy) + "=" + kManagedBy;
    owned.all_namespaces = true;  // children follow spec.targetNamespace
    spec.owns.push_back(std::move(owned));
  }
  if (tenancy.cross_namespace) {
    // Consent given or withdrawn (the target's annotation), or a target
    // namespace appearing: the resources targeting it look again at once.
    runtime::WatchedResource namespaces;
    namespaces.resource = kube::resources::namespaces();
    namespaces.map = [](const Json& ns, const runtime::CacheReader& primary) {
      std::vector<kube::ObjectKey> keys;
      const std::string name = ns.value("metadata", Json::object()).value("name", "");
      if (name.empty()) return keys;
      for (const auto& cr : primary.by_index(name)) {
        const auto key = runtime::key_of(*cr);
        if (key.ns != name) keys.push_back(key);
      }
      return keys;
    };
    spec.watches.push_back(std::move(namespaces));
  }
  return spec;
}

kube::Result<TargetPermission> StillOnTimeReconciler::permission(const std::string& source, const std::string& target,
                                                                 runtime::Context& ctx) const {
  runtime::ObjectPtr ns;
  if (!target.empty() && target != source && tenancy_.cross_namespace) {
    const auto* namespaces = ctx.cache(kube::resources::namespaces());
    if (namespaces == nullptr) {
      return kube::make_error(kube::Code::kInternal, "no Namespace informer: controller_spec() was given another tenancy policy");
    }
    ns = namespaces->get({"", target});
  }
  return check_target(source, target, ns.get(), tenancy_);
}

ApiVersions discover_api_versions(kube::KubeClient& client) {
  auto groups = client.server_groups();
  if (!groups.ok()) return ApiVersions::k8s_1_20();
  DiscoveredResources resources;
  for (const auto& gv_text : api_versions_of_interest()) {
    const auto slash = gv_text.find('/');
    const std::string group = slash == std::string::npos ? "" : gv_text.substr(0, slash);
    const std::string version = slash == std::string::npos ? gv_text : gv_text.substr(slash + 1);
    bool served = false;
    for (const auto& g : *groups) served = served || (g.group == group && g.version == version);
    if (!served) continue;
    auto list = client.server_resources(group, version);
    if (list.ok()) resources[gv_text] = *list;
  }
  return choose_api_versions(*groups, resources);
}

ReconcileResult StillOnTimeReconciler::reconcile(const kube::ObjectKey& key, runtime::Context& ctx) {
  const auto* crs = ctx.cache(stillontime_resource());
  runtime::ObjectPtr cr_ptr = crs != nullptr ? crs->get(key) : nullptr;
  if (!cr_ptr) return ReconcileResult::done();  // gone: owner references and the finalizer did the cleanup
  const Json& cr = *cr_ptr;
  const Json& meta = cr["metadata"];
  const std::int64_t generation = meta.value("generation", std::int64_t{0});
  const auto selector = runtime::LabelSelector::parse(owner_selector_text(key));

  // ---- deletion: remove what owner references cannot reach
  if (meta.contains("deletionTimestamp")) {
    const auto finalizers = meta.value("finalizers", Json::array());
    if (std::find(finalizers.begin(), finalizers.end(), kFinalizer) == finalizers.end()) return ReconcileResult::done();
    const std::string target = claimed_namespace(cr);
    const bool retain = spec_of(cr).value("deletionPolicy", "Retain") != "Delete";
    auto allowed = permission(key.ns, target, ctx);
    if (!allowed.ok()) return ReconcileResult::failed(allowed.error());
    if (!allowed->permitted() && allowed->decision != TargetDecision::kNamespaceMissing) {
      // Without the target's consent (withdrawn, or the operator's policy
      // changed) nothing there is touched, not even to clean up: what was made
      // stays, data included, for the target's owners to keep or remove.
      const std::string message = "children in namespace " + target + " were left as they are (" + allowed->message +
                                  "); remove them there with: kubectl delete -n " + target + " -l " +
                                  owner_selector_text(key) + " all,pvc,secrets,configmaps,networkpolicies,roles," +
                                  "rolebindings,serviceaccounts,poddisruptionbudgets,horizontalpodautoscalers,ingresses";
      ctx.log().warn("finalizing without touching the target namespace", {{"targetNamespace", target}});
      if (ctx.events() != nullptr) ctx.events()->warning(cr, "TargetNamespaceNotPermitted", message);
    }
    int pending = 0;
    for (const auto& kind : allowed->permitted() ? child_kinds(api_) : std::vector<kube::ResourceRef>{}) {
      if (retain && kind.kind == "PersistentVolumeClaim") continue;
      const auto* cache = ctx.cache(kind);
      if (cache == nullptr || !selector.ok()) continue;
      for (const auto& child : cache->list(target, &*selector)) {
        if (owned_by_other_controller(*child)) continue;
        if ((*child)["metadata"].contains("deletionTimestamp")) continue;
        kube::DeleteOptions del;
        del.propagation = kube::Propagation::kBackground;
        auto r = ctx.client().remove(kind, runtime::key_of(*child), del);
        if (!r.ok() && r.code() != kube::Code::kNotFound) {
          ctx.log().warn("delete failed", {{"kind", kind.kind}, {"error", r.error().to_string()}});
          ++pending;
        }
      }
    }
    if (pending > 0) return ReconcileResult::again();
    Json updated = cr;
    Json kept = Json::array();
    for (const auto& f : finalizers) {
      if (f != kFinalizer) kept.push_back(f);
    }
    updated["metadata"]["finalizers"] = kept;
    auto r = ctx.client().update(stillontime_resource(), updated, kube::UpdateOptions{});
    if (!r.ok() && r.code() != kube::Code::kNotFound) return ReconcileResult::failed(r.error());
    ctx.log().info("finalized", {{"targetNamespace", target}, {"retainedVolumes", retain}});
    return ReconcileResult::done();
  }

  // ---- parse, default, validate: a refused spec touches no child
  ParseResult parsed = parse(cr);
  if (!parsed.ok()) return stall(ctx, cr, generation, "InvalidSpec", join_errors(parsed.errors));
  StillOnTime resource = apply_defaults(std::move(parsed.resource));
  if (auto errors = validate(resource); !errors.empty()) {
    return stall(ctx, cr, generation, "InvalidSpec", join_errors(errors));
  }

  // May this resource use its target namespace at all? Decided from the
  // operator's policy and the target's Namespace object (a cache read) before
  // anything in that namespace is read or written.
  const std::string target = resource.target_namespace();
  auto allowed = permission(key.ns, target, ctx);
  if (!allowed.ok()) return ReconcileResult::failed(allowed.error());
  if (!allowed->permitted()) {
    return stall(ctx, cr, generation, allowed->reason(), allowed->message,
                 allowed->decision == TargetDecision::kNamespaceMissing ? std::optional(kRecheckMissing) : std::nullopt);
  }

  // Only resources claiming the same namespace matter: the cache's index
  // finds them without unpacking every resource on every pass. A claim the
  // target has not consented to does not count, or anyone could squat a
  // namespace by naming it first.
  std::vector<NamespaceClaim> claims;
  for (const auto& other : crs->by_index(claim_of(resource).target_namespace)) {
    const Json& om = (*other)["metadata"];
    if (om.value("namespace", "") == key.ns && om.value("name", "") == key.name) continue;
    if (om.contains("deletionTimestamp")) continue;
    const std::string other_ns = om.value("namespace", "");
    auto other_allowed = permission(other_ns, target, ctx);
    if (!other_allowed.ok() || !other_allowed->permitted()) continue;
    claims.push_back({other_ns, om.value("name", ""), om.value("creationTimestamp", ""), claimed_namespace(*other)});
  }
  if (auto claimed = check_namespace_claim(resource, claims)) {
    return stall(ctx, cr, generation, "TargetNamespaceClaimed", claimed->to_string());
  }

  // Children across namespaces, and data that must go with the resource, need
  // a finalizer: owner references cannot reach them.
  const bool needs_finalizer =
      resource.cross_namespace() || (resource.spec.deletion_policy && *resource.spec.deletion_policy == DeletionPolicy::kDelete);
  const auto finalizers = meta.value("finalizers", Json::array());
  const bool has_finalizer = std::find(finalizers.begin(), finalizers.end(), kFinalizer) != finalizers.end();
  if (needs_finalizer && !has_finalizer && !resource.spec.paused) {
    Json updated = cr;
    updated["metadata"]["finalizers"].push_back(kFinalizer);
    auto r = ctx.client().update(stillontime_resource(), updated, kube::UpdateOptions{});
    if (!r.ok() && too_large(r.error())) {
      // The same update fails the same way until the spec shrinks (an edit
      // brings the resource back at once).
      report_resource_too_large(ctx, cr, r.error());
      return ReconcileResult::after(kRetryRefused);
    }
    if (!r.ok()) return ReconcileResult::failed(r.error());
    return ReconcileResult::done();  // the update's watch event brings us back with the new object
  }

  // ---- credentials: read back what exists, draw only what is missing
  const auto* secrets = ctx.cache(resource_ref("v1", "Secret"));
  // The snapshots stay alive while we read them.
  auto pg = secrets ? secrets->get({target, postgres_secret_name(resource)}) : nullptr;
  auto rd = secrets ? secrets->get({target, redis_secret_name(resource)}) : nullptr;
  auto app = secrets ? secrets->get({target, app_secret_name(resource)}) : nullptr;
  // Grafana's password exists only with the embedded stack: no cache read and
  // no random draw on every pass of every other resource.
  const bool embedded = embedded_monitoring(resource);
  auto grafana = secrets && embedded ? secrets->get({target, grafana_secret_name(resource)}) : nullptr;
  BuildContext bctx;
  bctx.api = api_;
  bctx.credentials.postgres_password = secret_value(pg.get(), "POSTGRES_PASSWORD");
  bctx.credentials.redis_password = secret_value(rd.get(), "REDIS_PASSWORD");
  bctx.credentials.jwt_secret = secret_value(app.get(), "JWT_SECRET");
  bctx.credentials.grafana_admin_password = secret_value(grafana.get(), "admin-password");
  if (bctx.credentials.postgres_password.empty()) bctx.credentials.postgres_password = random_(32);
  if (bctx.credentials.redis_password.empty()) bctx.credentials.redis_password = random_(32);
  if (bctx.credentials.jwt_secret.empty()) bctx.credentials.jwt_secret = random_(64);
  if (embedded && bctx.credentials.grafana_admin_password.empty()) {
    bctx.credentials.grafana_admin_password = random_(32);
  }
  if (resource.spec.backend.secret_ref) {
    // Read only now, in a namespace this resource may use (the check above).
    // Its fingerprint goes only into the backend's checksum, which also hashes
    // the generated credentials: whoever can read the Deployment but not the
    // Secrets cannot test guesses of the Secret's contents against it.
    auto user_secret = ctx.client().get(resource_ref("v1", "Secret"), {target, resource.spec.backend.secret_ref->name});
    if (user_secret.code() == kube::Code::kNotFound) {
      return stall(ctx, cr, generation, "SecretMissing",
                   "spec.backend.secretRef.name: secret " + resource.spec.backend.secret_ref->name + " not found in " +
                       target,
                   kRecheckMissing);
    }
    if (!user_secret.ok()) return ReconcileResult::failed(user_secret.error());
    bctx.user_secret_fingerprint = content_hash(user_secret->value("data", Json::object()));
  }

  std::vector<DesiredObject> desired = desired_state(resource, bctx);
  // ---- backup and restore (backup_status.h): adds on-demand/restore/bootstrap
  // Jobs to `desired` and holds the backend at 0 replicas while a restore needs it.
  const BackupPlan backup = reconcile_backup(resource, cr, ctx, desired);

  // ---- apply what differs
  int writes = 0;
  std::optional<kube::Error> first_error;
  std::optional<std::string> too_large_message;   // a child the server cannot store
  std::optional<runtime::Duration> echo_recheck;
  std::set<std::pair<std::string, std::string>> wanted;  // kind/apiVersion + ns/name
  if (!resource.spec.paused) {
    // Decide first (cheap, from the caches), then send the writes a few at a
    // time: a child's apply is independent of its siblings', and the API
    // server answers several at once faster than one after another.
    struct Write {
      const DesiredObject* desired;
      Json body;
      bool create = false;
      std::string child_id;
      std::string hash;
      std::string over_version;
      std::optional<kube::Error> error;
    };
    std::vector<Write> to_send;
    std::optional<bool> current;
    std::optional<kube::Error> current_error;   // the fresh read failed (e.g. Forbidden): not a reason to poll
    auto cr_is_current = [&] {
      if (!current) {
        auto fresh = ctx.client().get(stillontime_resource(), key);
        if (!fresh.ok() && fresh.code() != kube::Code::kNotFound) current_error = fresh.error();
        current = fresh.ok() && runtime::resource_version_of(*fresh) == runtime::resource_version_of(cr);
      }
      return *current;
    };
    for (const auto& d : desired) {
      wanted.insert({d.ref.api_version() + "/" + d.ref.kind, d.key().to_string()});
      const auto* cache = ctx.cache(d.ref);
      runtime::ObjectPtr live = cache ? cache->get(d.key()) : nullptr;
      if (cache == nullptr) {
        auto got = ctx.client().get(d.ref, d.key());
        if (got.ok()) live = std::make_shared<const Json>(std::move(*got));
      }
      if (d.create_only) {
        if (live) continue;
        // A one-off Job (backup request, restore, bootstrap) runs once per id;
        // its record lives in status. Create it only when our copy of the
        // resource is the current one, or a status written a moment ago and
        // not yet in the cache would run it twice.
        if (d.ref.kind == "Job" && !cr_is_current()) {
          if (current_error) {
            // A failed read is an error (logged, backed off, Stalled when
            // Forbidden), not a stale cache to re-check five times a second.
            if (!first_error) first_error = current_error;
            continue;
          }
          const auto delay = std::chrono::duration_cast<runtime::Duration>(std::chrono::milliseconds(200));
          echo_recheck = echo_recheck ? std::min(*echo_recheck, delay) : delay;
          continue;
        }
        to_send.push_back({&d, d.object, true, {}, {}, {}, std::nullopt});
        continue;
      }
      Json stamped = stamp_applied_hash(d.object);
      if (up_to_date(live.get(), stamped)) continue;
      std::string child_id = d.ref.api_version() + "/" + d.ref.kind + "/" + d.key().to_string();
      std::string hash = stamped["metadata"]["annotations"][kAppliedHashAnnotation];
      std::string cached_version = live ? runtime::resource_version_of(*live) : std::string{};
      if (auto message = refused(child_id, hash, cached_version)) {
        if (!too_large_message) too_large_message = std::move(*message);
        continue;
      }
      if (auto wait = echo_pending(child_id, hash, cached_version)) {
        const auto delay = std::chrono::duration_cast<runtime::Duration>(*wait) + std::chrono::milliseconds(50);
        echo_recheck = echo_recheck ? std::min(*echo_recheck, delay) : delay;
        continue;
      }
      ctx.log().debug("applying", {{"kind", d.ref.kind}, {"child", d.key().to_string()}, {"exists", live != nullptr}});
      to_send.push_back({&d, std::move(stamped), false, std::move(child_id), std::move(hash), std::move(cached_version),
                         std::nullopt});
    }

    // Two waves: a RoleBinding is refused (NotFound) while the Role it names
    // does not exist yet, so bindings go after everything else.
    const auto binding_first = std::stable_partition(to_send.begin(), to_send.end(), [](const Write& w) {
      return w.desired->ref.kind != "RoleBinding";
    });
    std::size_t wave_end = static_cast<std::size_t>(binding_first - to_send.begin());
    std::atomic<std::size_t> next{0};
    auto sender = [&] {
      for (std::size_t i = next++; i < wave_end; i = next++) {
        Write& w = to_send[i];
        const DesiredObject& d = *w.desired;
        if (w.create) {
          auto r = ctx.client().create(d.ref, d.key().ns, w.body);
          if (!r.ok() && r.code() != kube::Code::kAlreadyExists) w.error = r.error();
        } else {
          kube::ApplyOptions opts;
          opts.want_object = false;
          auto r = ctx.client().apply(d.ref, d.key(), w.body, opts);
          if (!r.ok()) w.error = r.error();
        }
      }
    };
    auto send_wave = [&](std::size_t begin, std::size_t end) {
      next = begin;
      wave_end = end;
      const std::size_t n = end - begin;
      const std::size_t helpers = std::min<std::size_t>(kApplyParallelism, n) - (n == 0 ? 0 : 1);
      std::vector<std::thread> threads;
      for (std::size_t i = 0; i < helpers; ++i) threads.emplace_back(sender);
      sender();
      for (auto& t : threads) t.join();
    };
    const std::size_t bindings_at = wave_end;
    send_wave(0, bindings_at);
    send_wave(bindings_at, to_send.size());

    for (auto& w : to_send) {
      if (w.error && !w.create && too_large(*w.error)) {
        const std::string field = largest_field(spec_of(cr));
        std::string message = field + ": the " + w.desired->ref.kind + " " + w.desired->key().name + " made from it (" +
                              std::to_string(w.body.dump(-1, ' ', false, Json::error_handler_t::replace).size()) +
                              " bytes of JSON) is more than the API server stores (" + w.error->message + "); make " +
                              field + " smaller";
        ctx.log().warn("child too large", {{"kind", w.desired->ref.kind}, {"child", w.desired->key().to_string()},
                                           {"field", field}, {"error", w.error->to_string()}});
        remember_refused(w.child_id, {w.hash, w.over_version, message, std::chrono::steady_clock::now()});
        if (!too_large_message) too_large_message = std::move(message);
        continue;
      }
      if (w.error) {
        ctx.log().warn("apply failed", {{"kind", w.desired->ref.kind},
                                        {"child", w.desired->key().to_string()},
                                        {"error", w.error->to_string()}});
        if (!first_error) first_error = w.error;
        continue;
      }
      if (!w.create) remember_applied(w.child_id, {w.hash, w.over_version, std::chrono::steady_clock::now()});
      ++writes;
    }

    // ---- prune children that are no longer desired
    for (const auto& kind : managed_kinds(api_)) {
      const auto* cache = ctx.cache(kind);
      if (cache == nullptr || !selector.ok()) continue;
      // Keys first: only children that are not wanted are unpacked.
      for (const auto& ck : cache->list_keys(target, &*selector)) {
        if (wanted.count({kind.api_version() + "/" + kind.kind, ck.to_string()}) > 0) continue;
        const auto child = cache->get(ck);
        if (!child || owned_by_other_controller(*child)) continue;
        if ((*child)["metadata"].contains("deletionTimestamp")) continue;
        auto r = ctx.client().remove(kind, ck, kube::DeleteOptions{kube::Propagation::kBackground, {}, {}});
        if (!r.ok() && r.code() != kube::Code::kNotFound) {
          if (!first_error) first_error = r.error();
          continue;
        }
        ++writes;
        ctx.log().info("deleted child no longer desired", {{"kind", kind.kind}, {"child", ck.to_string()}});
      }
    }
  }

  // ---- status
  StatusInput in;
  in.generation = generation;
  in.version = resource.spec.version;
  in.target_namespace = target;
  in.version_applied = !resource.spec.paused;  // status.versionHistory
  in.components = observe_components(desired, ctx);
  const Readiness readiness = readiness_of(in.components);
  const Json old = current_status(cr);
  if (first_error && first_error->code == kube::Code::kForbidden) {
    in.stalled = {true, "Forbidden", first_error->message};
  } else if (too_large_message) {
    in.stalled = {true, "ChildTooLarge", *too_large_message};
  } else {
    in.stalled = {false, "NotStalled", ""};
  }
  in.ready = {readiness.all_ready, readiness.all_ready ? "AllComponentsReady" : "ComponentsNotReady", readiness.message};
  if (resource.spec.paused) {
    in.phase = "Paused";
    in.reconciling = {false, "Paused", "spec.paused is true: children are not changed"};
  } else if (readiness.all_ready && writes == 0 && !first_error) {
    in.phase = "Ready";
    in.reconciling = {false, "ReconciliationComplete", "every child matches the spec"};
  } else {
    // Degraded: it was Ready for this generation and lost readiness without
    // any change of ours; anything else not ready yet is still Progressing.
    const std::string old_phase = old.value("phase", "");
    const bool was_ready = old_phase == "Ready" || old_phase == "Degraded";
    const bool same_generation = old.value("observedGeneration", std::int64_t{-1}) == generation;
    in.phase = was_ready && same_generation && writes == 0 && !first_error ? "Degraded" : "Progressing";
    // While components are not ready, the writes of this pass do not change
    // what status says: one status write per new state, not one per pass.
    if (first_error) {
      in.reconciling = {true, "ApplyFailed", "apply failed: " + first_error->message};
    } else if (!readiness.all_ready) {
      in.reconciling = {true, "WaitingForComponents", readiness.message};
    } else {
      in.reconciling = {true, "Applying", "applying " + std::to_string(writes) + " changes to children"};
    }
  }
  if (too_large_message && !resource.spec.paused && !first_error) {
    // Nothing more happens until the spec changes: kstatus' Stalled, not Reconciling.
    in.reconciling = {false, "ChildTooLarge", "stalled: " + *too_large_message};
  }
  add_backup_conditions(backup, in);   // BackupHealthy; a failed restore stalls
  Json status = build_status(old, in, now_rfc3339());
  add_backup_status(backup, status);   // status.backup, status.restore, status.bootstrap
  report_backup(backup, ctx, cr, backup_metrics_.get());
  const bool ready_now = readiness.all_ready && !resource.spec.paused;
  const bool ready_before = old.value("phase", "") == "Ready";
  // A status refused for the resource's size is not sent again until the
  // resource changes: every pass would otherwise send it (and its Event). Any
  // other failed status write fails the pass, which is retried with backoff.
  std::optional<kube::Error> status_error;
  const std::string status_id = "status/" + key.to_string();
  if (status != old && !refused(status_id, "", runtime::resource_version_of(cr))) {
    if (auto error = write_status(ctx, cr, status); error && too_large(*error)) {
      remember_refused(status_id, {"", runtime::resource_version_of(cr), error->message, std::chrono::steady_clock::now()});
    } else if (error) {
      status_error = error;
    }
    if (ctx.events() != nullptr) {
      if (ready_now && !ready_before) ctx.events()->normal(cr, "Ready", readiness.message);
      if (first_error) ctx.events()->warning(cr, "ApplyFailed", first_error->message);
      if (too_large_message) ctx.events()->warning(cr, "ChildTooLarge", *too_large_message);
    }
  }
  if (writes > 0) ctx.log().info("reconciled", {{"writes", writes}, {"phase", in.phase}});
  if (first_error) return ReconcileResult::failed(*first_error);
  if (status_error) return ReconcileResult::failed(*status_error);   // retried with backoff, never left stale
  if (writes > 0) return ReconcileResult::after(kRecheckAfterWrites);
  if (echo_recheck) return ReconcileResult::after(*echo_recheck);
  if (too_large_message) return ReconcileResult::after(kRetryRefused);
  return ReconcileResult::done();
}

}  // namespace sot::stillontime
