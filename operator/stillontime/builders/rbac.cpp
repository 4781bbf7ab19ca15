// The instance's ServiceAccount, Role and RoleBinding. stillontime-server never
// calls the Kubernetes API, so the least it needs is nothing: the Role has no
// rules and no pod mounts a token (automountServiceAccountToken: false). The
// objects exist so that an admin grants anything further in one obvious place.
#include "stillontime/builders/builders.h"

namespace sot::stillontime {

json build_service_account(const StillOnTime& r) {
  return {{"apiVersion", "v1"},
          {"kind", "ServiceAccount"},
          {"metadata", object_meta(r, service_account_name(r), kApp)},
          {"automountServiceAccountToken", false}};
}

json build_role(const StillOnTime& r) {
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "Role"},
          {"metadata", object_meta(r, service_account_name(r), kApp)},
          {"rules", json::array()}};
}

json build_role_binding(const StillOnTime& r) {
  return {
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "RoleBinding"},
      {"metadata", object_meta(r, service_account_name(r), kApp)},
      {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", service_account_name(r)}}},
      {"subjects",
       json::array(
           {{{"kind", "ServiceAccount"}, {"name", service_account_name(r)}, {"namespace", r.target_namespace()}}})}};
}

}  // namespace sot::stillontime
