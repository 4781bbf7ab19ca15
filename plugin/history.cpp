#include "plugin/history.h"

#include "kube/json_fields.h"

namespace sot::plugin {

kube::Result<std::string> choose_rollback(const nlohmann::json& history, const std::string& current,
                                          const std::string& to) {
  using kube::Code;
  using kube::make_error;
  using kube::string_field;
  std::string listed;  // "1.2.0 (Ready), 1.1.0 (never Ready)" for messages
  const nlohmann::json* pick = nullptr;
  const nlohmann::json* named = nullptr;
  const nlohmann::json entries = history.is_array() ? history : nlohmann::json::array();
  for (const auto& e : entries) {
    const std::string v = string_field(e, "version");
    if (v.empty()) continue;
    const bool was_ready = !string_field(e, "becameReady").empty();
    listed += (listed.empty() ? "" : ", ") + v + (was_ready ? " (was Ready)" : " (never Ready)");
    if (!to.empty() && v == to && named == nullptr) named = &e;
    if (to.empty() && pick == nullptr && v != current && was_ready) pick = &e;
  }
  if (listed.empty()) {
    return make_error(Code::kNotFound,
                      "status.versionHistory is empty: the operator records versions as it applies them (this needs an "
                      "operator that writes versionHistory); deploy a known version with `deploy --version V`");
  }
  if (!to.empty()) {
    if (to == current) return make_error(Code::kInvalid, "spec.version is already " + to);
    if (named == nullptr) {
      return make_error(Code::kNotFound, to + " is not in status.versionHistory (" + listed +
                                             "); to deploy it anyway use `deploy --version " + to + "`");
    }
    if (string_field(*named, "becameReady").empty()) {
      return make_error(Code::kInvalid,
                        to + " was applied at " + string_field(*named, "firstApplied", "an unknown time") +
                            " but never became Ready; to deploy it anyway use `deploy --version " + to + "`");
    }
    return to;
  }
  if (pick == nullptr) {
    return make_error(Code::kNotFound, "no version other than " + current + " became Ready in status.versionHistory (" +
                                           listed + "); name one with --to, or use `deploy --version V`");
  }
  return string_field(*pick, "version");
}

}  // namespace sot::plugin
