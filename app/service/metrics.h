// Why: the Prometheus series that the alert rules and dashboards use, named exactly as they
// expect (http_requests_total, http_request_duration_seconds, ...). The old backend exported
// none of them; here they are one struct, registered once and served on METRICS_PORT only.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace sot {

// The method as a label value: the standard methods by name, anything else "OTHER", so a client
// sending made-up methods cannot grow the series set (the method string is not validated by HTTP).
const char* method_label(std::string_view method);

class Metrics {
 public:
  Metrics();

  prometheus::Registry& registry() { return *registry_; }
  std::shared_ptr<prometheus::Registry> registry_ptr() { return registry_; }

  void observe_request(const std::string& method, const std::string& route, int status, double seconds);
  void cache_hit(const std::string& cache) { cache_hits_->Add({{"cache", cache}}).Increment(); }
  void cache_miss(const std::string& cache) { cache_misses_->Add({{"cache", cache}}).Increment(); }
  void schedule_imported(const std::string& result) { imports_->Add({{"result", result}}).Increment(); }
  void route_calculated() { route_calculations_->Increment(); }
  void rate_limited() { rate_limited_->Increment(); }
  void accept_failed() { accept_errors_->Increment(); }
  // result: ok, refused (over a limit or unreadable: 422), busy (no free slot: 503), error
  void pdf_extraction(const std::string& result) { pdf_extractions_->Add({{"result", result}}).Increment(); }
  void set_ready(bool ready) { ready_->Set(ready ? 1 : 0); }
  void set_dependency_up(const std::string& name, bool up) {
    dependency_up_->Add({{"dependency", name}}).Set(up ? 1 : 0);
  }

  // Prometheus text exposition format of everything registered, plus process_* series.
  std::string render() const;

 private:
  struct Cached {
    prometheus::Counter* count;
    prometheus::Histogram* duration;
  };

  std::shared_ptr<prometheus::Registry> registry_;
  std::uint64_t instance_id_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Histogram>* durations_;
  prometheus::Family<prometheus::Counter>* cache_hits_;
  prometheus::Family<prometheus::Counter>* cache_misses_;
  prometheus::Family<prometheus::Counter>* imports_;
  prometheus::Counter* route_calculations_;
  prometheus::Counter* rate_limited_;
  prometheus::Counter* accept_errors_;
  prometheus::Family<prometheus::Counter>* pdf_extractions_;
  prometheus::Gauge* ready_;
  prometheus::Family<prometheus::Gauge>* dependency_up_;
  prometheus::Gauge* start_time_;
  mutable std::mutex cache_mutex_;
  std::unordered_map<std::string, Cached> cache_;
};

}  // namespace sot
