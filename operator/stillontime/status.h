// The StillOnTime status, computed from what the reconciler saw. Pure: the
// reconciler writes the result through the status subresource only when it
// differs from what the resource carries. Conditions follow metav1.Condition and kstatus:
//   Ready        True when every workload reports all its replicas ready
//   Reconciling  True while the operator is still bringing children to the spec
//   Stalled      True when it cannot go on without a human (invalid spec, a
//                claimed or missing target namespace, Forbidden)
// lastTransitionTime moves only when a condition's status changes.
//
// status.versionHistory records the versions the operator applied, newest
// first and at most kVersionHistoryLimit of them, each with when it was first
// applied, when it became Ready and when it was left for another. A rollback
// (`kubectl stillontime rollback`) reads it to find the last version that was
// Ready without guessing.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sot::stillontime {

struct ComponentStatus {
  int desired = 0;
  int ready = 0;
  std::string image;
  bool operator==(const ComponentStatus&) const = default;
};

// The CRD's maxLength of a condition message; longer messages are cut.
inline constexpr std::size_t kMaxConditionMessageBytes = 32768;

struct ConditionInput {
  bool status = false;
  std::string reason;
  std::string message;
};

struct StatusInput {
  std::int64_t generation = 0;
  std::string phase;  // Pending | Progressing | Ready | Degraded | Paused | Terminating
  std::string version;
  std::string target_namespace;
  std::map<std::string, ComponentStatus> components;
  ConditionInput ready;
  ConditionInput reconciling;
  ConditionInput stalled;
  // Extra conditions owned by other parts (BackupHealthy), passed through.
  std::vector<std::pair<std::string, ConditionInput>> extra;
  // True when this pass applied `version` to the children (not paused, not
  // stalled): only then does status.versionHistory move.
  bool version_applied = false;
};

inline constexpr std::size_t kVersionHistoryLimit = 10;

// status.versionHistory after a pass that applied `version`: a new entry
// (firstApplied `now`) when the newest one names another version, which then
// gets `left`; becameReady set once when `ready`. Entries that are not
// objects with a version are dropped; at most `limit` are kept.
nlohmann::json update_version_history(const nlohmann::json& old_history, const std::string& version, bool ready,
                                      const std::string& now, std::size_t limit = kVersionHistoryLimit);

// Builds the new status from `input`, keeping every condition's
// lastTransitionTime from `old_status` when its status did not change.
// `now` is RFC 3339 (UTC, seconds). Fields of `old_status` this function does
// not own (backup, restore) are kept. With `version_applied`, versionHistory
// follows `version` (Ready when phase is Ready and the Ready condition True).
nlohmann::json build_status(const nlohmann::json& old_status, const StatusInput& input, const std::string& now);

// Ready/Reconciling from the components: what phase and message they give.
struct Readiness {
  bool all_ready = false;
  std::string message;  // "backend 1/3 ready, postgres 0/1 ready" or "all 4 components ready"
};
Readiness readiness_of(const std::map<std::string, ComponentStatus>& components);

// RFC 3339 UTC, seconds precision, from seconds since the epoch.
std::string rfc3339(std::int64_t epoch_seconds);

}  // namespace sot::stillontime
