#include "plugin/wait.h"

#include <optional>

#include "kube/json_fields.h"
#include "plugin/format.h"
#include "plugin/resource.h"

namespace sot::plugin {
namespace {

using kube::int_field;
using kube::object_field;
using kube::string_field;
using nlohmann::json;

std::int64_t observed(const json& cr) {
  return int_field(object_field(cr, "status"), "observedGeneration");
}

std::string ready_text(const json& cr) {
  const json& ready = condition(cr, "Ready");
  if (ready.empty()) return "Ready unknown";
  return "Ready=" + string_field(ready, "status") + " " + string_field(ready, "reason") + ": " +
         one_line(string_field(ready, "message"), 160);
}

// Stalled=True at (or after) `generation`: the operator cannot go on without a human.
std::optional<std::string> stalled(const json& cr, std::int64_t generation) {
  const json& s = condition(cr, "Stalled");
  if (string_field(s, "status") != "True" || int_field(s, "observedGeneration", observed(cr)) < generation)
    return std::nullopt;
  return "stalled (" + string_field(s, "reason") + "): " + one_line(string_field(s, "message"), 400);
}

}  // namespace

Progress judge_rollout(const json& cr, std::int64_t generation, const std::string& version) {
  const json& spec = object_field(cr, "spec");
  const json& st = object_field(cr, "status");
  if (string_field(spec, "version") != version) {
    return {Verdict::kFailed,
            "spec.version was changed to " + string_field(spec, "version") + " by someone else while waiting"};
  }
  if (kube::bool_field(spec, "paused")) {
    return {Verdict::kFailed, "spec.paused is true: the operator rolls " + version +
                                  " out after `kubectl stillontime resume`; not waiting"};
  }
  if (observed(cr) < generation) {
    return {Verdict::kWaiting, "waiting for the operator to observe generation " + std::to_string(generation) +
                                   " (observed " + std::to_string(observed(cr)) + ")"};
  }
  if (auto s = stalled(cr, generation)) return {Verdict::kFailed, *s};
  const std::string phase = string_field(st, "phase");
  const std::string line =
      "phase " + phase + ", version " + string_field(st, "version", "none") + ", " + ready_text(cr);
  if (string_field(st, "version") == version && phase == "Ready" && condition_status(cr, "Ready") == "True") {
    return {Verdict::kDone,
            version + " is Ready (" + one_line(string_field(condition(cr, "Ready"), "message"), 160) + ")"};
  }
  return {Verdict::kWaiting, line};
}

Progress judge_backup_request(const json& cr, const std::string& id) {
  const json& backup = object_field(object_field(cr, "status"), "backup");
  const json& req = object_field(backup, "lastRequest");
  if (string_field(req, "id") != id) return {Verdict::kWaiting, "waiting for the operator to take request " + id};
  const std::string phase = string_field(req, "phase");
  const std::string message = one_line(string_field(req, "message"), 400);
  const std::string job = string_field(req, "job");
  if (phase == "Succeeded") {
    const std::string file = string_field(backup, "lastBackup");
    return {Verdict::kDone, "backup " + id + " succeeded (job " + job + ")" + (file.empty() ? "" : ": " + file)};
  }
  if (phase == "Failed" || phase == "Skipped") {
    return {Verdict::kFailed,
            "backup " + id + " " + phase + (message.empty() ? "" : ": " + message) +
                (job.empty() || phase == "Skipped" ? "" : "; see `kubectl logs job/" + job + " -c backup`")};
  }
  return {Verdict::kWaiting, "backup " + id + ": " + (phase.empty() ? "Pending" : phase) + " (job " + job + ")"};
}

Progress judge_restore(const json& cr, const std::string& id) {
  const json& r = object_field(object_field(cr, "status"), "restore");
  if (string_field(r, "id") != id) {
    if (auto s = stalled(cr, int_field(object_field(cr, "metadata"), "generation"))) return {Verdict::kFailed, *s};
    return {Verdict::kWaiting, "waiting for the operator to start restore " + id};
  }
  const std::string phase = string_field(r, "phase");
  const std::string message = one_line(string_field(r, "message"), 600);
  if (phase == "Succeeded")
    return {Verdict::kDone, "restore " + id + " from " + string_field(r, "from") + " succeeded: " + message};
  if (phase == "Failed") return {Verdict::kFailed, "restore " + id + " failed: " + message};
  return {Verdict::kWaiting, "restore " + id + ": " + phase + ": " + message};
}

Progress judge_paused(const json& cr, std::int64_t generation, bool paused) {
  if (observed(cr) < generation) {
    return {Verdict::kWaiting, "waiting for the operator to observe generation " + std::to_string(generation)};
  }
  const std::string phase = string_field(object_field(cr, "status"), "phase");
  if (paused) {
    if (phase == "Paused") return {Verdict::kDone, "paused: the operator changes nothing until `resume`"};
    return {Verdict::kWaiting, "phase " + phase};
  }
  if (phase != "Paused") return {Verdict::kDone, "resumed: phase " + phase + ", " + ready_text(cr)};
  return {Verdict::kWaiting, "phase " + phase};
}

}  // namespace sot::plugin
