// How a Kubernetes resource is addressed: group/version/plural, namespace and name,
// and the query parameters of list, watch, apply and delete. Pure functions only,
// so URL building is unit-tested without a server.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sot::kube {

struct ResourceRef {
  std::string group;    // "" for the core group
  std::string version;  // "v1"
  std::string plural;   // "configmaps"
  std::string kind;     // "ConfigMap"
  bool namespaced = true;

  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  bool operator==(const ResourceRef&) const = default;
};

// Well-known resources the operator uses. Versions that vary between servers
// (CronJob, HPA, PDB) are chosen through discovery instead.
namespace resources {
ResourceRef config_maps();
ResourceRef secrets();
ResourceRef services();
ResourceRef namespaces();
ResourceRef events();
ResourceRef persistent_volume_claims();
ResourceRef service_accounts();
ResourceRef deployments();
ResourceRef stateful_sets();
ResourceRef jobs();
ResourceRef network_policies();
ResourceRef ingresses();
ResourceRef roles();
ResourceRef role_bindings();
ResourceRef leases();
ResourceRef custom_resource_definitions();
}  // namespace resources

struct ObjectKey {
  std::string ns;  // empty for cluster-scoped objects
  std::string name;
  bool operator==(const ObjectKey&) const = default;
  auto operator<=>(const ObjectKey&) const = default;
  std::string to_string() const { return ns.empty() ? name : ns + "/" + name; }
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::int64_t limit = 0;  // 0: no limit
  std::string continue_token;
  std::string resource_version;  // "" : most recent; "0": any (served from the watch cache)
};

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;
  int timeout_seconds = 300;  // the server ends the watch after this long
  bool allow_bookmarks = true;
};

enum class Propagation { kDefault, kForeground, kBackground, kOrphan };

struct DeleteOptions {
  Propagation propagation = Propagation::kDefault;
  std::string precondition_uid;
  std::string precondition_resource_version;
};

// field_manager "" in the options below: the client's ClientConfig::field_manager.
struct ApplyOptions {
  std::string field_manager;
  bool force = true;
  std::string subresource;  // "" or "status"
  // false: the caller does not read the answer, so it is not parsed (an
  // applied object comes back whole, managedFields included).
  bool want_object = true;
};

struct PatchOptions {
  std::string field_manager;
  std::string subresource;
};

struct UpdateOptions {
  std::string field_manager;
  std::string subresource;
};

// Percent-encodes a query parameter value or path segment (RFC 3986 unreserved kept).
std::string url_encode(std::string_view in);

// "/api/v1/namespaces/ns/configmaps" or "/apis/apps/v1/deployments" (ns empty = all namespaces).
std::string collection_path(const ResourceRef& ref, std::string_view ns);
// collection path + "/name" [+ "/subresource"].
std::string object_path(const ResourceRef& ref, const ObjectKey& key, std::string_view subresource = {});

// "?a=b&c=d" from ordered pairs (empty values are skipped); "" when nothing is set.
std::string query_string(const std::vector<std::pair<std::string, std::string>>& params);

std::string list_query(const ListOptions& opts);
std::string watch_query(const WatchOptions& opts);

}  // namespace sot::kube
