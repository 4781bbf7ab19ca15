#include "runtime/leader_election.h"

#include <cstdlib>
#include <unistd.h>

#include "kube/deadline.h"
#include "runtime/controller.h"

namespace sot::runtime {

using kube::Code;
using kube::Json;

std::string default_identity() {
  std::string base;
  if (const char* pod = std::getenv("POD_NAME"); pod != nullptr && *pod != '\0') {
    base = pod;
  } else {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0) base = host;
    if (base.empty()) base = "unknown-host";
  }
  return base + "_" + new_reconcile_id();
}

LeaderElector::LeaderElector(kube::KubeClient& client, Clock& clock, LeaderElectionOptions options,
                             LeaderCallbacks callbacks, Logger logger, prometheus::Gauge* master_status)
    : client_(client),
      clock_(clock),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      logger_(logger.with("lease", options_.lease_namespace + "/" + options_.lease_name)),
      master_status_(master_status) {
  if (options_.identity.empty()) options_.identity = default_identity();
  if (master_status_ != nullptr) master_status_->Set(0);
}

std::string LeaderElector::observed_leader() const {
  std::lock_guard lock(mu_);
  return observed_spec_.is_object() ? observed_spec_.value("holderIdentity", std::string{}) : std::string{};
}

Duration LeaderElector::jittered(Duration d) {
  // client-go: JitterUntil(retryPeriod, 1.2): wait d + rand[0, 1.2) * d.
  const double f = std::uniform_real_distribution<double>(0, 1.2)(rng_);
  return d + Duration(static_cast<Duration::rep>(f * static_cast<double>(d.count())));
}

void LeaderElector::set_leading(bool leading) {
  if (leading_.exchange(leading) == leading) return;
  if (master_status_ != nullptr) master_status_->Set(leading ? 1 : 0);
  if (leading) {
    logger_.info("successfully acquired lease", {{"identity", options_.identity}});
    if (callbacks_.on_started_leading) callbacks_.on_started_leading();
  } else {
    logger_.info("stopped leading", {{"identity", options_.identity}});
    if (callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
  }
}

kube::RequestDeadline LeaderElector::deadline_at(TimePoint deadline) const {
  // The elector's clock may be a test's; requests run on the real one.
  return kube::RequestDeadline(std::chrono::steady_clock::now() + (deadline - clock_.now()));
}

bool LeaderElector::try_acquire_or_renew_by(TimePoint deadline) {
  const kube::RequestDeadline scope = deadline_at(deadline);
  return try_acquire_or_renew();
}

bool LeaderElector::try_acquire_or_renew() {
  const kube::ResourceRef ref = kube::resources::leases();
  const kube::ObjectKey key{options_.lease_namespace, options_.lease_name};
  const std::string now_text = format_micro_time(clock_.wall_now());
  const int duration_s =
      static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(options_.lease_duration).count());

  auto current = client_.get(ref, key);
  if (!current.ok()) {
    if (current.code() != Code::kNotFound) {
      logger_.warn("error retrieving lease", {{"error", current.error().to_string()}});
      return false;
    }
    Json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", key.name}, {"namespace", key.ns}}},
                  {"spec",
                   {{"holderIdentity", options_.identity},
                    {"leaseDurationSeconds", duration_s},
                    {"acquireTime", now_text},
                    {"renewTime", now_text},
                    {"leaseTransitions", 0}}}};
    auto created = client_.create(ref, key.ns, lease);
    if (!created.ok()) {
      logger_.debug("could not create lease", {{"error", created.error().to_string()}});
      return false;
    }
    std::lock_guard lock(mu_);
    observed_spec_ = (*created)["spec"];
    observed_rv_ = created->value("metadata", Json::object()).value("resourceVersion", std::string{});
    observed_time_ = clock_.now();
    return true;
  }

  Json lease = std::move(*current);
  const Json spec = lease.value("spec", Json::object());
  const std::string holder = spec.value("holderIdentity", std::string{});
  {
    std::lock_guard lock(mu_);
    if (spec != observed_spec_) {
      observed_spec_ = spec;
      observed_time_ = clock_.now();
    }
    if (holder != reported_leader_) {
      reported_leader_ = holder;
      if (!holder.empty()) {
        logger_.info("new leader elected", {{"leader", holder}});
        if (callbacks_.on_new_leader) callbacks_.on_new_leader(holder);
      }
    }
  }
  const bool we_hold = holder == options_.identity;
  if (!holder.empty() && !we_hold) {
    const int held_for = spec.value("leaseDurationSeconds", duration_s);
    std::lock_guard lock(mu_);
    if (clock_.now() < observed_time_ + std::chrono::seconds(held_for)) return false;  // still valid
  }

  Json new_spec = spec;
  new_spec["holderIdentity"] = options_.identity;
  new_spec["leaseDurationSeconds"] = duration_s;
  new_spec["renewTime"] = now_text;
  if (!we_hold) {
    new_spec["acquireTime"] = now_text;
    new_spec["leaseTransitions"] =
        spec.value("leaseTransitions", 0) + (holder.empty() && !spec.contains("acquireTime") ? 0 : 1);
  }
  lease["spec"] = new_spec;
  auto updated = client_.update(ref, lease, kube::UpdateOptions{});
  if (!updated.ok()) {
    if (updated.code() != Code::kConflict) {
      logger_.warn("error updating lease", {{"error", updated.error().to_string()}});
    }
    return false;
  }
  std::lock_guard lock(mu_);
  observed_spec_ = (*updated)["spec"];
  observed_time_ = clock_.now();
  return true;
}

