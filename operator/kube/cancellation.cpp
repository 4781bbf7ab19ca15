#include "kube/transport.h"

namespace sot::kube {

void Cancellation::cancel() {
  std::vector<std::pair<std::size_t, std::function<void()>>> callbacks;
  {
    std::lock_guard lock(mu_);
    if (cancelled_) return;
    cancelled_ = true;
    callbacks.swap(callbacks_);
  }
  for (auto& [id, fn] : callbacks) fn();
}

bool Cancellation::cancelled() const {
  std::lock_guard lock(mu_);
  return cancelled_;
}

std::size_t Cancellation::on_cancel(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    if (!cancelled_) {
      callbacks_.emplace_back(next_, std::move(fn));
      return next_++;
    }
  }
  fn();
  return static_cast<std::size_t>(-1);
}

void Cancellation::remove(std::size_t handle) {
  std::lock_guard lock(mu_);
  std::erase_if(callbacks_, [handle](const auto& p) { return p.first == handle; });
}

}  // namespace sot::kube
