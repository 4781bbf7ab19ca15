// Maps API server answers (HTTP status plus a metav1.Status body) to Error values.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "kube/result.h"

namespace sot::kube {

// Builds the Error for a non-2xx answer. `body` is the raw response body; when it
// is a metav1.Status its reason and message are used, otherwise the status text.
Error error_from_response(int http_status, std::string_view body);

// Builds the Error for a metav1.Status object (as carried by a watch ERROR event).
Error error_from_status_object(const nlohmann::json& status);

}  // namespace sot::kube
