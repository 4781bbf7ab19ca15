// Shared pieces of the end-to-end tests: the control plane the fixture started,
// clients for its users, a namespace per test case, and a kubectl runner.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kube/client.h"
#include "kube/resource.h"

namespace sot::e2e {

// The resources the tests read and write, declared once. Kinds the operator
// writes come from its own list (kube::resources); the resource itself and the
// kinds only tests touch are spelled here.
inline const kube::ResourceRef kStillOnTime{"stillontime.app", "v1alpha1", "stillontimes", "StillOnTime", true};
inline const kube::ResourceRef kDeployment = kube::resources::deployments();
inline const kube::ResourceRef kStatefulSet = kube::resources::stateful_sets();
inline const kube::ResourceRef kService = kube::resources::services();
inline const kube::ResourceRef kIngress = kube::resources::ingresses();
inline const kube::ResourceRef kJob = kube::resources::jobs();
inline const kube::ResourceRef kConfigMap = kube::resources::config_maps();
inline const kube::ResourceRef kPersistentVolumeClaim = kube::resources::persistent_volume_claims();
inline const kube::ResourceRef kRole = kube::resources::roles();
inline const kube::ResourceRef kRoleBinding = kube::resources::role_bindings();
inline const kube::ResourceRef kPod{"", "v1", "pods", "Pod", true};
inline const kube::ResourceRef kEndpoints{"", "v1", "endpoints", "Endpoints", true};

struct ControlPlane {
  std::string dir;
  std::map<std::string, std::string> env;                      // DIR/env
  std::string kubeconfig(const std::string& user = "") const;  // "", "token", "nobody", "operator"
};

// The control plane of STILLONTIME_CP_DIR; aborts the test run when it is absent.
const ControlPlane& control_plane();

// The field manager of the test clients' writes.
inline constexpr const char* kFieldManager = "e2e-tests";
// A client for kubeconfig `user` (see ControlPlane::kubeconfig).
std::unique_ptr<kube::RestClient> client(const std::string& user = "");

// Creates a namespace named after the test case plus a random suffix; deletes it
// (in the background) when it goes out of scope.
class TestNamespace {
 public:
  explicit TestNamespace(const std::string& prefix);
  ~TestNamespace();
  TestNamespace(const TestNamespace&) = delete;
  TestNamespace& operator=(const TestNamespace&) = delete;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs a shell command (with KUBECONFIG set to the admin kubeconfig).
CommandResult run(const std::string& command);

// Polls `pred` every 50 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(10));

std::string random_suffix();

// The control plane's audit log (scripts/control-plane.sh: Metadata level,
// every request of user stillontime-operator and every request for a Secret),
// the events `keep` accepts, oldest first; only lines containing `needle` are
// parsed at all. Aborts the test when the control plane writes none (one
// started before it did: `scripts/control-plane.sh down`).
std::vector<kube::Json> audit_events(const std::function<bool(const kube::Json&)>& keep,
                                     const std::string& needle = "");
// The time now as the audit log writes it ("2026-01-02T03:04:05.123456Z"); the
// timestamps compare as strings.
std::string audit_now();

}  // namespace sot::e2e
