// Why: see metrics.h. Label lookups are cached per (method, route, status) so the hot path is one
// short-held mutex and two atomic updates; process_* series come from /proc at scrape time.
#include "service/metrics.h"

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include <prometheus/text_serializer.h>

namespace sot {
namespace {

const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                                 0.1,    0.25,  0.5,    1,     2.5,  5,     10};

void append_process_metrics(std::string& out) {
  std::ifstream stat("/proc/self/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = content.rfind(')');
  if (close == std::string::npos) return;
  std::istringstream fields(content.substr(close + 2));
  std::string f;
  std::vector<std::string> v;
  while (fields >> f) v.push_back(f);
  // Fields after the command, 0-based from "state": utime=11, stime=12, num_threads=17, vsize=20, rss=21.
  if (v.size() < 22) return;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double cpu = (std::stod(v[11]) + std::stod(v[12])) / ticks;
  const double rss = std::stod(v[21]) * static_cast<double>(sysconf(_SC_PAGESIZE));
  std::ostringstream o;
  o << "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
    << "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total " << cpu << "\n"
    << "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
    << "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes " << rss << "\n"
    << "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
    << "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes " << v[20] << "\n"
    << "# HELP process_threads Number of OS threads.\n"
    << "# TYPE process_threads gauge\nprocess_threads " << v[17] << "\n";
  out += o.str();
}

}  // namespace

namespace {
std::atomic<std::uint64_t> g_next_instance{1};
}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()), instance_id_(g_next_instance.fetch_add(1)) {
  auto& r = *registry_;
  requests_ = &prometheus::BuildCounter()
                   .Name("http_requests_total")
                   .Help("HTTP requests by method, route template and status")
                   .Register(r);
  durations_ = &prometheus::BuildHistogram()
                    .Name("http_request_duration_seconds")
                    .Help("HTTP request latency by method and route template")
                    .Register(r);
  cache_hits_ = &prometheus::BuildCounter().Name("cache_hits_total").Help("Response cache hits").Register(r);
  cache_misses_ = &prometheus::BuildCounter().Name("cache_misses_total").Help("Response cache misses").Register(r);
  for (const char* cache : {"schedules", "weather"}) {
    cache_hits_->Add({{"cache", cache}});
    cache_misses_->Add({{"cache", cache}});
  }
  imports_ = &prometheus::BuildCounter()
                  .Name("stillontime_schedules_imported_total")
                  .Help("Call-sheet imports by result")
                  .Register(r);
  for (const char* result : {"success", "duplicate", "invalid", "error"}) imports_->Add({{"result", result}});
  route_calculations_ = &prometheus::BuildCounter()
                             .Name("stillontime_route_calculations_total")
                             .Help("Route plans calculated")
                             .Register(r)
                             .Add({});
  rate_limited_ = &prometheus::BuildCounter()
                       .Name("http_rate_limited_total")
                       .Help("Requests refused by the rate limiter")
                       .Register(r)
                       .Add({});
  accept_errors_ = &prometheus::BuildCounter()
                        .Name("http_accept_errors_total")
                        .Help("Connections the listener failed to accept (e.g. out of file descriptors)")
                        .Register(r)
                        .Add({});
  pdf_extractions_ = &prometheus::BuildCounter()
                          .Name("stillontime_pdf_extractions_total")
                          .Help("Call-sheet PDF text extractions by result")
                          .Register(r);
  for (const char* result : {"ok", "refused", "busy", "error"}) pdf_extractions_->Add({{"result", result}});
  ready_ =
      &prometheus::BuildGauge().Name("stillontime_ready").Help("1 when the server reports ready").Register(r).Add({});
  dependency_up_ = &prometheus::BuildGauge()
                        .Name("stillontime_dependency_up")
                        .Help("1 when a dependency answers its health check")
                        .Register(r);
  start_time_ = &prometheus::BuildGauge()
                     .Name("process_start_time_seconds")
                     .Help("Start time of the process since unix epoch in seconds.")
                     .Register(r)
                     .Add({});
  start_time_->Set(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  auto& info = prometheus::BuildGauge().Name("stillontime_build_info").Help("Build information").Register(r);
  info.Add({{"version", STILLONTIME_VERSION}}).Set(1);
}

const char* method_label(std::string_view method) {
  static constexpr const char* kKnown[] = {"GET",    "HEAD",    "POST",    "PUT",  "PATCH",
                                           "DELETE", "OPTIONS", "CONNECT", "TRACE"};
  for (const char* known : kKnown) {
    if (method == known) return known;
  }
  return "OTHER";
}

void Metrics::observe_request(const std::string& raw_method, const std::string& route, int status, double seconds) {
  const std::string method = method_label(raw_method);
  std::string key;
  key.reserve(method.size() + route.size() + 8);
  key.append(method).push_back(' ');
  key.append(route).push_back(' ');
  key.append(std::to_string(status));
  // Per-thread cache in front of the shared one: no lock on the hot path once warm. Keyed by this
  // instance's never-reused id, so several instances in one process (tests) stay apart.
  thread_local std::unordered_map<std::string, Cached> local;
  key.append(" ").append(std::to_string(instance_id_));
  Cached cached{};
  if (auto hit = local.find(key); hit != local.end()) {
    cached = hit->second;
  } else {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      Cached c{&requests_->Add({{"method", method}, {"route", route}, {"status", std::to_string(status)}}),
               &durations_->Add({{"method", method}, {"route", route}}, kLatencyBuckets)};
      it = cache_.emplace(key, c).first;
    }
    cached = it->second;
    local.emplace(key, cached);
  }
  cached.count->Increment();
  cached.duration->Observe(seconds);
}

std::string Metrics::render() const {
  prometheus::TextSerializer serializer;
  std::string out = serializer.Serialize(registry_->Collect());
  append_process_metrics(out);
  return out;
}

}  // namespace sot
