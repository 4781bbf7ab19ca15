#include "kube/resource.h"

#include <array>

namespace sot::kube {

namespace resources {
ResourceRef config_maps() {
  return {"", "v1", "configmaps", "ConfigMap", true};
}
ResourceRef secrets() {
  return {"", "v1", "secrets", "Secret", true};
}
ResourceRef services() {
  return {"", "v1", "services", "Service", true};
}
ResourceRef namespaces() {
  return {"", "v1", "namespaces", "Namespace", false};
}
ResourceRef events() {
  return {"", "v1", "events", "Event", true};
}
ResourceRef persistent_volume_claims() {
  return {"", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true};
}
ResourceRef service_accounts() {
  return {"", "v1", "serviceaccounts", "ServiceAccount", true};
}
ResourceRef deployments() {
  return {"apps", "v1", "deployments", "Deployment", true};
}
ResourceRef stateful_sets() {
  return {"apps", "v1", "statefulsets", "StatefulSet", true};
}
ResourceRef jobs() {
  return {"batch", "v1", "jobs", "Job", true};
}
ResourceRef network_policies() {
  return {"networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true};
}
ResourceRef ingresses() {
  return {"networking.k8s.io", "v1", "ingresses", "Ingress", true};
}
ResourceRef roles() {
  return {"rbac.authorization.k8s.io", "v1", "roles", "Role", true};
}
ResourceRef role_bindings() {
  return {"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true};
}
ResourceRef leases() {
  return {"coordination.k8s.io", "v1", "leases", "Lease", true};
}
ResourceRef custom_resource_definitions() {
  return {"apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false};
}
}  // namespace resources

std::string url_encode(std::string_view in) {
  static constexpr std::array<char, 16> kHex = {'0', '1', '2', '3', '4', '5', '6', '7',
                                                '8', '9', 'A', 'B', 'C', 'D', 'E', 'F'};
  std::string out;
  out.reserve(in.size());
  for (unsigned char c : in) {
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string collection_path(const ResourceRef& ref, std::string_view ns) {
  std::string path = ref.group.empty() ? "/api/" + ref.version : "/apis/" + ref.group + "/" + ref.version;
  if (ref.namespaced && !ns.empty()) {
    path += "/namespaces/";
    path += url_encode(ns);
  }
  path += "/";
  path += ref.plural;
  return path;
}

std::string object_path(const ResourceRef& ref, const ObjectKey& key, std::string_view subresource) {
  std::string path = collection_path(ref, key.ns) + "/" + url_encode(key.name);
  if (!subresource.empty()) {
    path += "/";
    path += subresource;
  }
  return path;
}

std::string query_string(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    out += out.empty() ? "?" : "&";
    out += k;
    out += "=";
    out += url_encode(v);
  }
  return out;
}

std::string list_query(const ListOptions& opts) {
  return query_string({
      {"labelSelector", opts.label_selector},
      {"fieldSelector", opts.field_selector},
      {"limit", opts.limit > 0 ? std::to_string(opts.limit) : std::string{}},
      {"continue", opts.continue_token},
      {"resourceVersion", opts.resource_version},
  });
}

std::string watch_query(const WatchOptions& opts) {
  return query_string({
      {"watch", "true"},
      {"labelSelector", opts.label_selector},
      {"fieldSelector", opts.field_selector},
      {"resourceVersion", opts.resource_version},
      {"allowWatchBookmarks", opts.allow_bookmarks ? "true" : ""},
      {"timeoutSeconds", opts.timeout_seconds > 0 ? std::to_string(opts.timeout_seconds) : std::string{}},
  });
}

}  // namespace sot::kube
