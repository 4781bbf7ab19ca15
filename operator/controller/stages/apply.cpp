// Stage "apply and prune" (see apply.h).
#include "controller/stages/apply.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "controller/common.h"
#include "stillontime/drift.h"
#include "stillontime/kinds.h"

namespace sot::stillontime::stages {
namespace {

using Json = nlohmann::json;

// Writes of one pass in flight at once.
constexpr std::size_t kApplyParallelism = 8;

// One child to send, decided before any write goes out.
struct Write {
  const DesiredObject* desired;
  Json body;
  bool create = false;
  std::string child_id;
  std::string hash;
  std::string over_version;
  std::optional<kube::Error> error;
};

void soonest(std::optional<runtime::Duration>& recheck, runtime::Duration delay) {
  recheck = recheck ? std::min(*recheck, delay) : delay;
}

// Decides, from the caches, which children need a write.
std::vector<Write> decide(const ApplyInput& in, runtime::Context& ctx, ApplyOutput& out) {
  std::vector<Write> to_send;
  std::optional<bool> current;
  std::optional<kube::Error> current_error;  // the fresh read failed (e.g. Forbidden): not a reason to poll
  auto cr_is_current = [&] {
    if (!current) {
      auto fresh = ctx.client().get(stillontime_resource(), in.key);
      if (!fresh.ok() && fresh.code() != kube::Code::kNotFound) current_error = fresh.error();
      current = fresh.ok() && runtime::resource_version_of(*fresh) == runtime::resource_version_of(in.cr);
    }
    return *current;
  };
  for (const auto& d : in.desired) {
    const auto* cache = ctx.cache(d.ref);
    runtime::ObjectPtr live = cache ? cache->get(d.key()) : nullptr;
    if (cache == nullptr) {
      auto got = ctx.client().get(d.ref, d.key());
      if (got.ok()) live = std::make_shared<const Json>(std::move(*got));
    }
    if (d.create_only) {
      if (live) continue;
      // A one-off Job (backup request, restore, bootstrap) runs once per id;
      // its record lives in status. Create it only when our copy of the
      // resource is the current one, or a status written a moment ago and
      // not yet in the cache would run it twice.
      if (d.ref.kind == "Job" && !cr_is_current()) {
        if (current_error) {
          // A failed read is an error (logged, backed off, Stalled when
          // Forbidden), not a stale cache to re-check five times a second.
          if (!out.first_error) out.first_error = current_error;
          continue;
        }
        soonest(out.echo_recheck, std::chrono::duration_cast<runtime::Duration>(std::chrono::milliseconds(200)));
        continue;
      }
      to_send.push_back({&d, d.object, true, {}, {}, {}, std::nullopt});
      continue;
    }
    Json stamped = stamp_applied_hash(d.object);
    if (up_to_date(live.get(), stamped)) continue;
    std::string child_id = d.ref.api_version() + "/" + d.ref.kind + "/" + d.key().to_string();
    std::string hash = stamped["metadata"]["annotations"][kAppliedHashAnnotation];
    std::string cached_version = live ? runtime::resource_version_of(*live) : std::string{};
    if (auto message = in.memory.refused(child_id, hash, cached_version, ctx.clock().now())) {
      if (!out.too_large_message) out.too_large_message = std::move(*message);
      continue;
    }
    if (auto wait = in.memory.echo_pending(child_id, hash, cached_version, ctx.clock().now())) {
      soonest(out.echo_recheck, std::chrono::duration_cast<runtime::Duration>(*wait) + std::chrono::milliseconds(50));
      continue;
    }
    ctx.log().debug("applying", {{"kind", d.ref.kind}, {"child", d.key().to_string()}, {"exists", live != nullptr}});
    to_send.push_back(
        {&d, std::move(stamped), false, std::move(child_id), std::move(hash), std::move(cached_version), std::nullopt});
  }
  return to_send;
}

// Sends the writes a few at a time: a child's apply is independent of its
// siblings', and the API server answers several at once faster than one after
// another. Two waves: a RoleBinding is refused (NotFound) while the Role it
// names does not exist yet, so bindings go after everything else.
void send(std::vector<Write>& to_send, runtime::Context& ctx) {
  const auto binding_first = std::stable_partition(to_send.begin(), to_send.end(),
                                                   [](const Write& w) { return w.desired->ref.kind != "RoleBinding"; });
  std::size_t wave_end = static_cast<std::size_t>(binding_first - to_send.begin());
  std::atomic<std::size_t> next{0};
  auto sender = [&] {
    for (std::size_t i = next++; i < wave_end; i = next++) {
      Write& w = to_send[i];
      const DesiredObject& d = *w.desired;
      if (w.create) {
        auto r = ctx.client().create(d.ref, d.key().ns, w.body);
        if (!r.ok() && r.code() != kube::Code::kAlreadyExists) w.error = r.error();
      } else {
        kube::ApplyOptions opts;
        opts.want_object = false;
        auto r = ctx.client().apply(d.ref, d.key(), w.body, opts);
        if (!r.ok()) w.error = r.error();
      }
    }
  };
  auto send_wave = [&](std::size_t begin, std::size_t end) {
    next = begin;
    wave_end = end;
    const std::size_t n = end - begin;
    const std::size_t helpers = std::min<std::size_t>(kApplyParallelism, n) - (n == 0 ? 0 : 1);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < helpers; ++i) threads.emplace_back(sender);
    sender();
    for (auto& t : threads) t.join();
  };
  const std::size_t bindings_at = wave_end;
  send_wave(0, bindings_at);
  send_wave(bindings_at, to_send.size());
}

// Counts what went through; remembers our applies and the server's refusals.
void record(const ApplyInput& in, std::vector<Write>& sent, runtime::Context& ctx, ApplyOutput& out) {
  for (auto& w : sent) {
    if (w.error && !w.create && too_large(*w.error)) {
      const std::string field = largest_field(spec_of(in.cr));
      std::string message = field + ": the " + w.desired->ref.kind + " " + w.desired->key().name + " made from it (" +
                            std::to_string(w.body.dump(-1, ' ', false, Json::error_handler_t::replace).size()) +
                            " bytes of JSON) is more than the API server stores (" + w.error->message + "); make " +
                            field + " smaller";
      ctx.log().warn("child too large", {{"kind", w.desired->ref.kind},
                                         {"child", w.desired->key().to_string()},
                                         {"field", field},
                                         {"error", w.error->to_string()}});
      in.memory.remember_refused(w.child_id, w.hash, w.over_version, message, ctx.clock().now());
      if (!out.too_large_message) out.too_large_message = std::move(message);
      continue;
    }
    if (w.error) {
      ctx.log().warn(
          "apply failed",
          {{"kind", w.desired->ref.kind}, {"child", w.desired->key().to_string()}, {"error", w.error->to_string()}});
      if (!out.first_error) out.first_error = w.error;
      continue;
    }
    if (!w.create) in.memory.remember_applied(w.child_id, w.hash, w.over_version, ctx.clock().now());
    ++out.writes;
  }
}

// Deletes this resource's children of the managed kinds that are no longer desired.
void prune(const ApplyInput& in, runtime::Context& ctx, ApplyOutput& out) {
  const auto selector = runtime::LabelSelector::parse(owner_selector_text(in.key));
  if (!selector.ok()) return;
  std::set<std::pair<std::string, std::string>> wanted;  // kind/apiVersion + ns/name
  for (const auto& d : in.desired) wanted.insert({d.ref.api_version() + "/" + d.ref.kind, d.key().to_string()});
  for (const auto& kind : managed_kinds(in.api)) {
    const auto* cache = ctx.cache(kind);
    if (cache == nullptr) continue;
    // Keys first: only children that are not wanted are unpacked.
    for (const auto& ck : cache->list_keys(in.target_namespace, &*selector)) {
      if (wanted.count({kind.api_version() + "/" + kind.kind, ck.to_string()}) > 0) continue;
      const auto child = cache->get(ck);
      if (!child || owned_by_other_controller(*child)) continue;
      if ((*child)["metadata"].contains("deletionTimestamp")) continue;
      auto r = ctx.client().remove(kind, ck, kube::DeleteOptions{kube::Propagation::kBackground, {}, {}});
      if (!r.ok() && r.code() != kube::Code::kNotFound) {
        if (!out.first_error) out.first_error = r.error();
        continue;
      }
      ++out.writes;
      ctx.log().info("deleted child no longer desired", {{"kind", kind.kind}, {"child", ck.to_string()}});
    }
  }
}

}  // namespace

ApplyOutput apply_and_prune(const ApplyInput& in, runtime::Context& ctx) {
  ApplyOutput out;
  std::vector<Write> to_send = decide(in, ctx, out);
  send(to_send, ctx);
  record(in, to_send, ctx, out);
  prune(in, ctx, out);
  return out;
}

}  // namespace sot::stillontime::stages
