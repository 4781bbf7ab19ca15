// Runs build/bin/stillontime-operator as a child process for the e2e tests,
// with its log in a file and its metrics port read back from that log.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "kube/client.h"

namespace sot::e2e {

inline const kube::ResourceRef kStillOnTime{"stillontime.app", "v1alpha1", "stillontimes", "StillOnTime", true};

// The object, or null when it cannot be read.
kube::Json get_or_null(kube::KubeClient& c, const kube::ResourceRef& ref, const kube::ObjectKey& key);

// Sets every Deployment and StatefulSet labelled stillontime.app/owner=`owner`
// in `ns` ready through the status subresource, as a kubelet and the workload
// controllers would.
void make_workloads_ready(kube::KubeClient& c, const std::string& ns, const std::string& owner);

// Writes `status` through the status subresource (a kubelet's or a
// controller's part in tests without them).
void set_status(kube::KubeClient& c, const kube::ResourceRef& ref, const kube::ObjectKey& key,
                const kube::Json& status);
// RFC 3339 UTC, `seconds` ago.
std::string now_minus(int seconds);
// A finished Job's status: Complete (ok) or Failed, `seconds_ago`.
kube::Json job_status(bool ok, int seconds_ago);
// The Job's pod as a kubelet would leave it: Succeeded, its container
// terminated with `message`; labelled like the Job's pod template plus job-name.
void create_finished_pod(kube::KubeClient& c, const kube::Json& job, const std::string& message);

class OperatorProcess {
 public:
  explicit OperatorProcess(std::vector<std::string> extra_args = {});
  ~OperatorProcess();
  OperatorProcess(const OperatorProcess&) = delete;
  OperatorProcess& operator=(const OperatorProcess&) = delete;

  int metrics_port() const { return metrics_port_; }
  const std::string& log_path() const { return log_path_; }
  // GET /metrics as text ("" on failure).
  std::string metrics() const;
  // Sum of rest_client_requests_total for these methods.
  double requests(const std::vector<std::string>& methods) const;
  // Writes (POST, PUT, PATCH, DELETE) the operator has sent so far.
  double writes() const { return requests({"POST", "PUT", "PATCH", "DELETE"}); }
  void stop();

 private:
  pid_t pid_ = -1;
  int metrics_port_ = 0;
  std::string log_path_;
};

// The CRD installed and one operator (admin credentials) for the whole test
// binary, started on first use.
OperatorProcess& shared_operator();

}  // namespace sot::e2e
