// A deadline for the requests one thread makes, for callers whose work must end
// by a point in time whatever the API server does: the leader elector, which
// must stop leading before its lease can expire for anyone else, bounds each
// Lease request by what is left of its renew deadline.
//
//   kube::RequestDeadline scope(std::chrono::steady_clock::now() + left);
//   client.get(...);   // times out at the deadline (or the client's own timeout, if sooner)
//
// Scopes nest; the innermost one counts. A request made after its deadline fails
// at once with Code::kTimeout and is never sent.
#pragma once

#include <chrono>
#include <optional>

namespace sot::kube {

class RequestDeadline {
 public:
  explicit RequestDeadline(std::chrono::steady_clock::time_point at);
  ~RequestDeadline();
  RequestDeadline(const RequestDeadline&) = delete;
  RequestDeadline& operator=(const RequestDeadline&) = delete;

 private:
  std::optional<std::chrono::steady_clock::time_point> outer_;
};

// Time left before this thread's innermost deadline (zero or less when it has
// passed), or nullopt when no deadline is set.
std::optional<std::chrono::milliseconds> request_time_left();

}  // namespace sot::kube
