// The controller's test cluster (see harness.h).
#include "unit/controller/harness.h"

#include <algorithm>

#include <doctest/doctest.h>

#include "stillontime/kinds.h"

namespace sot::stillontime::test {
namespace {

// Log lines of the passes under test are not the test's output.
class Discard final : public runtime::LogSink {
 public:
  void write(std::string_view) override {}
};

bool is_write(const std::string& verb) {
  return verb == "create" || verb == "apply" || verb == "update" || verb == "patch" || verb == "delete";
}

// Random credentials that are recognisably the test's.
std::string fixed_random(std::size_t length) {
  return std::string(length, 'r');
}

}  // namespace

Cluster::Cluster(TenancyPolicy tenancy) : tenancy_(std::move(tenancy)) {
  kinds_ = child_kinds(versions_);
  kinds_.push_back(stillontime_resource());
  kinds_.push_back(kube::resources::namespaces());
  for (const auto& kind : kinds_) {
    caches_[kind.plural] = std::make_unique<runtime::Store>(
        kind.plural == stillontime_resource().plural ? runtime::Indexer(claimed_namespace) : runtime::Indexer());
  }
  reconciler_ = std::make_unique<StillOnTimeReconciler>(versions_, fixed_random, nullptr, tenancy_);
}

void Cluster::put_resource(const std::string& ns, const std::string& name, const Json& spec, const Json& metadata) {
  Json meta = {{"name", name},
               {"namespace", ns},
               {"uid", "uid-" + ns + "-" + name},
               {"generation", 1},
               {"creationTimestamp", "2024-05-01T00:00:00Z"}};
  meta.merge_patch(metadata);
  if (auto old = api_.stored(stillontime_resource(), {ns, name})) {
    // An edit of the spec: a new generation, status and finalizers kept.
    meta["generation"] = (*old)["metadata"].value("generation", 1) + 1;
    if ((*old)["metadata"].contains("finalizers")) meta["finalizers"] = (*old)["metadata"]["finalizers"];
    Json cr = *old;
    cr["metadata"].update(meta);
    cr["spec"] = spec;
    api_.put(stillontime_resource(), cr);
    return;
  }
  api_.put(stillontime_resource(), {{"metadata", meta}, {"spec", spec}});
}

void Cluster::put_namespace(const std::string& name, const std::string& accept_from) {
  Json meta = {{"name", name}};
  if (!accept_from.empty()) meta["annotations"] = {{kAcceptFromAnnotation, accept_from}};
  api_.put(kube::resources::namespaces(), {{"metadata", meta}});
}

void Cluster::edit(const kube::ResourceRef& ref, const kube::ObjectKey& key, const std::function<void(Json&)>& change) {
  auto object = api_.stored(ref, key);
  const std::string what = "no " + ref.kind + " " + key.to_string() + " to edit";
  REQUIRE_MESSAGE(object.has_value(), what);
  change(*object);
  api_.put(ref, *object);
}

void Cluster::sync() {
  for (const auto& kind : kinds_) {
    auto list = api_.list(kind, "", kube::ListOptions{});
    REQUIRE(list.ok());
    std::vector<runtime::ObjectPtr> items;
    for (auto item : (*list)["items"]) {
      // As the informer does: list items carry no kind of their own.
      item["kind"] = kind.kind;
      item["apiVersion"] = kind.api_version();
      items.push_back(std::make_shared<const Json>(std::move(item)));
    }
    (void)caches_[kind.plural]->replace("", std::move(items));
  }
}

runtime::ReconcileResult Cluster::reconcile(const std::string& ns, const std::string& name) {
  sync();
  calls_before_ = api_.calls().size();
  runtime::Context ctx("test-pass", runtime::Logger(std::make_shared<Discard>(), runtime::LogLevel::kError), api_,
                       *this, nullptr, clock_);
  return reconciler_->reconcile({ns, name}, ctx);
}

int Cluster::calls(const std::string& verb, const std::string& plural) const {
  const auto all = api_.calls();
  return static_cast<int>(std::count_if(all.begin() + static_cast<std::ptrdiff_t>(calls_before_), all.end(),
                                        [&](const sot::test::FakeKubeClient::Call& c) {
                                          return c.verb == verb && (plural.empty() || c.plural == plural);
                                        }));
}

int Cluster::writes() const {
  const auto all = api_.calls();
  return static_cast<int>(std::count_if(all.begin() + static_cast<std::ptrdiff_t>(calls_before_), all.end(),
                                        [](const sot::test::FakeKubeClient::Call& c) { return is_write(c.verb); }));
}

int Cluster::child_writes() const {
  const auto all = api_.calls();
  const std::string own = stillontime_resource().plural;
  return static_cast<int>(
      std::count_if(all.begin() + static_cast<std::ptrdiff_t>(calls_before_), all.end(),
                    [&](const sot::test::FakeKubeClient::Call& c) { return is_write(c.verb) && c.plural != own; }));
}

std::optional<Json> Cluster::get(const kube::ResourceRef& ref, const kube::ObjectKey& key) const {
  return api_.stored(ref, key);
}

std::optional<Json> Cluster::get(const std::string& api_version, const std::string& kind,
                                 const kube::ObjectKey& key) const {
  return api_.stored(resource_ref(api_version, kind), key);
}

Json Cluster::resource(const std::string& ns, const std::string& name) const {
  auto cr = api_.stored(stillontime_resource(), {ns, name});
  REQUIRE(cr.has_value());
  return *cr;
}

Json Cluster::condition(const std::string& ns, const std::string& name, const std::string& type) const {
  const Json cr = resource(ns, name);
  for (const auto& c : cr.value("status", Json::object()).value("conditions", Json::array())) {
    if (c.value("type", "") == type) return c;
  }
  return Json::object();
}

std::vector<std::string> Cluster::names(const kube::ResourceRef& ref, const std::string& ns) {
  std::vector<std::string> out;
  auto list = api_.list(ref, ns, kube::ListOptions{});
  REQUIRE(list.ok());
  for (const auto& item : (*list)["items"]) out.push_back(item["metadata"].value("name", ""));
  return out;
}

const runtime::CacheReader* Cluster::cache_for(const kube::ResourceRef& resource) const {
  auto it = caches_.find(resource.plural);
  return it == caches_.end() ? nullptr : it->second.get();
}

}  // namespace sot::stillontime::test