void LeaderElector::release() {
  if (!leading_.load()) return;
  // A hung API server must not hold a shutdown: one retry period, then go.
  const kube::RequestDeadline scope = deadline_at(clock_.now() + options_.retry_period);
  const kube::ResourceRef ref = kube::resources::leases();
  const kube::ObjectKey key{options_.lease_namespace, options_.lease_name};
  auto current = client_.get(ref, key);
  if (current.ok() &&
      current->value("spec", Json::object()).value("holderIdentity", std::string{}) == options_.identity) {
    Json lease = std::move(*current);
    const std::string now_text = format_micro_time(clock_.wall_now());
    lease["spec"]["holderIdentity"] = "";
    lease["spec"]["leaseDurationSeconds"] = 1;
    lease["spec"]["renewTime"] = now_text;
    lease["spec"]["acquireTime"] = now_text;
    auto r = client_.update(ref, lease, kube::UpdateOptions{});
    if (!r.ok()) {
      logger_.warn("failed to release lease", {{"error", r.error().to_string()}});
    } else {
      logger_.info("released lease");
    }
  }
  set_leading(false);
}

bool LeaderElector::run(StopSignal& stop) {
  logger_.info("attempting to acquire leader lease", {{"identity", options_.identity}});
  // Acquire.
  while (true) {
    if (stop.stopped()) return true;
    if (try_acquire_or_renew_by(clock_.now() + options_.renew_deadline)) break;
    if (!stop.sleep_for(jittered(options_.retry_period))) return true;
  }
  set_leading(true);
  // Renew: each round retries every retry period until the renew deadline.
  // Every request of a round ends by that deadline (kube/deadline.h): a hung
  // API server cannot keep us leading past it, and the lease (longer than the
  // deadline) is still ours for everyone else until then.
  while (true) {
    if (!stop.sleep_for(options_.retry_period)) break;
    const TimePoint deadline = clock_.now() + options_.renew_deadline;
    bool renewed = false;
    while (!stop.stopped() && clock_.now() < deadline) {
      if (try_acquire_or_renew_by(deadline)) {
        renewed = true;
        break;
      }
      if (!stop.sleep_until(std::min(deadline, clock_.now() + options_.retry_period))) break;
    }
    if (stop.stopped()) break;
    if (!renewed) {
      logger_.error("leader election lost", {{"identity", options_.identity}});
      set_leading(false);
      return false;
    }
  }
  if (options_.release_on_cancel) {
    release();
  } else {
    set_leading(false);
  }
  return true;
}

}  // namespace sot::runtime
