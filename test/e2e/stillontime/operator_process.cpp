#include "operator_process.h"

#include <chrono>
#include <ctime>
#include <fcntl.h>
#include <fstream>
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

namespace sot::e2e {

OperatorProcess::OperatorProcess(std::vector<std::string> extra_args) {
  const auto& cp = control_plane();
  log_path_ = cp.dir + "/operator-e2e-" + random_suffix() + ".log";
  std::vector<std::string> args = {std::string(STILLONTIME_BINARY_DIR) + "/bin/stillontime-operator",
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
  REQUIRE(eventually([&] {
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
  }, std::chrono::seconds(20)));
}

OperatorProcess::~OperatorProcess() { stop(); }

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
  const std::string text = metrics();
  double total = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("rest_client_requests_total{")) continue;
    for (const auto& m : methods) {
      if (line.find("method=\"" + m + "\"") != std::string::npos) {
        total += std::stod(line.substr(line.rfind(' ') + 1));
      }
    }
  }
  return total;
}

kube::Json get_or_null(kube::KubeClient& c, const kube::ResourceRef& ref, const kube::ObjectKey& key) {
  auto r = c.get(ref, key);
  return r.ok() ? *r : kube::Json();
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
  const kube::ResourceRef pods{"", "v1", "pods", "Pod", true};
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
  auto r = c.create(pods, ns, pod);
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
  kube::Json terminated = {{"exitCode", 0},
                           {"reason", "Completed"},
                           {"message", message},
                           {"startedAt", now_minus(40)},
                           {"finishedAt", now_minus(10)}};
  set_status(c, pods, {ns, pod["metadata"]["name"]},
             {{"phase", "Succeeded"},
              {"containerStatuses", kube::Json::array({{{"name", "backup"},
                                                        {"ready", false},
                                                        {"restartCount", 0},
                                                        {"image", "postgres:16"},
                                                        {"imageID", ""},
                                                        {"state", {{"terminated", terminated}}}}})}});
}

OperatorProcess& shared_operator() {
  static std::unique_ptr<OperatorProcess> op = [] {
    auto r = run("kubectl apply --server-side --force-conflicts -f " STILLONTIME_SOURCE_DIR
                 "/crds/stillontime.app_stillontimes.yaml && kubectl wait --for=condition=Established "
                 "--timeout=60s crd/stillontimes.stillontime.app");
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    REQUIRE(eventually([] { return client()->list(kStillOnTime, "default", kube::ListOptions{}).ok(); },
                       std::chrono::seconds(20)));
    return std::make_unique<OperatorProcess>();
  }();
  return *op;
}

}  // namespace sot::e2e
