// The operator under faults of the platform, against the real API server:
// etcd compacts its history and the API server restarts in the middle of a
// burst of 100 resources. The operator must converge, create exactly one Job
// per backup request and per restore, and lose no status; a fresh operator
// started afterwards must find nothing to do.
//
// Without a kubelet, a simulator plays the kubelet and the workload and Job
// controllers for every child: Deployments and StatefulSets report their
// replicas ready, Jobs complete. It keeps going through the outage.
#include <atomic>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <doctest/doctest.h>

#include "e2e/support.h"
#include "operator_process.h"
#include "stillontime/builders/backup.h"

using namespace sot;
using namespace sot::kube;
using namespace std::chrono_literals;

namespace {

constexpr const char* kManaged = "app.kubernetes.io/managed-by=stillontime-operator";
constexpr int kResources = 100;
constexpr int kBackupRequests = 10;  // resources 0..9 ask for an on-demand backup
constexpr int kRestores = 10;        // resources 10..19 ask for a restore

bool asks_backup(int i) {
  return i < kBackupRequests;
}
bool asks_restore(int i) {
  return i >= kBackupRequests && i < kBackupRequests + kRestores;
}

Json resource(const std::string& ns, int i) {
  Json spec = {{"environment", "development"}, {"version", "1.0.0"}};
  Json meta = {{"name", "app"}, {"namespace", ns}};
  if (asks_backup(i) || asks_restore(i)) spec["backup"] = {{"enabled", true}};
  if (asks_backup(i)) meta["annotations"] = {{"stillontime.app/backup-request", "burst"}};
  if (asks_restore(i)) spec["restore"] = {{"from", "latest"}, {"id", "burst"}};
  return {{"apiVersion", "stillontime.app/v1alpha1"}, {"kind", "StillOnTime"}, {"metadata", meta}, {"spec", spec}};
}

// Plays the kubelet, the Deployment, StatefulSet and Job controllers for every
// child of the operator, in every namespace, until stopped. Errors (the API
// server is down for a while) are only counted.
class ClusterSimulator {
 public:
  ClusterSimulator() : client_(e2e::client()), thread_([this] { loop(); }) {}
  ~ClusterSimulator() {
    stop_ = true;
    thread_.join();
  }
  int errors() const { return errors_.load(); }
  int jobs_completed() const { return jobs_completed_.load(); }

 private:
  void loop() {
    while (!stop_) {
      pass();
      std::this_thread::sleep_for(300ms);
    }
  }
  bool patch_status(const ResourceRef& ref, const Json& item, const Json& status) {
    PatchOptions po;
    po.subresource = "status";
    const ObjectKey key{item["metadata"]["namespace"], item["metadata"]["name"]};
    if (client_->merge_patch(ref, key, {{"status", status}}, po).ok()) return true;
    ++errors_;
    return false;
  }
  void pass() {
    ListOptions lo;
    lo.label_selector = kManaged;
    for (const auto& ref : {resources::deployments(), resources::stateful_sets()}) {
      auto list = client_->list(ref, "", lo);
      if (!list.ok()) {
        ++errors_;
        continue;
      }
      for (const auto& item : (*list)["items"]) {
        const int replicas = item["spec"].value("replicas", 1);
        const Json& st = item.value("status", Json::object());
        if (st.value("observedGeneration", 0) == item["metadata"].value("generation", 0) &&
            st.value("readyReplicas", 0) == replicas && st.value("replicas", 0) == replicas) {
          continue;
        }
        Json status = {{"observedGeneration", item["metadata"]["generation"]},
                       {"replicas", replicas},
                       {"readyReplicas", replicas},
                       {"updatedReplicas", replicas},
                       {"availableReplicas", replicas}};
        if (ref.kind == "StatefulSet") status["currentReplicas"] = replicas;
        patch_status(ref, item, status);
      }
    }
    auto jobs = client_->list(e2e::kJob, "", lo);
    if (!jobs.ok()) {
      ++errors_;
      return;
    }
    for (const auto& job : (*jobs)["items"]) {
      if (job.value("status", Json::object()).contains("conditions")) continue;
      // Counted once it took: a patch refused during the outage is tried again next pass.
      if (patch_status(e2e::kJob, job, e2e::job_status(true, 1))) ++jobs_completed_;
    }
  }

