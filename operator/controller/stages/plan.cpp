// Stage "plan" (see plan.h).
#include "controller/stages/plan.h"

#include <chrono>

#include "kube/text.h"
#include "stillontime/builders/backup.h"
#include "stillontime/builders/common.h"

namespace sot::stillontime::stages {
namespace {

using Json = nlohmann::json;

// The newest termination message of the pods of `job` ("" when none can be read).
std::string pod_message(runtime::Context& ctx, const std::string& ns, const std::string& job) {
  kube::ListOptions lo;
  lo.label_selector = "job-name=" + job;
  auto pods = ctx.client().list(kube::ResourceRef{"", "v1", "pods", "Pod", true}, ns, lo);
  if (!pods.ok()) {
    ctx.log().warn("cannot read the pods of a backup job", {{"job", job}, {"error", pods.error().to_string()}});
    return {};
  }
  std::string newest_time, message;
  for (const auto& pod : (*pods)["items"]) {
    const Json& st = pod.value("status", Json::object());
    for (const auto& cs : st.value("containerStatuses", Json::array())) {
      const Json& term = cs.value("state", Json::object()).value("terminated", Json::object());
      const std::string msg = term.value("message", "");
      const std::string at = term.value("finishedAt", "");
      if (!msg.empty() && at >= newest_time) {
        newest_time = at;
        message = msg;
      }
    }
  }
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return kube::tail_utf8(message, 1024);
}

// The cached object of `ref` at `key`, null when absent or not watched.
Json cached(runtime::Context& ctx, const kube::ResourceRef& ref, const kube::ObjectKey& key) {
  const auto* cache = ctx.cache(ref);
  if (cache == nullptr) return nullptr;
  auto live = cache->get(key);
  return live ? *live : Json();
}

}  // namespace

PlanOutput plan(const PlanInput& in, runtime::Context& ctx) {
  const StillOnTime& r = in.resource;
  const std::string ns = r.target_namespace();
  BackupInputs inputs;
  inputs.resource = &r;
  inputs.cr = in.cr;
  inputs.now = std::chrono::duration_cast<std::chrono::seconds>(ctx.clock().wall_now().time_since_epoch()).count();
  const auto selector = runtime::LabelSelector::parse(std::string(kLabelOwner) + "=" + owner_label_value(r));
  if (const auto* jobs = ctx.cache(kube::resources::jobs()); jobs != nullptr && selector.ok()) {
    for (const auto& j : jobs->list(ns, &*selector)) inputs.jobs.push_back(*j);
  }
  inputs.backend = cached(ctx, resource_ref("apps/v1", "Deployment"), {ns, child_name(r, kBackend)});
  // The CronJob exists only while scheduled backups are on (builders/backup.cpp).
  if (r.spec.backup.enabled.value_or(false)) {
    inputs.cronjob = cached(ctx, resource_ref(in.api.cronjob, "CronJob"), {ns, backup_cronjob_name(r)});
  }
  inputs.pod_message = [&ctx, ns](const std::string& job) { return pod_message(ctx, ns, job); };

  PlanOutput out;
  out.backup = plan_backup(inputs);
  out.run.jobs = out.backup.jobs;
  out.run.hold_backend = out.backup.hold_backend;
  return out;
}

}  // namespace sot::stillontime::stages
