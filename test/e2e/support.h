// Shared pieces of the end-to-end tests: the control plane the fixture started,
// clients for its users, a namespace per test case, and a kubectl runner.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "kube/client.h"

namespace sot::e2e {

struct ControlPlane {
  std::string dir;
  std::map<std::string, std::string> env;   // DIR/env
  std::string kubeconfig(const std::string& user = "") const;  // "", "token", "nobody", "operator"
};

// The control plane of STILLONTIME_CP_DIR; aborts the test run when it is absent.
const ControlPlane& control_plane();

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
  std::string output;   // stdout and stderr together
};

// Runs a shell command (with KUBECONFIG set to the admin kubeconfig).
CommandResult run(const std::string& command);

// Polls `pred` every 50 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(10));

std::string random_suffix();

}  // namespace sot::e2e
