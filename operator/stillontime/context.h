// What the builders need beyond the defaulted resource: the API versions the
// server serves, the generated credentials (made once by the controller, read
// back from the cluster afterwards), fingerprints of inputs that live outside
// the spec (the user's secretRef), so pod templates roll when they change, and
// the run plan (one-off Jobs, the backend held at zero) decided before any
// builder runs, so the builders make the final objects and nothing edits the
// desired set afterwards.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stillontime/api_versions.h"

namespace sot::stillontime {

// Random values for the generated Secrets. The reconciler draws them once
// (URL-safe characters: they also go into DATABASE_URL) and afterwards reads
// them back from the existing Secrets; builders never invent them.
struct GeneratedCredentials {
  std::string postgres_password;
  std::string redis_password;
  std::string jwt_secret;              // the server wants at least 32 bytes
  std::string grafana_admin_password;  // spec.monitoring.embedded: Grafana's admin user
};

// Stand-ins for `render`: clearly not secrets, long enough for the server's checks.
GeneratedCredentials placeholder_credentials();
inline constexpr const char* kPlaceholderMarker = "GENERATED-AT-APPLY-TIME";

// What the controller's plan stage decided from the cluster's state (backup
// requests, the restore state machine, the bootstrap): which one-off Jobs
// exist in the desired set, and whether the backend must not run.
struct RunPlan {
  // Backup-request, restore and bootstrap Jobs: created when missing, never
  // applied over (each runs once per id), kept while they exist.
  std::vector<nlohmann::json> jobs;
  // A restore or bootstrap needs the database to itself: the backend
  // Deployment asks for 0 replicas and its HPA is not built.
  bool hold_backend = false;
};

struct BuildContext {
  ApiVersions api = ApiVersions::latest();
  GeneratedCredentials credentials = placeholder_credentials();
  // A fingerprint of the user's spec.backend.secretRef Secret (e.g. a hash of
  // its data); "" when unknown. Part of the backend's checksum.
  std::string user_secret_fingerprint;
  // component -> checksum stamped on that component's pod template. Filled by
  // desired_state() from the Secrets and ConfigMaps it has built; tests may set it directly.
  std::map<std::string, std::string> checksums;
  RunPlan plan;

  std::string checksum(const std::string& component) const {
    auto it = checksums.find(component);
    return it == checksums.end() ? std::string() : it->second;
  }
};

}  // namespace sot::stillontime
