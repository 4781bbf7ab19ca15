// The plugin's way to the cluster: one RestClient from the kubeconfig (the
// operator's loader: $KUBECONFIG, ~/.kube/config or in-cluster; TLS always
// verified), the namespace (-n, else the context's, else "default"), the
// resource with errors that say what exists instead, the snapshot `status`
// and `report` read, and --wait over a watch on the resource.
#pragma once

#include <chrono>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "kube/client.h"
#include "plugin/cli.h"
#include "plugin/status_view.h"
#include "plugin/wait.h"
#include "stillontime/api_versions.h"

namespace sot::plugin {

class Session {
 public:
  static kube::Result<std::unique_ptr<Session>> open(const Invocation& inv);
  Session(std::unique_ptr<kube::RestClient> client, std::string ns, std::string source);

  kube::RestClient& client() { return *client_; }
  const std::string& ns() const { return ns_; }

  // The StillOnTime `name` in ns(). NotFound says which ones exist there (or
  // elsewhere, or that the CRD is missing); Forbidden says what to ask for.
  kube::Result<nlohmann::json> get_resource(const std::string& name);
  // Names of the StillOnTimes in `ns` ("" = ns()), sorted; empty on any error.
  std::vector<std::string> resource_names(const std::string& ns);

  // Served API versions (discovery once).
  const stillontime::ApiVersions& api();
  // Everything `status` shows; `dump_sizes`: read the backup runs' pod logs for sizes.
  ClusterSnapshot snapshot(const nlohmann::json& cr, bool dump_sizes);

  // Watches the resource until `judge` says done (0) or failed (1), or
  // `timeout` passes (3). Progress lines go to `out`, the failure to `err`.
  int wait(const std::string& name, const Judge& judge, std::chrono::seconds timeout, std::ostream& out,
           std::ostream& err);

  // Wall-clock seconds since the epoch.
  static std::int64_t now();

 private:
  std::unique_ptr<kube::RestClient> client_;
  std::string ns_;
  std::string source_;
  std::optional<stillontime::ApiVersions> api_;
};

// Where the resource's children live: status.targetNamespace, spec.targetNamespace, its own namespace.
std::string target_namespace_of(const nlohmann::json& cr);
// A one-line message for an API error of `what` ("reading pods in ns x").
std::string api_error(const std::string& what, const kube::Error& error);

}  // namespace sot::plugin
