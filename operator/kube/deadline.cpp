#include "kube/deadline.h"

namespace sot::kube {

namespace {
thread_local std::optional<std::chrono::steady_clock::time_point> current_deadline;
}  // namespace

RequestDeadline::RequestDeadline(std::chrono::steady_clock::time_point at) : outer_(current_deadline) {
  current_deadline = at;
}

RequestDeadline::~RequestDeadline() {
  current_deadline = outer_;
}

std::optional<std::chrono::milliseconds> request_time_left() {
  if (!current_deadline) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(*current_deadline - std::chrono::steady_clock::now());
}

}  // namespace sot::kube
