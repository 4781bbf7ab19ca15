// KubeClient: the API-server operations the operator needs, as an interface so
// the runtime and the reconciler are unit-tested against fakes. RestClient is
// the real one: it builds paths and queries, adds credentials, maps answers to
// Results, and reads watches as streams.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/config.h"
#include "kube/resource.h"
#include "kube/result.h"
#include "kube/transport.h"
#include "kube/watch.h"

namespace sot::kube {

using Json = nlohmann::json;

// One served resource of a group version, from discovery.
struct ApiResource {
  std::string name;  // plural, or "deployments/status" for subresources
  std::string kind;
  bool namespaced = false;
  std::vector<std::string> verbs;
};

struct GroupVersion {
  std::string group;  // "" for core
  std::string version;
  bool preferred = false;
};

// Observes every request, for metrics. Called from the requesting thread.
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void observe(std::string_view method, int http_status, std::chrono::duration<double> elapsed) = 0;
};

class KubeClient {
 public:
  virtual ~KubeClient() = default;

  virtual Result<Json> get(const ResourceRef& ref, const ObjectKey& key) = 0;
  // One page; the caller follows metadata.continue (or use list_all).
  virtual Result<Json> list(const ResourceRef& ref, std::string_view ns, const ListOptions& opts) = 0;
  virtual Result<Json> create(const ResourceRef& ref, std::string_view ns, const Json& object) = 0;
  // Server-side apply (application/apply-patch+yaml).
  virtual Result<Json> apply(const ResourceRef& ref, const ObjectKey& key, const Json& object,
                             const ApplyOptions& opts) = 0;
  virtual Result<Json> merge_patch(const ResourceRef& ref, const ObjectKey& key, const Json& patch,
                                   const PatchOptions& opts) = 0;
  // PUT; the object's metadata.resourceVersion makes it conditional (Conflict if stale).
  virtual Result<Json> update(const ResourceRef& ref, const Json& object, const UpdateOptions& opts) = 0;
  virtual Status remove(const ResourceRef& ref, const ObjectKey& key, const DeleteOptions& opts) = 0;
  // Blocks while the watch runs, handing each event to `handler` as it arrives.
  // A 410 (or an ERROR event carrying 410 / Expired) ends it with Code::kGone.
  virtual Result<WatchEnd> watch(const ResourceRef& ref, std::string_view ns, const WatchOptions& opts,
                                 const WatchHandler& handler, Cancellation& cancel) = 0;

  virtual Result<std::vector<GroupVersion>> server_groups() = 0;
  virtual Result<std::vector<ApiResource>> server_resources(std::string_view group, std::string_view version) = 0;
  virtual Result<Json> server_version() = 0;
};

// Follows continue tokens until the list is complete; returns the items and the
// resourceVersion of the last page (the point to watch from).
struct ListAll {
  std::vector<Json> items;
  std::string resource_version;
};
Result<ListAll> list_all(KubeClient& client, const ResourceRef& ref, std::string_view ns, ListOptions opts);

class RestClient final : public KubeClient {
 public:
  RestClient(ClientConfig config, std::unique_ptr<HttpTransport> transport,
             std::shared_ptr<RequestObserver> observer = nullptr);

  // The usual construction: cpprestsdk transport.
  static std::unique_ptr<RestClient> create(const ClientConfig& config,
                                            std::shared_ptr<RequestObserver> observer = nullptr);

  Result<Json> get(const ResourceRef& ref, const ObjectKey& key) override;
  Result<Json> list(const ResourceRef& ref, std::string_view ns, const ListOptions& opts) override;
  Result<Json> create(const ResourceRef& ref, std::string_view ns, const Json& object) override;
  Result<Json> apply(const ResourceRef& ref, const ObjectKey& key, const Json& object,
                     const ApplyOptions& opts) override;
  Result<Json> merge_patch(const ResourceRef& ref, const ObjectKey& key, const Json& patch,
                           const PatchOptions& opts) override;
  Result<Json> update(const ResourceRef& ref, const Json& object, const UpdateOptions& opts) override;
  Status remove(const ResourceRef& ref, const ObjectKey& key, const DeleteOptions& opts) override;
  Result<WatchEnd> watch(const ResourceRef& ref, std::string_view ns, const WatchOptions& opts,
                         const WatchHandler& handler, Cancellation& cancel) override;
  Result<std::vector<GroupVersion>> server_groups() override;
  Result<std::vector<ApiResource>> server_resources(std::string_view group, std::string_view version) override;
  Result<Json> server_version() override;

  // A GET whose answer is not a Kubernetes object (pod logs, a Service's
  // proxy): any HTTP status comes back as a response; only transport
  // failures are Errors. `path_and_query` must already be URL-encoded.
  Result<HttpResponse> get_raw(const std::string& path_and_query,
                               std::chrono::milliseconds timeout = std::chrono::seconds(30));

  const std::string& host() const { return host_; }

 private:
  Result<Json> call(std::string method, std::string path_and_query, std::string content_type = {},
                    std::string body = {}, bool parse_answer = true);
  void add_auth(HttpRequest& req, const char* accept = "application/json");
  // `requested`, or the configured field manager when the options named none.
  const std::string& field_manager(const std::string& requested) const {
    return requested.empty() ? config_.field_manager : requested;
  }

  ClientConfig config_;
  std::unique_ptr<HttpTransport> transport_;
  std::shared_ptr<RequestObserver> observer_;
  std::string host_;

  std::mutex token_mu_;
  std::string file_token_;
  std::chrono::steady_clock::time_point token_read_{};
};

}  // namespace sot::kube
