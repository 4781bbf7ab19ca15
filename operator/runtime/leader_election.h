// Leader election on a coordination.k8s.io/v1 Lease, with client-go's
// algorithm and numbers (lease 15 s, renew deadline 10 s, retry 2 s):
//  - a candidate tries to acquire every retry period (with jitter); it may take
//    the lease when it is free (no holder) or when the holder's record has not
//    changed for a whole lease duration on the candidate's own clock (clocks of
//    different machines are never compared);
//  - the leader renews every retry period; when it could not renew for the
//    renew deadline it stops leading at once (on_stopped_leading), before the
//    lease can have expired for anyone else, so two leaders never overlap;
//    every Lease request ends by the renew deadline (kube/deadline.h), so an
//    API server that hangs instead of refusing cannot keep us leading past it;
//  - on shutdown a leader releases the lease (empty holder, 1 s duration) so a
//    standby takes over within one retry period instead of a lease duration.
// Updates are optimistic (resourceVersion): a conflict means someone else won.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <random>
#include <string>

#include <prometheus/gauge.h>

#include "kube/client.h"
#include "kube/deadline.h"
#include "runtime/clock.h"
#include "runtime/logger.h"

namespace sot::runtime {

struct LeaderElectionOptions {
  std::string lease_namespace;
  std::string lease_name;
  std::string identity;  // see default_identity()
  Duration lease_duration = std::chrono::seconds(15);
  Duration renew_deadline = std::chrono::seconds(10);
  Duration retry_period = std::chrono::seconds(2);
  bool release_on_cancel = true;
};

struct LeaderCallbacks {
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
  std::function<void(const std::string& identity)> on_new_leader;
};

// $POD_NAME, else the host name, plus "_" and a random suffix (a restarted
// process is a new candidate, never mistaken for the old holder).
std::string default_identity();

class LeaderElector {
 public:
  LeaderElector(kube::KubeClient& client, Clock& clock, LeaderElectionOptions options, LeaderCallbacks callbacks,
                Logger logger = Logger(), prometheus::Gauge* master_status = nullptr);

  // Blocks: acquires, then renews until `stop` or until the lease is lost.
  // Releases the lease on stop when leading. Returns true when it stopped
  // because of `stop`, false when leadership was lost.
  bool run(StopSignal& stop);

  bool is_leader() const { return leading_.load(); }
  const std::string& identity() const { return options_.identity; }
  std::string observed_leader() const;

  // One attempt to acquire or renew (exposed for tests). Its requests end by
  // the caller's request deadline, if any (kube/deadline.h).
  [[nodiscard]] bool try_acquire_or_renew();
  // The same, with every request ending by `deadline` on this elector's clock.
  [[nodiscard]] bool try_acquire_or_renew_by(TimePoint deadline);
  // Gives the lease up if we hold it (exposed for tests).
  void release();

 private:
  void set_leading(bool leading);
  kube::RequestDeadline deadline_at(TimePoint deadline) const;
  Duration jittered(Duration d);

  kube::KubeClient& client_;
  Clock& clock_;
  LeaderElectionOptions options_;
  LeaderCallbacks callbacks_;
  Logger logger_;
  prometheus::Gauge* master_status_;
  std::mt19937_64 rng_{std::random_device{}()};

  std::atomic<bool> leading_{false};
  mutable std::mutex mu_;
  nlohmann::json observed_spec_;  // the lease spec as last seen
  std::string observed_rv_;
  TimePoint observed_time_{};  // our clock when the spec last changed
  std::string reported_leader_;
};

}  // namespace sot::runtime
