// The operator against the biggest and the most hostile StillOnTime resources
// the real kube-apiserver stores (docs/reliability.md, "Operator under faults
// and scale"): the largest resource etcd accepts, 12,000 env vars whose
// Deployment etcd cannot hold, values of 100,000 characters in fields without
// a maxLength, and one resource with every field set. The operator must not
// crash, must say in a condition which field is at fault, must not retry what
// cannot succeed, and must keep its memory bounded. Each case prints its
// figures (MESSAGE lines). Each case runs its own operator, watching only its
// namespace, so the writes counted are its own.
#include <fstream>
#include <set>
#include <thread>

#include <doctest/doctest.h>

#include "e2e/support.h"
#include "kube/yaml.h"
#include "operator_process.h"
#include "stillontime/api_versions.h"

using namespace sot;
using namespace sot::kube;
using namespace std::chrono_literals;

namespace {

// Writes the operator sent that the API server answered with 500 (etcd's and
// the server's size refusals come back so on 1.20).
double refused_writes(const e2e::OperatorProcess& op) {
  return op.metric("rest_client_requests_total", {"code=\"500\""});
}

Json get(KubeClient& c, const std::string& ns, const std::string& name) {
  return e2e::get_or_null(c, e2e::kStillOnTime, {ns, name});
}

bool stalled_with(KubeClient& c, const std::string& ns, const std::string& name, const std::string& reason,
                  std::chrono::milliseconds timeout) {
  return e2e::eventually(
      [&] {
        const Json cr = get(c, ns, name);
        return e2e::condition_of(cr, "Stalled") == "True" && e2e::condition_of(cr, "Stalled", "reason") == reason;
      },
      timeout);
}

Json env_of(std::size_t count, std::size_t value_bytes) {
  Json env = Json::array();
  for (std::size_t i = 0; i < count; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "VAR_%06zu", i);
    env.push_back({{"name", name}, {"value", std::string(value_bytes, 'v')}});
  }
  return env;
}

}  // namespace

