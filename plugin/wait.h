// --wait: judging the resource after each change, until it is done, failed or
// --timeout runs out. One judge per command, each a pure function of the
// resource as the watch delivers it (unit-tested); Session::wait runs them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace sot::plugin {

enum class Verdict { kWaiting, kDone, kFailed };

struct Progress {
  Verdict verdict = Verdict::kWaiting;
  std::string line;  // what to print (progress, the result, or why it failed)
};

using Judge = std::function<Progress(const nlohmann::json& cr)>;

// deploy/rollback: the operator observed `generation`, status.version is
// `version`, phase Ready and Ready=True. Fails when it stalls at that
// generation, when spec.version moves on to something else, and when the
// resource is paused (nothing would roll out).
Progress judge_rollout(const nlohmann::json& cr, std::int64_t generation, const std::string& version);
// backup --wait: status.backup.lastRequest for `id` reaches Succeeded (done),
// Failed or Skipped (failed).
Progress judge_backup_request(const nlohmann::json& cr, const std::string& id);
// restore --wait: status.restore for `id` reaches Succeeded or Failed.
Progress judge_restore(const nlohmann::json& cr, const std::string& id);
// pause/resume --wait: the operator observed `generation`; paused: phase Paused.
Progress judge_paused(const nlohmann::json& cr, std::int64_t generation, bool paused);

}  // namespace sot::plugin
