// What the controller remembers about its own writes (see apply_memory.h).
#include "controller/apply_memory.h"

namespace sot::stillontime {
namespace {

// Keeps a map of one entry per child ever seen from growing: past 4,096
// entries, those older than `age` (no longer consulted) go.
template <typename Map>
void forget_old(Map& entries, std::chrono::steady_clock::duration age, ApplyMemory::TimePoint now) {
  if (entries.size() <= 4096) return;
  std::erase_if(entries, [&](const auto& e) { return now - e.second.at >= age; });
}

}  // namespace

std::optional<std::chrono::steady_clock::duration> ApplyMemory::echo_pending(const std::string& child,
                                                                             const std::string& hash,
                                                                             const std::string& cached_version,
                                                                             TimePoint now) {
  std::lock_guard lock(mu_);
  auto it = applied_.find(child);
  if (it == applied_.end() || it->second.hash != hash || it->second.over_version != cached_version) return std::nullopt;
  const auto age = now - it->second.at;
  if (age >= kApplyEchoWindow) return std::nullopt;
  return kApplyEchoWindow - age;
}

void ApplyMemory::remember_applied(const std::string& child, const std::string& hash, const std::string& over_version,
                                   TimePoint now) {
  std::lock_guard lock(mu_);
  forget_old(applied_, kApplyEchoWindow, now);
  applied_[child] = {hash, over_version, {}, now};
  refused_.erase(child);
}

std::optional<std::string> ApplyMemory::refused(const std::string& child, const std::string& hash,
                                                const std::string& cached_version, TimePoint now) {
  std::lock_guard lock(mu_);
  auto it = refused_.find(child);
  if (it == refused_.end() || it->second.hash != hash || it->second.over_version != cached_version) return std::nullopt;
  if (now - it->second.at >= kRetryRefused) return std::nullopt;
  return it->second.message;
}

void ApplyMemory::remember_refused(const std::string& child, const std::string& hash, const std::string& over_version,
                                   const std::string& message, TimePoint now) {
  std::lock_guard lock(mu_);
  forget_old(refused_, kRetryRefused, now);
  refused_[child] = {hash, over_version, message, now};
}

}  // namespace sot::stillontime
