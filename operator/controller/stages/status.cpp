// Stage "status" (see status.h).
#include "controller/stages/status.h"

#include <algorithm>
#include <chrono>

#include "controller/common.h"
#include "stillontime/builders/common.h"
#include "stillontime/kinds.h"
#include "stillontime/status.h"

namespace sot::stillontime::stages {
namespace {

using runtime::ReconcileResult;
using Json = nlohmann::json;

// After writing, look again shortly: the server may answer a no-op apply
// without an event, and status should not keep saying "Applying".
constexpr auto kRecheckAfterWrites = std::chrono::seconds(1);

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
    if (too_large(r.error()))
      report_resource_too_large(ctx, cr, r.error());
    else
      ctx.log().warn("status write failed", {{"error", r.error().to_string()}});
    return r.error();
  }
  return std::nullopt;
}

// Phase and the Ready/Reconciling/Stalled conditions of a pass that went on to
// the children (or was paused).
void judge(const ReportInput& in, const Json& old, StatusInput& status, const Readiness& readiness) {
  const ApplyOutput& applied = in.applied;
  const std::int64_t generation = in.cr["metadata"].value("generation", std::int64_t{0});
  const bool paused = in.resource.spec.paused;
  if (applied.first_error && applied.first_error->code == kube::Code::kForbidden) {
    status.stalled = {true, "Forbidden", applied.first_error->message};
  } else if (applied.too_large_message) {
    status.stalled = {true, "ChildTooLarge", *applied.too_large_message};
  } else {
    status.stalled = {false, "NotStalled", ""};
  }
  status.ready = {readiness.all_ready, readiness.all_ready ? "AllComponentsReady" : "ComponentsNotReady",
                  readiness.message};
  if (paused) {
    status.phase = "Paused";
    status.reconciling = {false, "Paused", "spec.paused is true: children are not changed"};
  } else if (readiness.all_ready && applied.writes == 0 && !applied.first_error) {
    status.phase = "Ready";
    status.reconciling = {false, "ReconciliationComplete", "every child matches the spec"};
  } else {
    // Degraded: it was Ready for this generation and lost readiness without
    // any change of ours; anything else not ready yet is still Progressing.
    const std::string old_phase = old.value("phase", "");
    const bool was_ready = old_phase == "Ready" || old_phase == "Degraded";
    const bool same_generation = old.value("observedGeneration", std::int64_t{-1}) == generation;
    status.phase =
        was_ready && same_generation && applied.writes == 0 && !applied.first_error ? "Degraded" : "Progressing";
    // While components are not ready, the writes of this pass do not change
    // what status says: one status write per new state, not one per pass.
    if (applied.first_error) {
      status.reconciling = {true, "ApplyFailed", "apply failed: " + applied.first_error->message};
    } else if (!readiness.all_ready) {
      status.reconciling = {true, "WaitingForComponents", readiness.message};
    } else {
      status.reconciling = {true, "Applying", "applying " + std::to_string(applied.writes) + " changes to children"};
    }
  }
  if (applied.too_large_message && !paused && !applied.first_error) {
    // Nothing more happens until the spec changes: kstatus' Stalled, not Reconciling.
    status.reconciling = {false, "ChildTooLarge", "stalled: " + *applied.too_large_message};
  }
}

}  // namespace

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
      const bool current =
          st.value("observedGeneration", std::int64_t{0}) >= (*live)["metadata"].value("generation", std::int64_t{0});
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

ReconcileResult stall(const StallInput& in, runtime::Context& ctx) {
  const Json& cr = in.cr;
  StatusInput status;
  status.generation = cr["metadata"].value("generation", std::int64_t{0});
  const Json old = current_status(cr);
  status.phase = old.value("phase", "Pending");
  if (status.phase == "Ready") status.phase = "Degraded";
  status.version = old.value("version", "");
  status.target_namespace = old.value("targetNamespace", "");
  const Json old_components = old.value("components", Json::object());
  for (const auto& [name, c] : old_components.items()) {
    status.components[name] = {c.value("desired", 0), c.value("ready", 0), c.value("image", "")};
  }
  status.ready = {false, in.reason, in.message};
  status.reconciling = {false, in.reason, "stalled: " + in.message};
  status.stalled = {true, in.reason, in.message};
  const Json written = build_status(old, status, now_rfc3339());
  const bool changed = written != old;
  // A status too large to store is reported once (an Event); retrying it would not help.
  if (auto error = write_status(ctx, cr, written); error && !too_large(*error)) return ReconcileResult::failed(*error);
  if (changed && ctx.events() != nullptr) ctx.events()->warning(cr, in.reason, in.message);
  ctx.log().warn("stalled", {{"reason", in.reason}, {"message", in.message}});
  if (in.recheck) return ReconcileResult::after(*in.recheck);
  return ReconcileResult::done();
}

ReconcileResult report_status(const ReportInput& in, runtime::Context& ctx) {
  const Json& cr = in.cr;
  const ApplyOutput& applied = in.applied;
  StatusInput status;
  status.generation = cr["metadata"].value("generation", std::int64_t{0});
  status.version = in.resource.spec.version;
  status.target_namespace = in.resource.target_namespace();
  status.version_applied = !in.resource.spec.paused;  // status.versionHistory
  status.components = observe_components(in.desired, ctx);
  const Readiness readiness = readiness_of(status.components);
  const Json old = current_status(cr);
  judge(in, old, status, readiness);
  add_backup_conditions(in.backup, status);  // BackupHealthy; a failed restore stalls
  Json written = build_status(old, status, now_rfc3339());
  add_backup_status(in.backup, written);  // status.backup, status.restore, status.bootstrap
  report_backup(in.backup, ctx, cr, in.metrics);
  const bool ready_now = readiness.all_ready && !in.resource.spec.paused;
  const bool ready_before = old.value("phase", "") == "Ready";
  // A status refused for the resource's size is not sent again until the
  // resource changes: every pass would otherwise send it (and its Event). Any
  // other failed status write fails the pass, which is retried with backoff.
  std::optional<kube::Error> status_error;
  const std::string status_id = "status/" + runtime::key_of(cr).to_string();
  const std::string version = runtime::resource_version_of(cr);
  if (written != old && !in.memory.refused(status_id, "", version, ctx.clock().now())) {
    if (auto error = write_status(ctx, cr, written); error && too_large(*error)) {
      in.memory.remember_refused(status_id, "", version, error->message, ctx.clock().now());
    } else if (error) {
      status_error = error;
    }
    if (ctx.events() != nullptr) {
      if (ready_now && !ready_before) ctx.events()->normal(cr, "Ready", readiness.message);
      if (applied.first_error) ctx.events()->warning(cr, "ApplyFailed", applied.first_error->message);
      if (applied.too_large_message) ctx.events()->warning(cr, "ChildTooLarge", *applied.too_large_message);
    }
  }
  if (applied.writes > 0) ctx.log().info("reconciled", {{"writes", applied.writes}, {"phase", status.phase}});
  if (applied.first_error) return ReconcileResult::failed(*applied.first_error);
  if (status_error) return ReconcileResult::failed(*status_error);  // retried with backoff, never left stale
  if (applied.writes > 0) return ReconcileResult::after(kRecheckAfterWrites);
  if (applied.echo_recheck) return ReconcileResult::after(*applied.echo_recheck);
  if (applied.too_large_message) return ReconcileResult::after(kRetryRefused);
  return ReconcileResult::done();
}

}  // namespace sot::stillontime::stages
