#include "runtime/metrics.h"

namespace sot::runtime {
namespace {

// client-go's workqueue buckets: 1 ns * 10^i for i in 0..9 (1e-8 .. 10 s).
prometheus::Histogram::BucketBoundaries queue_buckets() {
  prometheus::Histogram::BucketBoundaries b;
  double v = 1e-8;
  for (int i = 0; i < 10; ++i, v *= 10) b.push_back(v);
  return b;
}

// controller-runtime's reconcile_time_seconds buckets.
prometheus::Histogram::BucketBoundaries reconcile_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5,
          1.75,  2.0,  2.5,   3.0,  3.5, 4.0,  4.5, 5,    6,   7,    8,   9,    10,  15,  20,  25,  30,  40,  50,   60};
}

}  // namespace

QueueMetrics make_queue_metrics(prometheus::Registry& registry, const std::string& name) {
  const prometheus::Labels l{{"name", name}};
  QueueMetrics m;
  m.depth =
      &prometheus::BuildGauge().Name("workqueue_depth").Help("Current depth of workqueue").Register(registry).Add(l);
  m.adds = &prometheus::BuildCounter()
                .Name("workqueue_adds_total")
                .Help("Total number of adds handled by workqueue")
                .Register(registry)
                .Add(l);
  m.retries = &prometheus::BuildCounter()
                   .Name("workqueue_retries_total")
                   .Help("Total number of retries handled by workqueue")
                   .Register(registry)
                   .Add(l);
  m.queue_duration = &prometheus::BuildHistogram()
                          .Name("workqueue_queue_duration_seconds")
                          .Help("How long in seconds an item stays in workqueue before being requested")
                          .Register(registry)
                          .Add(l, queue_buckets());
  m.work_duration = &prometheus::BuildHistogram()
                         .Name("workqueue_work_duration_seconds")
                         .Help("How long in seconds processing an item from workqueue takes.")
                         .Register(registry)
                         .Add(l, queue_buckets());
  m.unfinished_work_seconds =
      &prometheus::BuildGauge()
           .Name("workqueue_unfinished_work_seconds")
           .Help(
               "How many seconds of work has been done that is in progress and hasn't been observed by "
               "work_duration.")
           .Register(registry)
           .Add(l);
  m.longest_running_processor_seconds =
      &prometheus::BuildGauge()
           .Name("workqueue_longest_running_processor_seconds")
           .Help("How many seconds has the longest running processor for workqueue been running.")
           .Register(registry)
           .Add(l);
  return m;
}

ControllerMetrics make_controller_metrics(prometheus::Registry& registry, const std::string& controller) {
  auto& total = prometheus::BuildCounter()
                    .Name("controller_runtime_reconcile_total")
                    .Help("Total number of reconciliations per controller")
                    .Register(registry);
  ControllerMetrics m;
  m.reconcile_success = &total.Add({{"controller", controller}, {"result", "success"}});
  m.reconcile_error = &total.Add({{"controller", controller}, {"result", "error"}});
  m.reconcile_requeue = &total.Add({{"controller", controller}, {"result", "requeue"}});
  m.reconcile_requeue_after = &total.Add({{"controller", controller}, {"result", "requeue_after"}});
  m.reconcile_errors = &prometheus::BuildCounter()
                            .Name("controller_runtime_reconcile_errors_total")
                            .Help("Total number of reconciliation errors per controller")
                            .Register(registry)
                            .Add({{"controller", controller}});
  m.reconcile_time = &prometheus::BuildHistogram()
                          .Name("controller_runtime_reconcile_time_seconds")
                          .Help("Length of time per reconciliation per controller")
                          .Register(registry)
                          .Add({{"controller", controller}}, reconcile_buckets());
  m.max_concurrent = &prometheus::BuildGauge()
                          .Name("controller_runtime_max_concurrent_reconciles")
                          .Help("Maximum number of concurrent reconciles per controller")
                          .Register(registry)
                          .Add({{"controller", controller}});
  m.active_workers = &prometheus::BuildGauge()
                          .Name("controller_runtime_active_workers")
                          .Help("Number of currently used workers per controller")
                          .Register(registry)
                          .Add({{"controller", controller}});
  return m;
}

prometheus::Gauge& make_leader_gauge(prometheus::Registry& registry, const std::string& lease_name) {
  return prometheus::BuildGauge()
      .Name("leader_election_master_status")
      .Help(
          "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. "
          "'name' is the string used to identify the lease.")
      .Register(registry)
      .Add({{"name", lease_name}});
}

}  // namespace sot::runtime
