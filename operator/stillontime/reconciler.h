// The StillOnTime reconciler: one level-based pass per key.
//
//   read the CR from the cache ─► being deleted? finalize (remove children
//   across namespaces, honour deletionPolicy) ─► parse, default, validate ─►
//   may it use the target namespace (tenancy.h: policy and the target's
//   consent) ─► claim the target namespace ─► paused? report only ─► read or draw the
//   credentials ─► desired_state() ─► apply what is not up to date (our own
//   hash + field check, never the server's no-op detection) ─► delete children
//   no longer desired ─► compute status ─► write it if it changed.
//
// A refused spec (invalid; a target namespace that is missing, not permitted
// or claimed) stops before any child is touched, and before anything in the
// target namespace is read, and reports Stalled=True naming the field.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kube/resource.h"
#include "runtime/controller.h"
#include "runtime/manager.h"
#include "stillontime/api_versions.h"
#include "stillontime/context.h"
#include "stillontime/tenancy.h"

namespace prometheus {
class Registry;
}

namespace sot::stillontime {

class BackupMetrics;

inline constexpr const char* kFinalizer = "stillontime.app/finalizer";
inline constexpr const char* kControllerName = "stillontime";

kube::ResourceRef stillontime_resource();

// Draws a random credential of `length` URL-safe characters.
using RandomSource = std::function<std::string(std::size_t length)>;
std::string secure_random(std::size_t length);

class StillOnTimeReconciler final : public runtime::Reconciler {
 public:
  // `registry`: where the backup metrics go (backup_status.h); null: none.
  // `tenancy`: which target namespaces a resource may use (tenancy.h).
  explicit StillOnTimeReconciler(ApiVersions api, RandomSource random = secure_random,
                                 prometheus::Registry* registry = nullptr, TenancyPolicy tenancy = {});
  ~StillOnTimeReconciler() override;
  runtime::ReconcileResult reconcile(const kube::ObjectKey& key, runtime::Context& ctx) override;

 private:
  // The informer delivers our own apply a moment later; until then the cache
  // still shows the child as it was before. Remembering what we applied over
  // which version keeps a burst of events from re-sending the same object; a
  // cache showing any other version (someone's edit) is judged as usual.
  struct Applied {
    std::string hash;
    std::string over_version;   // resourceVersion the cache showed; "" when absent
    std::chrono::steady_clock::time_point at;
  };
  // How long to wait before judging `child` again; nullopt: judge it now.
  std::optional<std::chrono::steady_clock::duration> echo_pending(const std::string& child, const std::string& hash,
                                                                  const std::string& cached_version);
  void remember_applied(const std::string& child, Applied applied);

  // May a resource in `source` use `target` (tenancy.h)? The target's
  // Namespace object comes from the informer cache: no request is sent.
  kube::Result<TargetPermission> permission(const std::string& source, const std::string& target,
                                            runtime::Context& ctx) const;

  // A child the API server refused for its size (etcd's request limit, the
  // server's body limit): the same object over the same live version is not
  // sent again for kRetryRefused — each try costs the server an apply of
  // megabytes — and the resource reports Stalled with `message` meanwhile.
  struct Refused {
    std::string hash;
    std::string over_version;
    std::string message;
    std::chrono::steady_clock::time_point at;
  };
  // The message of a standing refusal of exactly this object, else nullopt.
  std::optional<std::string> refused(const std::string& child, const std::string& hash, const std::string& cached_version);
  void remember_refused(const std::string& child, Refused refused);

  ApiVersions api_;
  RandomSource random_;
  TenancyPolicy tenancy_;
  std::mutex applied_mu_;
  std::map<std::string, Applied> applied_;
  std::map<std::string, Refused> refused_;
  std::unique_ptr<BackupMetrics> backup_metrics_;
};

// The controller registration for the manager: the CR plus every child kind,
// watched across namespaces by the managed-by label, and, while cross-namespace
// targets are allowed, the Namespaces (their consent annotation), each mapped
// to the resources that target it.
runtime::ControllerSpec controller_spec(const ApiVersions& api, const TenancyPolicy& tenancy = {});

// Every child kind the reconciler writes or reads from a cache.
std::vector<kube::ResourceRef> child_kinds(const ApiVersions& api);

// Discovery → the API versions to write (falls back to 1.20's on error).
ApiVersions discover_api_versions(kube::KubeClient& client);

}  // namespace sot::stillontime