TEST_CASE("the largest resource the API server stores: one env value up to etcd's limit") {
  auto c = e2e::client();
  e2e::install_crd();
  e2e::TestNamespace ns("sot-largest");
  // Bisect the longest env value with which the resource is stored, to 1 KiB,
  // before this case's operator starts (nothing else watches the namespace).
  auto with_value = [&](std::size_t bytes) {
    return Json{{"backend", {{"env", Json::array({{{"name", "BIG"}, {"value", std::string(bytes, 'x')}}})}}}};
  };
  auto probe = [&](std::size_t bytes) {
    auto r = c->create(e2e::kStillOnTime, ns.name(), e2e::stillontime(ns.name(), "largest", with_value(bytes)));
    if (!r.ok()) {
      CHECK_MESSAGE(r.error().message.find("request is too large") != std::string::npos, r.error().to_string());
      return false;
    }
    REQUIRE(c->remove(e2e::kStillOnTime, {ns.name(), "largest"}, DeleteOptions{}).ok());
    REQUIRE(e2e::eventually([&] { return !c->get(e2e::kStillOnTime, {ns.name(), "largest"}).ok(); }, 10s));
    return true;
  };
  std::size_t fits = 1'500'000, too_big = 1'600'000;
  REQUIRE(probe(fits));
  REQUIRE_FALSE(probe(too_big));
  while (too_big - fits > 1024) {
    const std::size_t mid = (fits + too_big) / 2;
    (probe(mid) ? fits : too_big) = mid;
  }
  MESSAGE("largest env value stored: ", fits, " bytes (", too_big, " refused: etcdserver: request is too large)");
  CHECK(fits > 1'500'000);  // etcd's --max-request-bytes, 1.5 MiB, less the rest of the object

  // That resource: etcd refuses it any growth, so neither its finalizer nor
  // a status fits. The operator says so in an Event and stops.
  e2e::OperatorProcess op({"--namespaces", ns.name()});
  const double refused_before = refused_writes(op);
  REQUIRE(c->create(e2e::kStillOnTime, ns.name(), e2e::stillontime(ns.name(), "largest", with_value(fits))).ok());
  auto event_message = [&](const std::string& reason) {
    ListOptions lo;
    lo.field_selector = "involvedObject.name=largest,reason=" + reason;
    auto events = c->list(resources::events(), ns.name(), lo);
    return events.ok() && !(*events)["items"].empty() ? (*events)["items"][0].value("message", "") : std::string{};
  };
  REQUIRE(e2e::eventually([&] { return !event_message("ResourceTooLarge").empty(); }, 60s));
  MESSAGE("Event ResourceTooLarge: ", event_message("ResourceTooLarge"));
  CHECK(event_message("ResourceTooLarge").starts_with("spec.backend.env[0].value: this StillOnTime ("));
  CHECK(op.comes_to_rest(5s, 30s));
  CHECK_FALSE(get(*c, ns.name(), "largest").contains("status"));
  CHECK(refused_writes(op) - refused_before <= 3);  // the finalizer or the status, the Deployment
  MESSAGE("refused writes (HTTP 500) for it: ", refused_writes(op) - refused_before);

  // 4 KiB less: its status fits, but its backend Deployment (the value plus
  // a pod template and the operator's managedFields) does not.
  const double refused_at_child = refused_writes(op);
  REQUIRE(c->merge_patch(e2e::kStillOnTime, {ns.name(), "largest"}, {{"spec", with_value(fits - 4096)}},
                         PatchOptions{"kubectl"})
              .ok());
  REQUIRE(stalled_with(*c, ns.name(), "largest", "ChildTooLarge", 60s));
  const Json stalled = get(*c, ns.name(), "largest");
  const std::string message = e2e::condition_of(stalled, "Stalled", "message");
  MESSAGE("Stalled: ", message);
  CHECK(message.starts_with("spec.backend.env[0].value: the Deployment largest-backend made from it ("));
  CHECK(message.ends_with("make spec.backend.env[0].value smaller"));
  CHECK(e2e::condition_of(stalled, "Reconciling") == "False");
  CHECK(stalled["status"]["observedGeneration"] == 2);
  // Every other child is there; the backend is not.
  CHECK(e2e::eventually([&] { return c->get(e2e::kDeployment, {ns.name(), "largest-frontend"}).ok(); }, 10s));
  CHECK_FALSE(c->get(e2e::kDeployment, {ns.name(), "largest-backend"}).ok());
  // One refused write, then no more: a refusal is not retried for the same object.
  CHECK(op.comes_to_rest(5s, 30s));
  CHECK(refused_writes(op) - refused_at_child == 1);

  // 16 KiB less than the largest and the Deployment fits: progress as usual.
  const std::size_t smaller = fits - 16 * 1024;
  REQUIRE(c->merge_patch(e2e::kStillOnTime, {ns.name(), "largest"}, {{"spec", with_value(smaller)}},
                         PatchOptions{"kubectl"})
              .ok());
  REQUIRE(e2e::eventually([&] { return c->get(e2e::kDeployment, {ns.name(), "largest-backend"}).ok(); }, 30s));
  CHECK(e2e::eventually([&] { return e2e::condition_of(get(*c, ns.name(), "largest"), "Stalled") == "False"; }, 20s));
  const Json backend = e2e::get_or_null(*c, e2e::kDeployment, {ns.name(), "largest-backend"});
  bool carried = false;
  for (const auto& e : backend["spec"]["template"]["spec"]["containers"][0]["env"]) {
    carried = carried || (e["name"] == "BIG" && e["value"].get_ref<const std::string&>().size() == smaller);
  }
  CHECK(carried);
  e2e::make_workloads_ready(*c, ns.name(), ns.name() + ".largest");
  CHECK(e2e::eventually([&] { return e2e::condition_of(get(*c, ns.name(), "largest"), "Ready") == "True"; }, 20s));
  CHECK(op.comes_to_rest(5s, 30s));
  CHECK(op.running());
  e2e::delete_stillontimes(*c, ns.name());
  MESSAGE("operator memory: VmRSS ", op.memory_kib("VmRSS") / 1024, " MiB, peak VmHWM ", op.memory_kib("VmHWM") / 1024,
          " MiB");
  CHECK(op.memory_kib("VmHWM") < 256 * 1024);
}

