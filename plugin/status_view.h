// `status`: what the plugin read from the cluster (a ClusterSnapshot) becomes
// one document (what `-o json|yaml` prints) and the text view people read.
// Both are pure functions of the snapshot and `now`, so the unit tests build
// snapshots by hand and check every mark.
//
// The children tree follows ownerReferences (a Deployment's pods through their
// ReplicaSet, a CronJob's Jobs and their pods). A child is marked when it
//   - is not ready (a workload short of ready or current replicas, a pod not
//     Ready, a failed Job, a claim whose volume is Lost),
//   - drifts: someone other than the operator (and the cluster's own
//     controllers) set fields of the spec of an object the operator applied
//     (an HPA's workload's replicas excepted: they are the HPA's), or a
//     backend/frontend runs another image tag than spec.version,
//   - is missing: the operator's desired set (desired_state() of the
//     defaulted spec) names it and the cluster does not have it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stillontime/api_versions.h"

namespace sot::plugin {

struct ClusterSnapshot {
  nlohmann::json resource;                           // the StillOnTime
  std::vector<nlohmann::json> children;              // labelled children, apiVersion and kind set
  std::vector<nlohmann::json> pods;                  // pods of the instance
  std::map<std::string, std::int64_t> backup_sizes;  // backup Job name -> dump size, from its pod's log
  std::vector<std::string> notes;                    // what could not be read, and why
  stillontime::ApiVersions api = stillontime::ApiVersions::latest();
};

// Managers whose fields in a child are the cluster's business, not drift.
const std::vector<std::string>& expected_managers();

nlohmann::json status_document(const ClusterSnapshot& snapshot, std::int64_t now);
std::string render_status(const nlohmann::json& document, std::int64_t now);

// The tree part alone (also in `report`).
std::string render_tree(const nlohmann::json& document);

// "app-backup-8f1c2d": size from a backup pod's log line "wrote NAME (N bytes)"; -1 when absent.
std::int64_t dump_size_from_log(const std::string& log);

}  // namespace sot::plugin
