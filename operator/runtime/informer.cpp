#include "runtime/informer.h"

#include <malloc.h>
#include <random>

#include "kube/json_fields.h"

namespace sot::runtime {

using kube::Code;
using kube::EventType;
using kube::WatchEnd;

Informer::Informer(kube::KubeClient& client, Clock& clock, InformerOptions options, Logger logger)
    : client_(client),
      clock_(clock),
      options_(std::move(options)),
      logger_(logger.with("informer", options_.resource.plural)),
      store_(options_.index),
      stop_(clock) {}

Informer::~Informer() {
  stop();
}

void Informer::add_handler(std::shared_ptr<EventHandler> handler) {
  std::lock_guard lock(handlers_mu_);
  if (started_) {
    for (const auto& o : store_.list()) handler->on_add(o);
  }
  handlers_.push_back(std::move(handler));
}

void Informer::start() {
  if (started_.exchange(true)) return;
  std::vector<std::string> scopes = options_.namespaces;
  if (scopes.empty() || !options_.resource.namespaced) scopes = {""};
  for (const auto& ns : scopes) threads_.emplace_back([this, ns] { reflect(ns); });
}

void Informer::stop() {
  stop_.stop();
  {
    std::lock_guard lock(cancel_mu_);
    for (auto* c : active_watches_) c->cancel();
  }
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

bool Informer::has_synced() const {
  std::size_t scopes = options_.namespaces.empty() || !options_.resource.namespaced ? 1 : options_.namespaces.size();
  return started_ && synced_.load() >= scopes;
}

ObjectPtr Informer::prepare(Json&& object) const {
  if (options_.transform) options_.transform(object);
  return std::make_shared<const Json>(std::move(object));
}

void Informer::notify_add(const ObjectPtr& o) {
  std::lock_guard lock(handlers_mu_);
  for (auto& h : handlers_) h->on_add(o);
}

void Informer::notify_update(const ObjectPtr& a, const ObjectPtr& b) {
  std::lock_guard lock(handlers_mu_);
  for (auto& h : handlers_) h->on_update(a, b);
}

void Informer::notify_delete(const ObjectPtr& o) {
  std::lock_guard lock(handlers_mu_);
  for (auto& h : handlers_) h->on_delete(o);
}

void Informer::dispatch(const PackedDelta& delta) {
  // Unpacked one at a time: a relist of thousands never exists as trees at once.
  std::lock_guard lock(handlers_mu_);
  for (auto& h : handlers_) {
    for (const auto& o : delta.deleted) h->on_delete(unpack_object(o));
    for (const auto& [old, key] : delta.updated) {
      if (auto now = store_.get(key)) h->on_update(unpack_object(old), now);
    }
    for (const auto& key : delta.added) {
      if (auto now = store_.get(key)) h->on_add(now);
    }
  }
}

bool Informer::relist(const std::string& ns, std::string& resource_version) {
  kube::ListOptions lo;
  lo.label_selector = options_.label_selector;
  lo.field_selector = options_.field_selector;
  lo.limit = options_.page_size;
  // Page by page: each page is stripped and packed before the next is asked
  // for, so the peak is one page of trees, not the whole list.
  std::vector<PackedObject> items;
  std::string listed_version;
  for (;;) {
    auto page = client_.list(options_.resource, ns, lo);
    if (!page.ok()) {
      logger_.warn("list failed", {{"namespace", ns}, {"error", page.error().to_string()}});
      return false;
    }
    auto page_items = page->find("items");
    if (page_items != page->end() && page_items->is_array()) {
      for (auto& item : *page_items) {
        if (!item.is_object()) continue;  // not an object: nothing to key it by
        // List items carry no kind; restore it so handlers and reconcilers see whole objects.
        if (!item.contains("kind")) item["kind"] = options_.resource.kind;
        if (!item.contains("apiVersion")) item["apiVersion"] = options_.resource.api_version();
        ObjectPtr prepared = prepare(std::move(item));
        items.push_back(store_.pack(*prepared));
      }
    }
    const Json& meta = kube::object_field(*page, "metadata");
    listed_version = kube::string_field(meta, "resourceVersion");
    std::string next = kube::string_field(meta, "continue");
    if (next.empty()) break;
    lo.continue_token = std::move(next);
  }
  PackedDelta delta = store_.replace_packed(ns, std::move(items));
  resource_version = listed_version;
  lists_.fetch_add(1);
  logger_.debug("listed", {{"namespace", ns},
                           {"resourceVersion", resource_version},
                           {"added", delta.added.size()},
                           {"updated", delta.updated.size()},
                           {"deleted", delta.deleted.size()}});
  dispatch(delta);
  // Hand the pages' memory back to the system; glibc keeps freed heap otherwise.
  malloc_trim(0);
  return true;
}

void Informer::reflect(const std::string& ns) {
  Backoff backoff(clock_, options_.backoff);
  std::mt19937 rng{std::random_device{}()};
  std::string rv;
  bool need_list = true;
  bool synced = false;
  while (!stop_.stopped()) {
    if (need_list) {
      if (!relist(ns, rv)) {
        if (!stop_.sleep_for(backoff.next())) return;
        continue;
      }
      need_list = false;
      if (!synced) {
        synced = true;
        synced_.fetch_add(1);
      }
    }

    kube::WatchOptions wo;
    wo.label_selector = options_.label_selector;
    wo.field_selector = options_.field_selector;
    wo.resource_version = rv;
    wo.allow_bookmarks = true;
    wo.timeout_seconds =
        options_.min_watch_timeout_seconds +
        static_cast<int>(rng() % static_cast<unsigned>(std::max(1, options_.min_watch_timeout_seconds)));

    kube::Cancellation cancel;
    {
      std::lock_guard lock(cancel_mu_);
      if (stop_.stopped()) return;
      active_watches_.push_back(&cancel);
    }
    std::size_t events = 0;
    const TimePoint started = clock_.now();
    auto end = client_.watch(
        options_.resource, ns, wo,
        [&](kube::WatchEvent&& ev) {
          ++events;
          if (ev.type == EventType::kBookmark) {
            std::string brv = resource_version_of(ev.object);
            if (!brv.empty()) rv = std::move(brv);
            return true;
          }
          ObjectPtr obj = prepare(std::move(ev.object));
          std::string orv = resource_version_of(*obj);
          if (ev.type == EventType::kDeleted) {
            (void)store_.erase(key_of(*obj));
            notify_delete(obj);
          } else {
            ObjectPtr old = store_.upsert(obj);
            if (old) {
              notify_update(old, obj);
            } else {
              notify_add(obj);
            }
          }
          if (!orv.empty()) rv = std::move(orv);
          return !stop_.stopped();
        },
        cancel);
    {
      std::lock_guard lock(cancel_mu_);
      std::erase(active_watches_, &cancel);
    }
    if (stop_.stopped()) return;
    if (end.ok()) {
      if (*end == WatchEnd::kCancelled) return;
      // A watch the server closes at once with nothing in it points at a
      // server in trouble; do not spin.
      if (events == 0 && clock_.now() - started < std::chrono::seconds(1)) {
        if (!stop_.sleep_for(backoff.next())) return;
      }
      continue;
    }
    if (end.code() == Code::kGone) {
      logger_.info("watch expired, relisting", {{"namespace", ns}, {"resourceVersion", rv}});
      need_list = true;
      continue;
    }
    const Duration wait = backoff.next();
    logger_.warn("watch failed, retrying", {{"namespace", ns},
                                            {"error", end.error().to_string()},
                                            {"retryIn", std::chrono::duration<double>(wait).count()}});
    if (!stop_.sleep_for(wait)) return;
  }
}

}  // namespace sot::runtime
