// A cluster for the controller's unit tests: the in-memory API server
// (unit/runtime/fakes.h), caches filled from it before every pass the way the
// informers would have them, a fake clock and a fixed random source. A test
// puts objects in, runs one pass of the real reconciler, and reads back what
// was written (objects, the calls, the resource's status).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/reconciler.h"
#include "runtime/controller.h"
#include "runtime/logger.h"
#include "runtime/store.h"
#include "unit/runtime/fakes.h"

namespace sot::stillontime::test {

using Json = nlohmann::json;

class Cluster final : public runtime::CacheProvider {
 public:
  explicit Cluster(TenancyPolicy tenancy = {});

  // The resource `name` in `ns` with `spec` (metadata extras merged in).
  void put_resource(const std::string& ns, const std::string& name, const Json& spec,
                    const Json& metadata = Json::object());
  // A Namespace, optionally accepting resources from `accept_from` (the consent annotation).
  void put_namespace(const std::string& name, const std::string& accept_from = "");
  // Edits a stored object in place (a human's kubectl edit, a controller's status).
  void edit(const kube::ResourceRef& ref, const kube::ObjectKey& key, const std::function<void(Json&)>& change);

  // Moves the controller's clock (the echo window of our applies, refusals).
  void advance(runtime::Duration d) { clock_.advance(d); }

  // One pass of the reconciler over `ns/name`, with caches synced first.
  runtime::ReconcileResult reconcile(const std::string& ns, const std::string& name);

  // Writes (create, apply, update, patch, delete) since the last reconcile() began.
  int writes() const;
  // Writes to children only: everything but the resource's own status and finalizer.
  int child_writes() const;
  // Calls of `verb` ("create", "apply", "delete", ...) on `plural` since the last reconcile() began.
  int calls(const std::string& verb, const std::string& plural = {}) const;

  std::optional<Json> get(const kube::ResourceRef& ref, const kube::ObjectKey& key) const;
  std::optional<Json> get(const std::string& api_version, const std::string& kind, const kube::ObjectKey& key) const;
  Json resource(const std::string& ns, const std::string& name) const;
  // The status condition `type` of the resource ({} when absent).
  Json condition(const std::string& ns, const std::string& name, const std::string& type) const;
  // Names of the stored objects of `plural` in `ns`.
  std::vector<std::string> names(const kube::ResourceRef& ref, const std::string& ns);

  const runtime::CacheReader* cache_for(const kube::ResourceRef& resource) const override;

  sot::test::FakeKubeClient& api() { return api_; }
  const ApiVersions& versions() const { return versions_; }

 private:
  void sync();

  ApiVersions versions_ = ApiVersions::k8s_1_20();
  TenancyPolicy tenancy_;
  sot::test::FakeKubeClient api_;
  sot::test::FakeClock clock_;
  std::vector<kube::ResourceRef> kinds_;
  std::map<std::string, std::unique_ptr<runtime::Store>> caches_;  // by plural
  std::unique_ptr<StillOnTimeReconciler> reconciler_;
  std::size_t calls_before_ = 0;
};

}  // namespace sot::stillontime::test
