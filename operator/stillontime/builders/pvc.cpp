// The backend's logs and uploads claims. They carry an ownerReference only when
// deletionPolicy is Delete (and the resource is in the same namespace): with
// Retain the data outlives the resource, and the garbage collector must not
// take it.
#include "stillontime/builders/builders.h"

namespace sot::stillontime {

namespace {

json pvc(const StillOnTime& r, const std::string& name, const std::string& size) {
  const auto& st = r.spec.backend.storage;
  json meta = object_meta(r, name, kBackend);
  if (*r.spec.deletion_policy == DeletionPolicy::kRetain) meta.erase("ownerReferences");
  meta["annotations"][kDeletionPolicyAnnotation] = deletion_policy_name(*r.spec.deletion_policy);
  json spec = {{"accessModes", json::array({*st.access_mode})},
               {"volumeMode", "Filesystem"},
               {"resources", {{"requests", {{"storage", size}}}}}};
  if (st.storage_class_name) spec["storageClassName"] = *st.storage_class_name;
  return {{"apiVersion", "v1"},
          {"kind", "PersistentVolumeClaim"},
          {"metadata", std::move(meta)},
          {"spec", std::move(spec)}};
}

}  // namespace

json build_logs_pvc(const StillOnTime& r) {
  return pvc(r, child_name(r, "backend-logs"), *r.spec.backend.storage.logs);
}

json build_uploads_pvc(const StillOnTime& r) {
  return pvc(r, child_name(r, "backend-uploads"), *r.spec.backend.storage.uploads);
}

}  // namespace sot::stillontime