TEST_CASE("12,000 env vars: the resource is stored, its Deployment is not; Stalled names spec.backend.env") {
  auto c = e2e::client();
  e2e::IsolatedOperator trial("sot-many-vars");
  auto& ns = trial.ns;
  auto& op = trial.op;
  const double refused_before = refused_writes(op);
  const double cpu_before = op.cpu_seconds();
  // 1.36 MB of resource; the Deployment adds managedFields for each var (the
  // env list is merged by name), about 1.9 MB.
  REQUIRE(c->create(e2e::kStillOnTime, ns.name(),
                    e2e::stillontime(ns.name(), "many", {{"backend", {{"env", env_of(12000, 80)}}}}))
              .ok());
  REQUIRE(stalled_with(*c, ns.name(), "many", "ChildTooLarge", 90s));
  const std::string message = e2e::condition_of(get(*c, ns.name(), "many"), "Stalled", "message");
  MESSAGE("Stalled: ", message);
  CHECK(message.starts_with("spec.backend.env: the Deployment many-backend made from it ("));
  CHECK(e2e::eventually([&] { return c->get(e2e::kDeployment, {ns.name(), "many-frontend"}).ok(); }, 10s));
  CHECK(op.comes_to_rest(5s, 60s));
  CHECK(refused_writes(op) - refused_before == 1);
  MESSAGE("operator CPU for the resource: ", op.cpu_seconds() - cpu_before, " s; VmRSS ", op.memory_kib("VmRSS") / 1024,
          " MiB, VmHWM ", op.memory_kib("VmHWM") / 1024, " MiB");

  // 200 vars fit: a new spec is tried at once, and the condition clears.
  REQUIRE(c->merge_patch(e2e::kStillOnTime, {ns.name(), "many"}, {{"spec", {{"backend", {{"env", env_of(200, 40)}}}}}},
                         PatchOptions{"kubectl"})
              .ok());
  CHECK(e2e::eventually([&] { return c->get(e2e::kDeployment, {ns.name(), "many-backend"}).ok(); }, 30s));
  CHECK(e2e::eventually([&] { return e2e::condition_of(get(*c, ns.name(), "many"), "Stalled") == "False"; }, 20s));
  CHECK(op.running());
  e2e::delete_stillontimes(*c, ns.name());
  CHECK(op.memory_kib("VmHWM") < 256 * 1024);
}

TEST_CASE("values without a maxLength, at 100,000 characters and more: Stalled naming the field, no crash") {
  auto c = e2e::client();
  e2e::IsolatedOperator trial("sot-hostile");
  auto& ns = trial.ns;
  auto& op = trial.op;
  std::string accents;  // two-byte characters: a message cut blindly splits one
  while (accents.size() < 3000) accents += "\xc3\xa9";
  const std::string huge(200000, 'a');
  struct Case {
    std::string name;
    Json spec;
    std::string field;  // the field the Stalled message must start with
  };
  Json bad_names = Json::array();
  for (int i = 0; i < 5000; ++i) bad_names.push_back({{"name", "1-" + std::to_string(i)}, {"value", "x"}});
  const std::vector<Case> cases = {
      {"image", {{"backend", {{"image", huge}}}}, "spec.backend.image"},
      {"digest", {{"frontend", {{"image", "repo@sha256:" + std::string(200000, 'g')}}}}, "spec.frontend.image"},
      {"env-name",
       {{"backend", {{"env", Json::array({{{"name", "1" + huge}, {"value", "x"}}})}}}},
       "spec.backend.env[0].name"},
      {"quantity",
       {{"redis", {{"resources", {{"limits", {{"memory", std::string(5000, '9') + "Gi"}}}}}}}},
       "spec.redis.resources.limits.memory"},
      {"storage", {{"postgres", {{"storage", {{"size", std::string(200000, '1')}}}}}}, "spec.postgres.storage.size"},
      {"utf8", {{"backend", {{"image", "x" + accents}}}}, "spec.backend.image"},
      {"value-from",
       {{"backend",
         {{"env", Json::array({{{"name", "X"},
                                {"valueFrom",
                                 {{"secretKeyRef", {{"name", "s"}, {"key", "k"}, {"nested", {{"a", huge}}}}}}}}})}}}},
       "spec.backend.env[0].valueFrom.secretKeyRef.nested"},
      {"many-errors", {{"backend", {{"env", bad_names}}}}, "spec.backend.env[0].name"},
  };
  for (const auto& k : cases) {
    auto r = c->create(e2e::kStillOnTime, ns.name(), e2e::stillontime(ns.name(), k.name, k.spec));
    REQUIRE_MESSAGE(r.ok(), k.name, ": ", r.error().to_string());
  }
  for (const auto& k : cases) {
    CAPTURE(k.name);
    REQUIRE(stalled_with(*c, ns.name(), k.name, "InvalidSpec", 30s));
    const std::string message = e2e::condition_of(get(*c, ns.name(), k.name), "Stalled", "message");
    CHECK(message.starts_with(k.field));
    CHECK(message.size() < 8192);  // values shortened, at most 20 errors listed
  }
  const std::string many = e2e::condition_of(get(*c, ns.name(), "many-errors"), "Stalled", "message");
  CHECK(many.find("; and 4980 more") != std::string::npos);
  // No child for any of them, the Events were written, the operator is alive.
  CHECK_FALSE(c->get(e2e::kDeployment, {ns.name(), "image-frontend"}).ok());
  CHECK(e2e::eventually(
      [&] {
        ListOptions lo;
        lo.field_selector = "involvedObject.name=utf8,reason=InvalidSpec";
        auto events = c->list(resources::events(), ns.name(), lo);
        return events.ok() && !(*events)["items"].empty();
      },
      10s));
  CHECK(op.comes_to_rest(5s, 30s));
  CHECK(op.running());
}

