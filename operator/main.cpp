// stillontime-operator: parses the command line and wires the components.
//   stillontime-operator [run] [flags]      reconcile StillOnTime resources
//   stillontime-operator render -f CR.yaml  print every child, no cluster
//   stillontime-operator version
#include <cstdlib>
#include <iostream>
#include <malloc.h>
#include <memory>
#include <string>
#include <vector>

#include "controller/identity.h"
#include "controller/reconciler.h"
#include "kube/config.h"
#include "runtime/manager.h"
#include "stillontime/render.h"
#include "stillontime/tenancy.h"

namespace {

int usage(std::ostream& out, int code) {
  out << "usage: stillontime-operator [run] [flags]\n"
         "       stillontime-operator render -f CR.yaml [--api-versions 1.20|latest]\n"
         "       stillontime-operator version\n\n"
         "flags of run:\n"
      << sot::runtime::manager_flags_help() << sot::stillontime::tenancy_flags_help();
  return code;
}

int run(const std::vector<std::string>& args) {
  // Two malloc arenas instead of one per thread (cpprestsdk runs a pool of
  // them): freed list pages are reused instead of scattered, which keeps the
  // resident size near the cache's own size.
  mallopt(M_ARENA_MAX, 2);
  std::vector<std::string> rest;
  auto options = sot::runtime::parse_manager_flags(args, &rest);
  if (!options.ok()) {
    std::cerr << "stillontime-operator: " << options.error().message << "\n";
    return 2;
  }
  sot::stillontime::configure_runtime(*options);
  std::vector<std::string> unknown;
  auto tenancy = sot::stillontime::parse_tenancy_flags(rest, &unknown);
  if (!tenancy.ok()) {
    std::cerr << "stillontime-operator: " << tenancy.error().message << "\n";
    return 2;
  }
  if (!unknown.empty()) {
    std::cerr << "stillontime-operator: unknown argument " << unknown.front() << "\n";
    return usage(std::cerr, 2);
  }
  // The operator's own namespaces are never targets (unless allowed).
  for (const auto& ns : {sot::runtime::pod_namespace(), options->leader_election_namespace}) {
    if (!ns.empty()) tenancy->operator_namespaces.insert(ns);
  }
  // cpprestsdk loads the system trust store into every connection's TLS
  // context before our callback replaces it with the cluster's CA: about
  // 0.7 MB per connection, 10 MB for the watches, never used. When the
  // configuration names its CA, point OpenSSL's default paths at nothing.
  if (auto cfg = sot::kube::load_default(options->kubeconfig); cfg.ok() && !cfg->ca_pem.empty()) {
    setenv("SSL_CERT_FILE", "/dev/null", /*overwrite=*/1);
    setenv("SSL_CERT_DIR", "/nonexistent", /*overwrite=*/1);
  }
  auto manager = sot::runtime::Manager::create(std::move(options).value());
  if (!manager.ok()) {
    std::cerr << "stillontime-operator: " << manager.error().message << "\n";
    return 1;
  }
  auto& m = **manager;
  const auto api = sot::stillontime::discover_api_versions(m.client());
  m.logger().info("api versions chosen",
                  {{"cronjob", api.cronjob}, {"hpa", api.hpa}, {"pdb", api.pdb}, {"monitoring", api.monitoring}});
  const auto& policy = *tenancy;
  std::vector<std::string> allowed(policy.allowed_targets.begin(), policy.allowed_targets.end());
  std::vector<std::string> own(policy.operator_namespaces.begin(), policy.operator_namespaces.end());
  m.logger().info(
      "target namespaces",
      {{"crossNamespace", policy.cross_namespace}, {"allowTargetNamespaces", allowed}, {"operatorNamespaces", own}});
  m.add_controller(sot::stillontime::controller_spec(api, policy),
                   std::make_unique<sot::stillontime::StillOnTimeReconciler>(api, sot::stillontime::secure_random,
                                                                             &m.registry(), policy));
  return m.run();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h" || args[0] == "help")) return usage(std::cout, 0);
  if (!args.empty() && args[0] == "version") {
    std::cout << "stillontime-operator " << STILLONTIME_VERSION << "\n";
    return 0;
  }
  if (!args.empty() && args[0] == "render") {
    return sot::stillontime::render_command({args.begin() + 1, args.end()}, std::cout, std::cerr);
  }
  if (!args.empty() && args[0] == "run") args.erase(args.begin());
  return run(args);
}
