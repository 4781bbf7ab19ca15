#include "operator_process.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <memory>
#include <regex>
#include <signal.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <doctest/doctest.h>

#include "e2e/support.h"
#include "kube/yaml.h"

namespace sot::e2e {

OperatorProcess::OperatorProcess(std::vector<std::string> extra_args, std::map<std::string, std::string> env) {
  const auto& cp = control_plane();
  log_path_ = cp.dir + "/operator-e2e-" + random_suffix() + ".log";
  // STILLONTIME_TEST_OPERATOR_BIN runs the suites against another build (the
  // "before" figures of docs/reliability.md).
  const char* other = std::getenv("STILLONTIME_TEST_OPERATOR_BIN");
  std::vector<std::string> args = {other != nullptr && *other != '\0'
                                       ? std::string(other)
                                       : std::string(STILLONTIME_BINARY_DIR) + "/bin/stillontime-operator",
                                   "run",
                                   "--kubeconfig",
                                   cp.kubeconfig(),
                                   "--metrics-bind-address",
                                   "127.0.0.1:0",
                                   "--health-probe-bind-address",
                                   "127.0.0.1:0",
                                   "--max-concurrent-reconciles",
                                   "4"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    // Dies with the test binary, even when a failed REQUIRE aborts it.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    const int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  const std::regex port_re(R"("msg":"serving metrics","port":([0-9]+))");
  REQUIRE(eventually(
      [&] {
        std::ifstream in(log_path_);
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string text = ss.str();
        std::smatch m;
        if (std::regex_search(text, m, port_re)) {
          metrics_port_ = std::stoi(m[1].str());
          return true;
        }
        return false;
      },
      std::chrono::seconds(20)));
}

OperatorProcess::~OperatorProcess() {
  stop();
}

void OperatorProcess::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 400; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string OperatorProcess::metrics() const {
  auto r = run("curl -fsS --max-time 5 http://127.0.0.1:" + std::to_string(metrics_port_) + "/metrics");
  return r.exit_code == 0 ? r.output : std::string{};
}

double OperatorProcess::requests(const std::vector<std::string>& methods) const {
  double total = 0;
  for (const auto& m : methods) total += metric("rest_client_requests_total", {"method=\"" + m + "\""});
  return total;
}

double OperatorProcess::metric(const std::string& name, const std::vector<std::string>& labels) const {
  const std::string text = metrics();
  double total = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with(name + "{")) continue;
    if (std::all_of(labels.begin(), labels.end(),
                    [&](const std::string& l) { return line.find(l) != std::string::npos; })) {
      total += std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return total;
}

long OperatorProcess::memory_kib(const std::string& field) const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(field + ":")) return std::stol(line.substr(field.size() + 1));
  }
  return 0;
}

double OperatorProcess::cpu_seconds() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; fields >> f; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(f);  // utime, stime
    if (i == 15) break;
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

bool OperatorProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

bool OperatorProcess::comes_to_rest(std::chrono::seconds quiet, std::chrono::seconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const double before = writes();
    std::this_thread::sleep_for(quiet);
    if (writes() == before) return true;
  }
  return false;
}

IsolatedOperator::IsolatedOperator(const std::string& prefix)
    : crd_installed((install_crd(), true)), ns(prefix), op({"--namespaces", ns.name()}) {}

kube::Json get_or_null(kube::KubeClient& c, const kube::ResourceRef& ref, const kube::ObjectKey& key) {
  auto r = c.get(ref, key);
  return r.ok() ? *r : kube::Json();
}

