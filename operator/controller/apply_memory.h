// What the controller remembers between passes about its own writes, kept in
// one object that the reconciler owns and hands explicitly to the stages that
// read it (apply and prune, status); no stage keeps state of its own.
//
//  - Applied: the informer delivers our own apply a moment later; until then
//    the cache still shows the child as it was before. Remembering what we
//    applied over which version keeps a burst of events from re-sending the
//    same object; a cache showing any other version (someone's edit) is judged
//    as usual.
//  - Refused: a child (or the status) the API server refused for its size
//    (etcd's request limit, the server's body limit): the same object over the
//    same live version is not sent again for kRetryRefused — each try costs the
//    server an apply of megabytes — and the resource reports Stalled meanwhile.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace sot::stillontime {

// How long an apply of ours may take to come back through the watch.
inline constexpr auto kApplyEchoWindow = std::chrono::seconds(5);
// How long a child refused for its size is not sent again (unless it or the
// spec changes).
inline constexpr auto kRetryRefused = std::chrono::minutes(10);

// `now` is the controller's monotonic clock (Context::clock), so tests move it by hand.
class ApplyMemory {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // How long to wait before judging `child` again; nullopt: judge it now.
  std::optional<std::chrono::steady_clock::duration> echo_pending(const std::string& child, const std::string& hash,
                                                                  const std::string& cached_version, TimePoint now);
  void remember_applied(const std::string& child, const std::string& hash, const std::string& over_version,
                        TimePoint now);

  // The message of a standing refusal of exactly this object, else nullopt.
  std::optional<std::string> refused(const std::string& child, const std::string& hash,
                                     const std::string& cached_version, TimePoint now);
  void remember_refused(const std::string& child, const std::string& hash, const std::string& over_version,
                        const std::string& message, TimePoint now);

 private:
  struct Entry {
    std::string hash;
    std::string over_version;  // resourceVersion the cache showed; "" when absent
    std::string message;       // refusals only
    TimePoint at;
  };
  // Both are consulted under one lock: a successful apply clears a refusal.
  std::mutex mu_;
  std::map<std::string, Entry> applied_;
  std::map<std::string, Entry> refused_;
};

}  // namespace sot::stillontime