TEST_CASE("every field set (examples/complete.yaml): the full child set, then rest") {
  auto c = e2e::client();
  e2e::IsolatedOperator trial("sot-complete");
  auto& ns = trial.ns;
  auto& op = trial.op;
  std::ifstream in(STILLONTIME_SOURCE_DIR "/examples/complete.yaml");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto docs = kube::yaml_documents_to_json(text);
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 2);
  for (auto& doc : *docs) {
    doc["metadata"]["namespace"] = ns.name();
    if (doc["spec"].contains("targetNamespace")) doc["spec"]["targetNamespace"] = ns.name();
  }
  // What `render` says the two resources make, here.
  const std::string file = e2e::control_plane().dir + "/complete-" + ns.name() + ".json";
  {
    std::ofstream out(file);
    for (const auto& doc : *docs) out << doc.dump() << "\n---\n";
  }
  auto rendered =
      e2e::run(std::string(STILLONTIME_BINARY_DIR) + "/bin/stillontime-operator render --api-versions 1.20 -f " + file);
  REQUIRE_MESSAGE(rendered.exit_code == 0, rendered.output);
  auto expected = kube::yaml_documents_to_json(rendered.output);
  REQUIRE(expected.ok());

  for (const auto& [name, data] : {std::pair{"stillontime-external", Json{{"GOOGLE_CLIENT_ID", "aWQ="}}},
                                   std::pair{"stillontime-database", Json{{"url", "cG9zdGdyZXNxbDovL2RiL2FwcA=="}}}}) {
    REQUIRE(c->create(resources::secrets(), ns.name(),
                      {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", name}}}, {"data", data}})
                .ok());
  }
  for (const auto& doc : *docs) REQUIRE(c->create(e2e::kStillOnTime, ns.name(), doc).ok());

  // Every object render lists, of the kinds this API server serves.
  std::set<std::string> missing;
  std::size_t checked = 0;
  CHECK(e2e::eventually(
      [&] {
        missing.clear();
        checked = 0;
        for (const auto& obj : *expected) {
          const std::string api_version = obj["apiVersion"];
          if (api_version.starts_with("monitoring.coreos.com/")) continue;  // not served here
          const ResourceRef ref = stillontime::resource_ref(api_version, obj["kind"]);
          const std::string name = obj["metadata"]["name"];
          // While spec.restore runs (here forever: no kubelet runs its Job) the
          // backend is held at 0 replicas and its autoscaler is left out.
          if (ref.kind == "HorizontalPodAutoscaler" && name == "complete-backend") continue;
          ++checked;
          if (!c->get(ref, {ns.name(), name}).ok()) missing.insert(ref.kind + "/" + name);
        }
        return missing.empty();
      },
      60s));
  std::string list;
  for (const auto& m : missing) list += m + " ";
  CHECK_MESSAGE(missing.empty(), "missing: ", list);
  MESSAGE("children present: ", checked, " of the ", expected->size(),
          " objects render lists (the other: the backend's autoscaler)");
  CHECK(checked > 60);
  const Json complete = get(*c, ns.name(), "complete");
  CHECK(complete["status"]["restore"]["phase"] == "Running");
  CHECK(e2e::get_or_null(*c, e2e::kDeployment, {ns.name(), "complete-backend"})["spec"]["replicas"] == 0);
  CHECK_FALSE(c->get(stillontime::resource_ref("autoscaling/v2beta2", "HorizontalPodAutoscaler"),
                     {ns.name(), "complete-backend"})
                  .ok());
  CHECK(c->get(resources::jobs(), {ns.name(), complete["status"]["restore"].value("job", "")}).ok());
  for (const char* name : {"complete", "complete-external"}) {
    CAPTURE(name);
    CHECK(e2e::eventually([&] { return e2e::condition_of(get(*c, ns.name(), name), "Stalled") == "False"; }, 20s));
  }
  CHECK(op.comes_to_rest(5s, 60s));
  CHECK(op.running());
}