  std::unique_ptr<RestClient> client_;
  std::atomic<bool> stop_{false};
  std::atomic<int> errors_{0};
  std::atomic<int> jobs_completed_{0};
  std::thread thread_;
};

std::string condition(const Json& cr, const std::string& type) {
  for (const auto& c : cr.value("status", Json::object()).value("conditions", Json::array())) {
    if (c.value("type", "") == type) return c.value("status", "");
  }
  return "";
}

// Why resource `i` has not converged yet ("" when it has).
std::string unconverged(const Json& cr, int i) {
  if (!cr.is_object()) return "missing";
  const Json& st = cr.value("status", Json::object());
  if (st.value("observedGeneration", 0) != cr["metadata"].value("generation", -1)) return "observedGeneration behind";
  if (condition(cr, "Ready") != "True") return "not Ready";
  if (asks_backup(i)) {
    const Json req = st.value("backup", Json::object()).value("lastRequest", Json::object());
    if (req.value("id", "") != "burst" || req.value("phase", "") != "Succeeded") return "backup request " + req.dump();
  }
  if (asks_restore(i)) {
    const Json rs = st.value("restore", Json::object());
    if (rs.value("id", "") != "burst" || rs.value("phase", "") != "Succeeded") return "restore " + rs.dump();
  }
  return "";
}

int count_jobs(KubeClient& c, const std::string& ns, const std::string& selector) {
  ListOptions lo;
  lo.label_selector = selector;
  auto list = c.list(e2e::kJob, ns, lo);
  return list.ok() ? static_cast<int>((*list)["items"].size()) : -1;
}

// etcd's current revision, then a physical compaction of everything before it
// (through etcd's JSON gateway, as `etcdctl compact --physical` would).
void compact_etcd() {
  const std::string etcd = e2e::control_plane().env.at("ETCD_ENDPOINT");
  auto range = e2e::run("curl -fsS -X POST " + etcd + "/v3/kv/range -d '{\"key\":\"AA==\"}'");
  REQUIRE_MESSAGE(range.exit_code == 0, range.output);
  const Json answer = Json::parse(range.output, nullptr, false);
  REQUIRE(answer.is_object());
  const std::string revision = answer["header"].value("revision", "");
  REQUIRE_FALSE(revision.empty());
  auto compact = e2e::run("curl -fsS -X POST " + etcd + "/v3/kv/compaction -d '{\"revision\":\"" + revision +
                          "\",\"physical\":true}'");
  REQUIRE_MESSAGE(compact.exit_code == 0, compact.output);
  MESSAGE("etcd compacted at revision " << revision);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE(
    "etcd compaction and an API server restart in the middle of a 100-resource burst: converged, one Job each, no "
    "status lost") {
  e2e::install_crd();
  auto c = e2e::client();
  std::vector<std::unique_ptr<e2e::TestNamespace>> namespaces;
  for (int i = 0; i < kResources; ++i) namespaces.push_back(std::make_unique<e2e::TestNamespace>("flt"));
  auto op = std::make_unique<e2e::OperatorProcess>();
  ClusterSimulator simulator;

  // The burst: one creator, retrying through the outage; the faults strike when
  // 40 of the 100 exist and the operator is busy with them.
  std::atomic<int> created{0};
  std::thread creator([&] {
    for (int i = 0; i < kResources; ++i) {
      const auto give_up = std::chrono::steady_clock::now() + 90s;
      while (std::chrono::steady_clock::now() < give_up) {
        auto r = c->create(e2e::kStillOnTime, namespaces[i]->name(), resource(namespaces[i]->name(), i));
        if (r.ok() || r.code() == Code::kAlreadyExists) break;
        std::this_thread::sleep_for(200ms);
      }
      ++created;
    }
  });
  REQUIRE(e2e::eventually([&] { return created >= 40; }, 60s));
  compact_etcd();
  const int before_restart = created.load();
  const auto restart = e2e::run("bash " STILLONTIME_SOURCE_DIR "/scripts/control-plane.sh restart-apiserver --dir " +
                                e2e::control_plane().dir + " --kill --pause 2");
  REQUIRE_MESSAGE(restart.exit_code == 0, restart.output);
  MESSAGE("API server killed after " << before_restart << " of " << kResources << " resources were created");
  CHECK(before_restart < kResources);
  creator.join();
  REQUIRE(created == kResources);

  // Converged: every resource observed, Ready, its backup request and restore done.
  const auto t0 = std::chrono::steady_clock::now();
  std::string pending;
  const bool converged = e2e::eventually(
      [&] {
        for (int i = 0; i < kResources; ++i) {
          const std::string why =
              unconverged(e2e::get_or_null(*c, e2e::kStillOnTime, {namespaces[i]->name(), "app"}), i);
          if (!why.empty()) {
            pending = namespaces[i]->name() + ": " + why;
            return false;
          }
        }
        return true;
      },
      240s);
  REQUIRE_MESSAGE(converged, pending);
  MESSAGE("converged " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
                       << " s after the burst; simulator errors during the outage: " << simulator.errors());
  // The restart cost every watch its place in a compacted history: the operator relisted.
  CHECK(read_file(op->log_path()).find("watch expired, relisting") != std::string::npos);

  // Exactly one Job per backup request and per restore, none elsewhere.
  const std::string requested = std::string(stillontime::kTriggerLabel) + "=request";
  const std::string restores = std::string(stillontime::kTaskLabel) + "=restore";
  for (int i = 0; i < kResources; ++i) {
    CAPTURE(namespaces[i]->name());
    CHECK(count_jobs(*c, namespaces[i]->name(), requested) == (asks_backup(i) ? 1 : 0));
    CHECK(count_jobs(*c, namespaces[i]->name(), restores) == (asks_restore(i) ? 1 : 0));
  }
  CHECK(simulator.jobs_completed() == kBackupRequests + kRestores);

  // Nothing lost, nothing left to do: the finished Jobs go (as their TTL would
  // take them) and a fresh operator replaces this one. It writes nothing and
  // remakes no Job; every status stays as it was.
  // Converged is what the resources say; the operator may still be writing the
  // last of it (an Event, a status a pass behind). Its successor is judged from
  // where this one came to rest.
  REQUIRE(op->comes_to_rest(3s, 60s));
  std::map<std::string, Json> statuses;
  for (const auto& ns : namespaces)
    statuses[ns->name()] = e2e::get_or_null(*c, e2e::kStillOnTime, {ns->name(), "app"})["status"];
  for (int i = 0; i < kBackupRequests + kRestores; ++i) {
    ListOptions lo;
    lo.label_selector = kManaged;
    auto jobs = c->list(e2e::kJob, namespaces[i]->name(), lo);
    REQUIRE(jobs.ok());
    for (const auto& job : (*jobs)["items"]) {
      DeleteOptions d;
      d.propagation = Propagation::kBackground;
      REQUIRE(c->remove(e2e::kJob, {namespaces[i]->name(), job["metadata"]["name"]}, d).ok());
    }
  }
  op.reset();
  auto fresh = std::make_unique<e2e::OperatorProcess>();
  // It has seen every resource once it has reconciled each of them.
  REQUIRE_MESSAGE(e2e::eventually(
                      [&] {
                        const std::string m = fresh->metrics();
                        double total = 0;
                        std::istringstream in(m);
                        std::string line;
                        while (std::getline(in, line)) {
                          if (line.starts_with("controller_runtime_reconcile_total{") &&
                              line.find("result=\"success\"") != std::string::npos) {
                            total += std::stod(line.substr(line.rfind(' ') + 1));
                          }
                        }
                        return total >= kResources;
                      },
                      60s),
                  read_file(fresh->log_path()));
  std::this_thread::sleep_for(3s);
  // What it sent that is not a read. A write the API server took would change
  // the cluster; one answered 404 changed nothing (the object was already gone).
  // This operator watches every namespace of the shared control plane, so it
  // also finalizes resources of suites that ran before, whose namespaces are
  // still being removed: one or two PUTs answered 404 were seen in loaded runs.
  // Any other refusal fails the case; the operator's lines that mention a 404
  // are shown with the counts.
  std::string write_lines;
  int accepted_writes = 0;
  int other_refusals = 0;
  {
    std::istringstream in(fresh->metrics());
    std::string line;
    while (std::getline(in, line)) {
      if (!line.starts_with("rest_client_requests_total") || line.find("method=\"GET\"") != std::string::npos) continue;
      write_lines += line + "\n";
      const int count = static_cast<int>(std::stod(line.substr(line.rfind(' ') + 1)));
      if (line.find("code=\"2") != std::string::npos) {
        accepted_writes += count;
      } else if (line.find("code=\"404\"") == std::string::npos) {
        other_refusals += count;
      }
    }
  }
  std::string not_found_lines;
  {
    std::istringstream in(read_file(fresh->log_path()));
    std::string line;
    while (std::getline(in, line)) {
      if (line.find("404") != std::string::npos || line.find("NotFound") != std::string::npos)
        not_found_lines += line + "\n";
    }
  }
  INFO(write_lines);
  INFO(not_found_lines);
  CHECK(accepted_writes == 0);
  CHECK(other_refusals == 0);
  for (int i = 0; i < kResources; ++i) {
    CAPTURE(namespaces[i]->name());
    CHECK(count_jobs(*c, namespaces[i]->name(), requested) == 0);
    CHECK(count_jobs(*c, namespaces[i]->name(), restores) == 0);
    CHECK(e2e::get_or_null(*c, e2e::kStillOnTime, {namespaces[i]->name(), "app"})["status"] ==
          statuses[namespaces[i]->name()]);
  }
}
