// stillontime-operator: wires flags to components; no logic lives here.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "kube/client.h"
#include "kube/config.h"

namespace {

int usage() {
  std::cerr << "usage: stillontime-operator [run] [--kubeconfig PATH]\n"
               "       stillontime-operator version\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string command = "run";
  std::string kubeconfig;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "version" || arg == "run") {
      command = arg;
    } else if (arg == "--kubeconfig" && i + 1 < argc) {
      kubeconfig = argv[++i];
    } else if (arg.rfind("--kubeconfig=", 0) == 0) {
      kubeconfig = arg.substr(std::strlen("--kubeconfig="));
    } else {
      return usage();
    }
  }
  if (command == "version") {
    std::cout << "stillontime-operator " << STILLONTIME_VERSION << "\n";
    return 0;
  }
  auto cfg = sot::kube::load_default(kubeconfig);
  if (!cfg.ok()) {
    std::cerr << "stillontime-operator: " << cfg.error().message << "\n";
    return 1;
  }
  auto client = sot::kube::RestClient::create(*cfg);
  auto version = client->server_version();
  if (!version.ok()) {
    std::cerr << "stillontime-operator: " << version.error().to_string() << "\n";
    return 1;
  }
  std::cout << "connected to " << cfg->server << ", Kubernetes " << version->value("gitVersion", "?") << "\n";
  return 0;
}
