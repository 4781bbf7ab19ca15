#include "kube/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

namespace sot::kube {
namespace {

class PrometheusObserver final : public RequestObserver {
 public:
  PrometheusObserver(prometheus::Registry& registry, std::string host)
      : host_(std::move(host)),
        requests_(prometheus::BuildCounter()
                      .Name("rest_client_requests_total")
                      .Help("Number of HTTP requests to the API server, partitioned by status code, method, and host.")
                      .Register(registry)),
        duration_(prometheus::BuildHistogram()
                      .Name("rest_client_request_duration_seconds")
                      .Help("Request latency in seconds, broken down by verb and host.")
                      .Register(registry)) {}

  void observe(std::string_view method, int http_status, std::chrono::duration<double> elapsed) override {
    const std::string code = http_status == 0 ? "<error>" : std::to_string(http_status);
    requests_.Add({{"code", code}, {"method", std::string(method)}, {"host", host_}}).Increment();
    if (method != "WATCH") {
      static const prometheus::Histogram::BucketBoundaries kBuckets = {0.005, 0.025, 0.1, 0.25, 0.5, 1,
                                                                       2,     4,     8,   15,   30,  60};
      duration_.Add({{"verb", std::string(method)}, {"host", host_}}, kBuckets).Observe(elapsed.count());
    }
  }

 private:
  std::string host_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
};

}  // namespace

std::shared_ptr<RequestObserver> make_prometheus_observer(prometheus::Registry& registry, std::string host) {
  return std::make_shared<PrometheusObserver>(registry, std::move(host));
}

}  // namespace sot::kube
