// A tiny operator for the runtime's e2e tests: a Manager with one controller
// whose reconciler stamps each ConfigMap of the watched namespace with the
// identity of the process that reconciled it. Leader-election tests run two of
// these against one API server and read the stamps and the Lease.
//
//   runtime_e2e_operator [manager flags] --port-file PATH
#include <fstream>
#include <iostream>

#include "runtime/manager.h"

using namespace sot;
using namespace sot::runtime;

namespace {

class StampReconciler final : public Reconciler {
 public:
  explicit StampReconciler(std::string identity) : identity_(std::move(identity)) {}
  ReconcileResult reconcile(const kube::ObjectKey& key, Context& ctx) override {
    const auto* cache = ctx.cache(kube::resources::config_maps());
    auto cm = cache->get(key);
    if (!cm) return ReconcileResult::done();
    const auto ann = (*cm)["metadata"].value("annotations", kube::Json::object());
    if (ann.value("e2e.stillontime.app/reconciled-by", "") == identity_) return ReconcileResult::done();
    auto r = ctx.client().merge_patch(
        kube::resources::config_maps(), key,
        {{"metadata", {{"annotations", {{"e2e.stillontime.app/reconciled-by", identity_}}}}}}, kube::PatchOptions{});
    if (!r.ok()) return ReconcileResult::failed(r.error());
    ctx.log().info("stamped");
    return ReconcileResult::done();
  }

 private:
  std::string identity_;
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::vector<std::string> rest;
  auto opts = parse_manager_flags(args, &rest);
  if (!opts.ok()) {
    std::cerr << "runtime_e2e_operator: " << opts.error().message << "\n";
    return 2;
  }
  opts->name = "runtime-e2e-operator";
  std::string port_file;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == "--port-file" && i + 1 < rest.size()) port_file = rest[++i];
  }
  auto mgr = Manager::create(*opts);
  if (!mgr.ok()) {
    std::cerr << "runtime_e2e_operator: " << mgr.error().message << "\n";
    return 1;
  }
  ControllerSpec spec;
  spec.name = "stamp";
  spec.primary = kube::resources::config_maps();
  (*mgr)->add_controller(std::move(spec), std::make_unique<StampReconciler>((*mgr)->identity()));
  std::thread announce([&] {
    // Ports are known once start() has bound them.
    for (int i = 0; i < 200 && ((*mgr)->metrics_port() == 0 || (*mgr)->health_port() == 0); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    if (!port_file.empty()) {
      std::ofstream out(port_file + ".tmp");
      out << (*mgr)->metrics_port() << " " << (*mgr)->health_port() << " " << (*mgr)->identity() << "\n";
      out.close();
      std::rename((port_file + ".tmp").c_str(), port_file.c_str());
    }
  });
  const int code = (*mgr)->run();
  announce.join();
  return code;
}
