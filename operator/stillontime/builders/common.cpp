// Shared pieces of child objects (see common.h).
#include "stillontime/builders/common.h"

namespace sot::stillontime {

using nlohmann::json;

GeneratedCredentials placeholder_credentials() {
  return {std::string(kPlaceholderMarker) + "-postgres-password", std::string(kPlaceholderMarker) + "-redis-password",
          std::string(kPlaceholderMarker) + "-jwt-secret-not-a-real-secret",
          std::string(kPlaceholderMarker) + "-grafana-admin-password"};
}

std::string child_name(const StillOnTime& r, std::string_view suffix) {
  return r.metadata.name + "-" + std::string(suffix);
}
std::string postgres_secret_name(const StillOnTime& r) {
  return child_name(r, "postgres-credentials");
}
std::string redis_secret_name(const StillOnTime& r) {
  return child_name(r, "redis-credentials");
}
std::string app_secret_name(const StillOnTime& r) {
  return child_name(r, "app-secrets");
}
std::string service_account_name(const StillOnTime& r) {
  return child_name(r, "app");
}
std::string grafana_secret_name(const StillOnTime& r) {
  return child_name(r, "grafana-admin");
}
std::string owner_label_value(const StillOnTime& r) {
  return r.metadata.ns + "." + r.metadata.name;
}

bool monitoring_on(const StillOnTime& r) {
  return r.spec.monitoring.enabled.value_or(false) || embedded_monitoring(r);
}
bool embedded_monitoring(const StillOnTime& r) {
  return r.spec.monitoring.embedded.value_or(false);
}

json labels(const StillOnTime& r, std::string_view component) {
  return {{kLabelName, kAppName},
          {kLabelInstance, r.metadata.name},
          {kLabelComponent, std::string(component)},
          {kLabelManagedBy, kManagedBy},
          {kLabelOwner, owner_label_value(r)}};
}

json selector_labels(const StillOnTime& r, std::string_view component) {
  return {{kLabelName, kAppName}, {kLabelInstance, r.metadata.name}, {kLabelComponent, std::string(component)}};
}

json instance_selector(const StillOnTime& r) {
  return {{kLabelName, kAppName}, {kLabelInstance, r.metadata.name}};
}

json owner_reference(const StillOnTime& r) {
  return {{"apiVersion", kApiVersion}, {"kind", kKind},      {"name", r.metadata.name},
          {"uid", r.metadata.uid},     {"controller", true}, {"blockOwnerDeletion", true}};
}

json object_meta(const StillOnTime& r, const std::string& name, std::string_view component) {
  json meta = {{"name", name}, {"namespace", r.target_namespace()}, {"labels", labels(r, component)}};
  if (!r.cross_namespace() && !r.metadata.uid.empty()) meta["ownerReferences"] = json::array({owner_reference(r)});
  return meta;
}

json restricted_pod_security_context(int uid) {
  return {{"runAsNonRoot", true},
          {"runAsUser", uid},
          {"runAsGroup", uid},
          {"fsGroup", uid},
          {"seccompProfile", {{"type", "RuntimeDefault"}}}};
}

json restricted_container_security_context() {
  return {{"allowPrivilegeEscalation", false},
          {"readOnlyRootFilesystem", true},
          {"runAsNonRoot", true},
          {"capabilities", {{"drop", json::array({"ALL"})}}},
          {"seccompProfile", {{"type", "RuntimeDefault"}}}};
}

std::string image_reference(const std::string& image, const std::string& version) {
  if (image.find('@') != std::string::npos) return image;
  const auto slash = image.rfind('/');
  const auto colon = image.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) return image;
  return image + ":" + version;
}

json container_port(const char* name, int port) {
  return {{"name", name}, {"containerPort", port}, {"protocol", "TCP"}};
}

}  // namespace sot::stillontime