kube::Json stillontime(const std::string& ns, const std::string& name, const kube::Json& spec) {
  kube::Json full = {{"environment", "development"}, {"version", "1.0.0"}};
  full.update(spec);
  return {{"apiVersion", "stillontime.app/v1alpha1"},
          {"kind", "StillOnTime"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", full}};
}

std::string condition_of(const kube::Json& cr, const std::string& type, const std::string& field) {
  if (!cr.is_object()) return "";
  for (const auto& cond : cr.value("status", kube::Json::object()).value("conditions", kube::Json::array())) {
    if (cond.value("type", "") == type) return cond.value(field, "");
  }
  return "";
}

void make_workloads_ready(kube::KubeClient& c, const std::string& ns, const std::string& owner) {
  kube::ListOptions lo;
  lo.label_selector = "stillontime.app/owner=" + owner;
  for (const auto& ref : {kube::resources::deployments(), kube::resources::stateful_sets()}) {
    auto list = c.list(ref, ns, lo);
    REQUIRE(list.ok());
    for (const auto& item : (*list)["items"]) {
      const int replicas = item["spec"].value("replicas", 1);
      kube::Json status = {{"observedGeneration", item["metadata"]["generation"]},
                           {"replicas", replicas},
                           {"readyReplicas", replicas},
                           {"updatedReplicas", replicas},
                           {"availableReplicas", replicas}};
      if (ref.kind == "StatefulSet") status["currentReplicas"] = replicas;
      kube::PatchOptions po;
      po.subresource = "status";
      auto r = c.merge_patch(ref, {ns, item["metadata"]["name"]}, {{"status", status}}, po);
      REQUIRE_MESSAGE(r.ok(), r.error().to_string());
    }
  }
}

void set_status(kube::KubeClient& c, const kube::ResourceRef& ref, const kube::ObjectKey& key,
                const kube::Json& status) {
  kube::PatchOptions po;
  po.subresource = "status";
  auto r = c.merge_patch(ref, key, {{"status", status}}, po);
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
}

void set_accept_from(kube::KubeClient& c, const std::string& ns, const std::string& sources) {
  const kube::Json value = sources.empty() ? kube::Json(nullptr) : kube::Json(sources);
  auto r = c.merge_patch(kube::resources::namespaces(), {"", ns},
                         {{"metadata", {{"annotations", {{"stillontime.app/accept-from", value}}}}}},
                         kube::PatchOptions{"kubectl"});
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
}

std::string now_minus(int seconds) {
  const std::time_t t = std::time(nullptr) - seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

kube::Json job_status(bool ok, int seconds_ago) {
  const std::string at = now_minus(seconds_ago);
  kube::Json cond = {
      {"type", ok ? "Complete" : "Failed"}, {"status", "True"}, {"lastProbeTime", at}, {"lastTransitionTime", at}};
  if (!ok) {
    cond["reason"] = "BackoffLimitExceeded";
    cond["message"] = "Job has reached the specified backoff limit";
  }
  kube::Json st = {{"conditions", kube::Json::array({cond})}, {"startTime", now_minus(seconds_ago + 30)}};
  if (ok) {
    st["completionTime"] = at;
    st["succeeded"] = 1;
  } else {
    st["failed"] = 2;
  }
  return st;
}

void create_finished_pod(kube::KubeClient& c, const kube::Json& job, const std::string& message) {
  const std::string ns = job["metadata"]["namespace"];
  const kube::Json& tmpl = job["spec"]["template"];
  kube::Json labels =
      tmpl.contains("metadata") ? tmpl["metadata"].value("labels", kube::Json::object()) : kube::Json::object();
  labels["job-name"] = job["metadata"]["name"];
  kube::Json pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", job["metadata"]["name"].get<std::string>() + "-pod"}, {"namespace", ns}, {"labels", labels}}},
      {"spec", tmpl["spec"]}};
  auto r = c.create(kPod, ns, pod);
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
  kube::Json terminated = {{"exitCode", 0},
                           {"reason", "Completed"},
                           {"message", message},
                           {"startedAt", now_minus(40)},
                           {"finishedAt", now_minus(10)}};
  set_status(c, kPod, {ns, pod["metadata"]["name"]},
             {{"phase", "Succeeded"},
              {"containerStatuses", kube::Json::array({{{"name", "backup"},
                                                        {"ready", false},
                                                        {"restartCount", 0},
                                                        {"image", "postgres:16"},
                                                        {"imageID", ""},
                                                        {"state", {{"terminated", terminated}}}}})}});
}

void install_crd() {
  static const bool installed = [] {
    auto r = run("kubectl apply --server-side --force-conflicts -f " STILLONTIME_SOURCE_DIR
                 "/crds/stillontime.app_stillontimes.yaml && kubectl wait --for=condition=Established "
                 "--timeout=60s crd/stillontimes.stillontime.app");
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    REQUIRE(eventually([] { return client()->list(kStillOnTime, "default", kube::ListOptions{}).ok(); },
                       std::chrono::seconds(20)));
    return true;
  }();
  (void)installed;
}

void delete_stillontimes(kube::KubeClient& c, const std::string& ns) {
  auto list = kube::list_all(c, kStillOnTime, ns, kube::ListOptions{});
  REQUIRE(list.ok());
  for (const auto& cr : list->items)
    (void)c.remove(kStillOnTime, {ns, cr["metadata"].value("name", "")}, kube::DeleteOptions{});
  CHECK(eventually(
      [&] {
        auto left = c.list(kStillOnTime, ns, kube::ListOptions{});
        return left.ok() && (*left)["items"].empty();
      },
      std::chrono::seconds(60)));
}

OperatorProcess& shared_operator() {
  static std::unique_ptr<OperatorProcess> op = [] {
    install_crd();
    return std::make_unique<OperatorProcess>();
  }();
  return *op;
}

namespace {

std::vector<kube::Json> documents(const std::string& text) {
  auto docs = kube::yaml_documents_to_json(text);
  REQUIRE_MESSAGE(docs.ok(), docs.error().to_string());
  return *docs;
}

// One kubectl call for all of them: each call costs most of a second.
void apply_with_kubectl(const std::vector<kube::Json>& objects) {
  const std::string path = control_plane().dir + "/grants-" + random_suffix() + ".json";
  std::ofstream(path) << kube::Json{{"apiVersion", "v1"}, {"kind", "List"}, {"items", objects}}.dump();
  auto r = run("kubectl apply --server-side --force-conflicts -f " + path);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
}

}  // namespace

OperatorGrants::OperatorGrants() {
  auto rendered = run("kubectl kustomize " STILLONTIME_SOURCE_DIR "/manifests/default 2>/dev/null");
  REQUIRE_MESSAGE(rendered.exit_code == 0, rendered.output);
  int cluster_roles = 0, roles = 0;
  std::vector<kube::Json> objects;
  for (auto& doc : documents(rendered.output)) {
    const std::string kind = doc.value("kind", "");
    if (kind == "Namespace" || kind == "CustomResourceDefinition") objects.push_back(doc);
    if (kind == "ClusterRole" || kind == "Role") objects.push_back(doc);
    if (kind == "ClusterRoleBinding" || kind == "RoleBinding") {
      kube::Json binding = doc;
      binding["metadata"]["name"] = doc["metadata"]["name"].get<std::string>() + "-e2e-user";
      binding["metadata"].erase("labels");
      binding["subjects"] =
          kube::Json::array({{{"kind", "User"}, {"apiGroup", "rbac.authorization.k8s.io"}, {"name", kOperatorUser}}});
      objects.push_back(binding);
      names_.push_back((kind == "ClusterRoleBinding" ? "clusterrolebinding/"
                                                     : "-n " + std::string(kOperatorNamespace) + " rolebinding/") +
                       binding["metadata"]["name"].get<std::string>());
    }
    cluster_roles += kind == "ClusterRole";
    roles += kind == "Role";
  }
  REQUIRE(cluster_roles == 1);
  REQUIRE(roles == 1);
  REQUIRE(names_.size() == 2);
  apply_with_kubectl(objects);
  auto est = run("kubectl wait --for=condition=Established --timeout=60s crd/stillontimes.stillontime.app");
  REQUIRE_MESSAGE(est.exit_code == 0, est.output);
}

OperatorGrants::~OperatorGrants() {
  for (const auto& n : names_) (void)run("kubectl delete --ignore-not-found " + n);
}

}  // namespace sot::e2e
