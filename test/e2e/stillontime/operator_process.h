// Runs build/bin/stillontime-operator as a child process for the e2e tests,
// with its log in a file and its metrics port read back from that log; and
// gives the token user stillontime-operator exactly the RBAC of
// manifests/default (OperatorGrants).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

#include "e2e/support.h"
#include "kube/client.h"

namespace sot::e2e {

// The object, or null when it cannot be read.
kube::Json get_or_null(kube::KubeClient& c, const kube::ResourceRef& ref, const kube::ObjectKey& key);

// A StillOnTime named `name` in `ns`: development, version 1.0.0, then `spec`.
kube::Json stillontime(const std::string& ns, const std::string& name, const kube::Json& spec = kube::Json::object());

// The `field` ("status", "reason", "message") of condition `type`, "" when absent.
std::string condition_of(const kube::Json& cr, const std::string& type, const std::string& field = "status");

// Sets every Deployment and StatefulSet labelled stillontime.app/owner=`owner`
// in `ns` ready through the status subresource, as a kubelet and the workload
// controllers would.
void make_workloads_ready(kube::KubeClient& c, const std::string& ns, const std::string& owner);

// Sets the consent annotation stillontime.app/accept-from of namespace `ns` to
// `sources` (e.g. "a,b" or "*"); "" removes it.
void set_accept_from(kube::KubeClient& c, const std::string& ns, const std::string& sources);

// An RFC 3339 time `seconds` before now (UTC).
std::string now_minus(int seconds);

// A finished Job's status as the Job controller writes it: Complete (succeeded)
// or Failed (backoff limit), finished `seconds_ago`.
kube::Json job_status(bool ok, int seconds_ago);

// Writes `status` through the status subresource (a kubelet's or a
// controller's part in tests without them).
void set_status(kube::KubeClient& c, const kube::ResourceRef& ref, const kube::ObjectKey& key,
                const kube::Json& status);

// The Job's pod as a kubelet would leave it: Succeeded, its container
// terminated with `message`; labelled like the Job's pod template plus job-name.
void create_finished_pod(kube::KubeClient& c, const kube::Json& job, const std::string& message);

class OperatorProcess {
 public:
  // `env`: variables set for the operator on top of the test's (e.g. POD_NAMESPACE).
  explicit OperatorProcess(std::vector<std::string> extra_args = {}, std::map<std::string, std::string> env = {});
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
  // Sum of every sample of a counter or gauge whose line starts with
  // `name{` and holds each of `labels` (e.g. `code="500"`).
  double metric(const std::string& name, const std::vector<std::string>& labels = {}) const;
  // A field of /proc/PID/status in KiB ("VmRSS", "VmHWM"); 0 when gone.
  long memory_kib(const std::string& field) const;
  // CPU time (user + system) the process has used, in seconds.
  double cpu_seconds() const;
  // False once the process has exited (a crash shows here).
  bool running();
  // Waits until no write has been sent for `quiet` in a row, at most `timeout`;
  // true when that happened.
  bool comes_to_rest(std::chrono::seconds quiet, std::chrono::seconds timeout) const;
  void stop();

 private:
  pid_t pid_ = -1;
  int metrics_port_ = 0;
  std::string log_path_;
};

// Installs the CRD (once per test binary) and waits until it is served.
void install_crd();

// Deletes every StillOnTime in `ns` and waits until they are gone (their
// finalizers need a running operator): a test namespace then goes away whole.
void delete_stillontimes(kube::KubeClient& c, const std::string& ns);

// A test case's own namespace and an operator watching only that namespace
// (the CRD installed first): the writes, CPU and memory it reports are the case's.
struct IsolatedOperator {
  explicit IsolatedOperator(const std::string& prefix);
  bool crd_installed;
  TestNamespace ns;
  OperatorProcess op;
};

// The CRD installed and one operator (admin credentials) for the whole test
// binary, started on first use.
OperatorProcess& shared_operator();

// The namespace the manifests install the operator in (its Lease lives there).
inline constexpr const char* kOperatorNamespace = "stillontime-system";
// The kubeconfig user the operator runs as with OperatorGrants.
inline constexpr const char* kOperatorUser = "stillontime-operator";

// Renders manifests/default and applies its Namespace, CRD, ClusterRole and Role
// for real, plus bindings of both roles to the token user stillontime-operator
// (the manifests bind the ServiceAccount, which a test cannot authenticate as).
// Removes the bindings when it goes.
class OperatorGrants {
 public:
  OperatorGrants();
  ~OperatorGrants();
  OperatorGrants(const OperatorGrants&) = delete;
  OperatorGrants& operator=(const OperatorGrants&) = delete;

 private:
  std::vector<std::string> names_;
};

}  // namespace sot::e2e
