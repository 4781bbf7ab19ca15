// Resident memory per cached object in an informer cache.
//
//   runtime_cache_bench synth [N]                       synthesized Deployments, with and without stripping
//   runtime_cache_bench live KUBECONFIG NAMESPACE [N]   creates N Deployments (server-side apply) in NAMESPACE,
//                                                       then syncs a real Informer and measures
//
// RSS is read from /proc/self/statm after malloc_trim(0), before and after the
// cache is filled; the difference divided by N is the cost per object. The
// cache compresses with the operator's vocabulary and the Deployments are
// applied as the operator, as in the operator's own process.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <malloc.h>
#include <string>
#include <unistd.h>

#include "controller/identity.h"
#include "kube/config.h"
#include "runtime/compact.h"
#include "runtime/informer.h"
#include "stillontime/builders/common.h"

using namespace sot;
using namespace sot::runtime;
using kube::Json;

namespace {

double rss_kib() {
  malloc_trim(0);
  std::ifstream in("/proc/self/statm");
  long size = 0, resident = 0;
  in >> size >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1024.0;
}

// A Deployment the way the operator's children look on the server: labels,
// a pod template with probes, resources, env and security context, status and
// the managedFields the API server adds.
Json deployment(const std::string& ns, int i) {
  const std::string name = "app-" + std::to_string(i) + "-backend";
  Json labels = {{"app.kubernetes.io/name", "stillontime"},
                 {"app.kubernetes.io/instance", "app-" + std::to_string(i)},
                 {"app.kubernetes.io/component", "backend"},
                 {"app.kubernetes.io/managed-by", "stillontime-operator"},
                 {"stillontime.app/owner", ns + ".app-" + std::to_string(i)}};
  Json env = Json::array();
  for (auto k : {"DATABASE_URL", "REDIS_URL", "JWT_SECRET", "PORT", "NODE_ENV", "LOG_LEVEL"}) {
    env.push_back({{"name", k}, {"valueFrom", {{"secretKeyRef", {{"name", name + "-env"}, {"key", k}}}}}});
  }
  Json container = {
      {"name", "backend"},
      {"image", "ghcr.io/stillontime/stillontime-server:1.4.2"},
      {"ports", Json::array({{{"name", "http"}, {"containerPort", 3000}, {"protocol", "TCP"}},
                             {{"name", "metrics"}, {"containerPort", 9090}, {"protocol", "TCP"}}})},
      {"env", env},
      {"resources",
       {{"requests", {{"cpu", "250m"}, {"memory", "256Mi"}}}, {"limits", {{"cpu", "500m"}, {"memory", "512Mi"}}}}},
      {"readinessProbe", {{"httpGet", {{"path", "/health"}, {"port", "http"}}}, {"periodSeconds", 10}}},
      {"livenessProbe", {{"httpGet", {{"path", "/health"}, {"port", "http"}}}, {"periodSeconds", 20}}},
      {"securityContext",
       {{"allowPrivilegeEscalation", false}, {"readOnlyRootFilesystem", true}, {"capabilities", {{"drop", {"ALL"}}}}}},
      {"volumeMounts",
       Json::array({{{"name", "tmp"}, {"mountPath", "/tmp"}}, {{"name", "logs"}, {"mountPath", "/app/logs"}}})}};
  Json obj = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata",
       {{"name", name},
        {"namespace", ns},
        {"labels", labels},
        {"annotations", {{"stillontime.app/applied-hash", "9f2c1e7a4b5d6c8e"}}}}},
      {"spec",
       {{"replicas", 3},
        {"selector",
         {{"matchLabels",
           {{"app.kubernetes.io/instance", "app-" + std::to_string(i)}, {"app.kubernetes.io/component", "backend"}}}}},
        {"template",
         {{"metadata",
           {{"labels", labels},
            {"annotations",
             {{"stillontime.app/config-checksum",
               "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b"}}}}},
          {"spec",
           {{"serviceAccountName", name},
            {"securityContext", {{"runAsNonRoot", true}, {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
            {"containers", Json::array({container})},
            {"volumes",
             Json::array({{{"name", "tmp"}, {"emptyDir", Json::object()}},
                          {{"name", "logs"}, {"persistentVolumeClaim", {{"claimName", name + "-logs"}}}}})}}}}}}}};
  return obj;
}

// What the server adds: uid, resourceVersion, managedFields, status.
Json as_served(Json obj, int i) {
  obj["metadata"]["uid"] = "3f0c2a4e-9d1b-4c6e-8a7f-" + std::to_string(100000000000 + i);
  obj["metadata"]["resourceVersion"] = std::to_string(100000 + i);
  obj["metadata"]["generation"] = 1;
  obj["metadata"]["creationTimestamp"] = "2024-05-01T10:00:00Z";
  Json fields = obj["spec"];  // managedFields mirror every field set, with "f:" keys
  std::function<Json(const Json&)> mark = [&](const Json& j) -> Json {
    if (!j.is_object()) return Json::object();
    Json out = Json::object();
    for (const auto& [k, v] : j.items()) out["f:" + k] = mark(v);
    return out;
  };
  obj["metadata"]["managedFields"] =
      Json::array({{{"manager", "stillontime-operator"},
                    {"operation", "Apply"},
                    {"apiVersion", "apps/v1"},
                    {"time", "2024-05-01T10:00:00Z"},
                    {"fieldsType", "FieldsV1"},
                    {"fieldsV1", {{"f:spec", mark(fields)}}}},
                   {{"manager", "kube-controller-manager"},
                    {"operation", "Update"},
                    {"apiVersion", "apps/v1"},
                    {"time", "2024-05-01T10:00:01Z"},
                    {"fieldsType", "FieldsV1"},
                    {"fieldsV1", {{"f:status", {{"f:replicas", Json::object()}, {"f:conditions", Json::object()}}}}}}});
  obj["status"] = {{"observedGeneration", 1},
                   {"replicas", 3},
                   {"readyReplicas", 3},
                   {"availableReplicas", 3},
                   {"updatedReplicas", 3},
                   {"conditions", Json::array({{{"type", "Available"},
                                                {"status", "True"},
                                                {"reason", "MinimumReplicasAvailable"},
                                                {"lastUpdateTime", "2024-05-01T10:00:05Z"},
                                                {"lastTransitionTime", "2024-05-01T10:00:05Z"},
                                                {"message", "Deployment has minimum availability."}},
                                               {{"type", "Progressing"},
                                                {"status", "True"},
                                                {"reason", "NewReplicaSetAvailable"},
                                                {"lastUpdateTime", "2024-05-01T10:00:05Z"},
                                                {"lastTransitionTime", "2024-05-01T10:00:00Z"},
                                                {"message", "ReplicaSet has successfully progressed."}}})}};
  return obj;
}

void synth(int n, bool strip) {
  std::vector<std::string> wire;  // what a list page would carry, parsed one by one
  wire.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) wire.push_back(as_served(deployment("bench", i), i).dump());
  std::size_t bytes = 0;
  for (const auto& w : wire) bytes += w.size();
  const double before = rss_kib();
  Store store;
  for (const auto& w : wire) {
    Json o = Json::parse(w);
    if (strip) strip_for_cache(o);
    (void)store.upsert(std::make_shared<const Json>(std::move(o)));
  }
  const double after = rss_kib();
  std::size_t packed = 0;
  for (const auto& key : store.keys()) packed += pack_object(*store.get(key)).packed.size();
  std::printf(
      "synth %-9s N=%d  JSON on the wire %.0f B/object  packed %.0f B/object  RSS delta %.0f KiB  = %.0f B/object\n",
      strip ? "stripped" : "unstripped", n, static_cast<double>(bytes) / n, static_cast<double>(packed) / n,
      after - before, (after - before) * 1024.0 / n);
}

int live(const std::string& kubeconfig, const std::string& ns, int n) {
  auto cfg = kube::load_kubeconfig(kubeconfig);
  if (!cfg.ok()) {
    std::cerr << cfg.error().message << "\n";
    return 1;
  }
  cfg->field_manager = stillontime::kManagedBy;
  auto client = kube::RestClient::create(*cfg);
  (void)client->create(kube::resources::namespaces(), "",
                       {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
  for (int i = 0; i < n; ++i) {
    Json d = deployment(ns, i);
    auto r = client->apply(kube::resources::deployments(), {ns, d["metadata"]["name"]}, d, kube::ApplyOptions{});
    if (!r.ok()) {
      std::cerr << "apply: " << r.error().to_string() << "\n";
      return 1;
    }
  }
  for (bool strip : {true, false}) {
    const double before = rss_kib();
    InformerOptions o;
    o.resource = kube::resources::deployments();
    o.namespaces = {ns};
    if (!strip) o.transform = nullptr;
    auto inf = std::make_unique<Informer>(*client, real_clock(), o,
                                          Logger(std::make_shared<StreamLogSink>(std::cerr), LogLevel::kWarn));
    inf->start();
    while (!inf->has_synced()) usleep(10000);
    const double after = rss_kib();
    std::printf("live  %-9s N=%zu  RSS delta %.0f KiB  = %.0f B/object\n", strip ? "stripped" : "unstripped",
                inf->cache().size(), after - before,
                (after - before) * 1024.0 / static_cast<double>(inf->cache().size()));
    inf->stop();
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  runtime::set_compression_vocabulary(stillontime::cache_vocabulary());
  const std::string mode = argc > 1 ? argv[1] : "synth";
  if (mode == "synth") {
    const int n = argc > 2 ? std::stoi(argv[2]) : 2000;
    synth(n, true);
    synth(n, false);
    return 0;
  }
  if (mode == "live" && argc >= 4) return live(argv[2], argv[3], argc > 4 ? std::stoi(argv[4]) : 2000);
  std::cerr << "usage: runtime_cache_bench synth [N] | live KUBECONFIG NAMESPACE [N]\n";
  return 2;
}
