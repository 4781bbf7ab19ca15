// The runtime's Prometheus metrics under controller-runtime's and client-go's
// names, so dashboards written for Go operators work unchanged. Families are
// registered on the caller's registry (prometheus-cpp merges repeated
// registrations of one name), children are created per controller/queue.
#pragma once

#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace sot::runtime {

// workqueue_* for one queue, labelled name=<queue>.
struct QueueMetrics {
  prometheus::Gauge* depth = nullptr;
  prometheus::Counter* adds = nullptr;
  prometheus::Counter* retries = nullptr;
  prometheus::Histogram* queue_duration = nullptr;
  prometheus::Histogram* work_duration = nullptr;
  prometheus::Gauge* unfinished_work_seconds = nullptr;
  prometheus::Gauge* longest_running_processor_seconds = nullptr;
};
QueueMetrics make_queue_metrics(prometheus::Registry& registry, const std::string& name);

// controller_runtime_* for one controller, labelled controller=<name>.
struct ControllerMetrics {
  prometheus::Counter* reconcile_success = nullptr;
  prometheus::Counter* reconcile_error = nullptr;
  prometheus::Counter* reconcile_requeue = nullptr;
  prometheus::Counter* reconcile_requeue_after = nullptr;
  prometheus::Counter* reconcile_errors = nullptr;
  prometheus::Histogram* reconcile_time = nullptr;
  prometheus::Gauge* max_concurrent = nullptr;
  prometheus::Gauge* active_workers = nullptr;
};
ControllerMetrics make_controller_metrics(prometheus::Registry& registry, const std::string& controller);

// leader_election_master_status{name=<lease>}: 1 while this process leads.
prometheus::Gauge& make_leader_gauge(prometheus::Registry& registry, const std::string& lease_name);

}  // namespace sot::runtime
