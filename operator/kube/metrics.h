// Client metrics under client-go's names, so existing dashboards work:
// rest_client_requests_total{code,method,host} and
// rest_client_request_duration_seconds{verb,host}.
#pragma once

#include <memory>
#include <string>

#include <prometheus/registry.h>

#include "kube/client.h"

namespace sot::kube {

std::shared_ptr<RequestObserver> make_prometheus_observer(prometheus::Registry& registry, std::string host);

}  // namespace sot::kube
