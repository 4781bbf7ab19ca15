// Deciding "unchanged" ourselves instead of trusting the server's no-op
// detection: on the 1.20 API server a server-side apply of a StatefulSet with
// volumeClaimTemplates, a v2beta2 HPA or a stringData Secret rewrites
// managedFields every time, so a controller that re-applies on every event
// never comes to rest. A child is up to date when
//   - the hash of what we last applied (an annotation on the child) equals the
//     hash of what we would apply now — this catches fields we stopped
//     setting, which the subset check below cannot see; and
//   - every field we set is still there with our value — this catches a
//     human's edit (replicas, image) or a deletion of a field we own.
// Server-side defaults (extra fields) never count as drift, and neither do
// elements another manager added to a list the server merges by key (an env
// var, a container, a port): server-side apply leaves them in place, so
// re-applying for them would never come to rest.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace sot::stillontime {

inline constexpr const char* kAppliedHashAnnotation = "stillontime.app/applied-hash";

// Hex SHA-256 of the object's canonical JSON (keys sorted by nlohmann::json).
std::string content_hash(const nlohmann::json& object);

// Returns `desired` with the applied-hash annotation set to its own hash.
nlohmann::json stamp_applied_hash(nlohmann::json desired);

// True when every field of `desired` appears in `live` with the same value.
// Objects: each desired key must match (a desired zero value — "", 0, false,
// {}, [] or null — also matches a missing key, as the API server drops them).
// Lists merged by key (containers, env, volumes, volumeMounts, ports of
// containers and Services, imagePullSecrets, ownerReferences): each desired
// element must be there under its key; other elements are someone else's.
// Other arrays: same length, element by element, or the same elements in another
// order (the server may reorder HPA metrics). Quantities compare by value
// ("0.5" == "500m", "1Gi" == "1024Mi").
bool contains_desired(const nlohmann::json& live, const nlohmann::json& desired);

// Both conditions above; `live` may be null (absent: not up to date).
bool up_to_date(const nlohmann::json* live, const nlohmann::json& stamped_desired);

}  // namespace sot::stillontime
