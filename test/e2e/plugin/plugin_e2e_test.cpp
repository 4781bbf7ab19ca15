// kubectl-stillontime end to end: the plugin binary against a real
// kube-apiserver with the operator running as a process. No kubelet and no
// workload controllers run, so the test plays their parts as the other e2e
// suites do: it sets workload, Job and pod status through the status
// subresource (the listing pod of `backups` included), and gives a Service an
// Endpoints object whose pod address is a small HTTP server of its own, so the
// API server's Service proxy reaches something for `health`.
#include <arpa/inet.h>
#include <atomic>
#include <filesystem>
#include <future>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <doctest/doctest.h>

#include "../stillontime/operator_process.h"
#include "common/base64.h"
#include "e2e/support.h"
#include "kube/config.h"

using namespace sot;
using namespace sot::kube;
using namespace std::chrono_literals;

namespace {

const std::string kPlugin = std::string(STILLONTIME_BINARY_DIR) + "/bin/kubectl-stillontime";

// Runs the plugin (KUBECONFIG is the admin's), stdout and stderr together.
e2e::CommandResult plugin(const std::string& args) {
  return e2e::run(kPlugin + " " + args);
}
std::future<e2e::CommandResult> plugin_async(const std::string& args) {
  return std::async(std::launch::async, [args] { return plugin(args); });
}
bool done(std::future<e2e::CommandResult>& f) {
  return f.wait_for(0s) == std::future_status::ready;
}

// Creates the resource as a person would, with `kubectl apply --server-side`
// (field manager "kubectl"), or with another manager.
void apply_resource(const std::string& ns, const std::string& spec_yaml, const std::string& manager = "kubectl") {
  e2e::shared_operator();
  const std::string doc =
      "apiVersion: stillontime.app/v1alpha1\nkind: StillOnTime\nmetadata: {name: app, namespace: " + ns +
      "}\nspec: " + spec_yaml + "\n";
  auto r = e2e::run("printf '%s' '" + doc + "' | kubectl apply --server-side --force-conflicts --field-manager " +
                    manager + " -f -");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
}

std::string condition(const Json& cr, const std::string& type, const std::string& field = "status") {
  for (const auto& c : cr.value("status", Json::object()).value("conditions", Json::array())) {
    if (c.value("type", "") == type) return c.value(field, "");
  }
  return "";
}

void wait_ready(KubeClient& c, const std::string& ns) {
  REQUIRE(e2e::eventually(
      [&] {
        return e2e::get_or_null(c, resources::deployments(), {ns, "app-frontend"}).is_object();
      },
      20s));
  e2e::make_workloads_ready(c, ns, ns + ".app");
  REQUIRE(e2e::eventually(
      [&] {
        const Json cr = e2e::get_or_null(c, e2e::kStillOnTime, {ns, "app"});
        return cr.is_object() && cr["status"].value("phase", "") == "Ready";
      },
      20s));
}

// Plays the workload controllers while `f` runs: whatever the operator rolls out becomes ready.
e2e::CommandResult ready_while(KubeClient& c, const std::string& ns, std::future<e2e::CommandResult>& f) {
  while (!done(f)) {
    e2e::make_workloads_ready(c, ns, ns + ".app");
    std::this_thread::sleep_for(300ms);
  }
  return f.get();
}

// Plays the kubelet for the next listing pod of `backups`: it ends with `message`.
void finish_listing_pod(KubeClient& c, const std::string& ns, const std::string& message) {
  ListOptions lo;
  lo.label_selector = "app.kubernetes.io/component=backup-list";
  Json pod;
  REQUIRE(e2e::eventually(
      [&] {
        auto list = c.list(e2e::kPod, ns, lo);
        if (!list.ok()) return false;
        for (const auto& p : (*list)["items"]) {
          if (!p.contains("status") || p["status"].value("phase", "Pending") == "Pending") pod = p;
        }
        return pod.is_object();
      },
      20s));
  e2e::set_status(
      c, e2e::kPod, {ns, pod["metadata"]["name"]},
      {{"phase", "Succeeded"},
       {"containerStatuses",
        Json::array(
            {{{"name", "list"},
              {"ready", false},
              {"restartCount", 0},
              {"image", "postgres:16"},
              {"imageID", ""},
              {"state", {{"terminated", {{"exitCode", 0}, {"reason", "Completed"}, {"message", message}}}}}}})}});
}

const std::string kListing =
    "total 3\n"
    "1715738412.05 1048576 stillontime-20240515T020012Z.dump\n"
    "1715652012.5 524288 stillontime-20240514T020012Z.dump\n"
    "1715600000 2048 pre-restore-20240513T120000Z.dump\n";

// A tiny HTTP server on every address: GET PATH answers what `answers` says (404 otherwise).
class FakeServer {
 public:
  FakeServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(fd_, 16) == 0);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  std::atomic<int> ready_status{200};

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      char buf[4096];
      const ssize_t n = read(c, buf, sizeof buf - 1);
      const std::string req(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
      // "GET /path HTTP/1.1"; anything else (a probe that sends nothing) gets the 404.
      const auto end = req.find(' ', 4);
      const std::string path = req.rfind("GET ", 0) == 0 && end != std::string::npos ? req.substr(4, end - 4) : "";
      int status = 404;
      std::string body = "not found";
      if (path == "/health" || path == "/healthz") {
        status = 200;
        body = R"({"status":"ok"})";
      } else if (path == "/ready") {
        status = ready_status;
        body = status == 200 ? R"({"status":"ready"})" : R"({"status":"not ready","database":"unreachable"})";
      }
      const std::string answer =
          "HTTP/1.1 " + std::to_string(status) +
          " X\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\nConnection: close\r\n\r\n" + body;
      (void)!write(c, answer.data(), answer.size());
      close(c);
    }
  }
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// This machine's first IPv4 address that is not loopback: the API server's
// Service proxy refuses loopback endpoints.
std::string host_address() {
  ifaddrs* list = nullptr;
  REQUIRE(getifaddrs(&list) == 0);
  std::string out;
  for (ifaddrs* i = list; i != nullptr && out.empty(); i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof text);
    if (std::string(text).rfind("127.", 0) != 0) out = text;
  }
  freeifaddrs(list);
  REQUIRE_MESSAGE(!out.empty(), "no non-loopback IPv4 address on this machine");
  return out;
}

// Endpoints for `service` pointing at `ip:port` through a pod object that
// carries that IP (the proxy only follows endpoints that name a pod with it).
void route_service(KubeClient& c, const std::string& ns, const std::string& service, const std::string& ip, int port) {
  const std::string pod = service + "-fake";
  auto created = c.create(e2e::kPod, ns,
                          {{"apiVersion", "v1"},
                           {"kind", "Pod"},
                           {"metadata", {{"name", pod}, {"namespace", ns}}},
                           {"spec", {{"containers", {{{"name", "c"}, {"image", "none"}}}}}}});
  REQUIRE_MESSAGE(created.ok(), created.error().to_string());
  e2e::set_status(c, e2e::kPod, {ns, pod}, {{"phase", "Running"}, {"podIP", ip}, {"podIPs", {{{"ip", ip}}}}});
  auto ep =
      c.create(e2e::kEndpoints, ns,
               {{"apiVersion", "v1"},
                {"kind", "Endpoints"},
                {"metadata", {{"name", service}, {"namespace", ns}}},
                {"subsets",
                 {{{"addresses", {{{"ip", ip}, {"targetRef", {{"kind", "Pod"}, {"name", pod}, {"namespace", ns}}}}}},
                   {"ports", {{{"name", "http"}, {"port", port}, {"protocol", "TCP"}}}}}}}});
  REQUIRE_MESSAGE(ep.ok(), ep.error().to_string());
}

}  // namespace

TEST_CASE(
    "status: conditions, components, history, the tree with drift marked; -o json|yaml; errors name what exists") {
  auto c = e2e::client();
  e2e::TestNamespace ns("plg-status");
  apply_resource(ns.name(), "{environment: development, version: \"1.0.0\"}");
  wait_ready(*c, ns.name());

  auto text = plugin("status app -n " + ns.name());
  CHECK_MESSAGE(text.exit_code == 0, text.output);
  for (const char* want :
       {"AllComponentsReady", "backend   1/1    1.0.0", "Version history", "├─ Deployment app-backend", "(all ok)"}) {
    CHECK_MESSAGE(text.output.find(want) != std::string::npos, (std::string(want) + "\n" + text.output));
  }

  auto as_json = plugin("status app -o json -n " + ns.name());
  REQUIRE(as_json.exit_code == 0);
  const Json doc = Json::parse(as_json.output, nullptr, false);
  REQUIRE(doc.is_object());
  CHECK(doc["phase"] == "Ready");
  CHECK(doc["versionHistory"][0]["version"] == "1.0.0");
  CHECK(doc["versionHistory"][0].contains("becameReady"));
  CHECK(doc["needAttention"] == 0);
  CHECK(plugin("status app -o yaml -n " + ns.name()).output.find("phase: Ready") != std::string::npos);

  // Paused, a person's edit stays, and status says who changed what.
  auto paused = plugin("pause app --wait --timeout 20s -n " + ns.name());
  CHECK_MESSAGE(paused.exit_code == 0, paused.output);
  CHECK(paused.output.find("paused: the operator changes nothing") != std::string::npos);
  REQUIRE(c->merge_patch(resources::deployments(), {ns.name(), "app-frontend"}, {{"spec", {{"replicas", 3}}}},
                         PatchOptions{"kubectl-edit", ""})
              .ok());
  auto drift = plugin("status app -n " + ns.name());
  // Not ready (0/3) is the worse mark; the drift is listed with it.
  CHECK_MESSAGE(drift.output.find("changed by kubectl-edit") != std::string::npos, drift.output);
  CHECK(drift.output.find("ago: spec.replicas]") != std::string::npos);
  CHECK(drift.output.find("Paused (spec.paused)") != std::string::npos);
  auto resumed = plugin("resume app --wait --timeout 20s -n " + ns.name());
  CHECK_MESSAGE(resumed.exit_code == 0, resumed.output);
  CHECK(e2e::eventually(
      [&] {
        return e2e::get_or_null(*c, resources::deployments(), {ns.name(), "app-frontend"})["spec"]["replicas"] == 1;
      },
      10s));

  auto missing = plugin("status nope -n " + ns.name());
  CHECK(missing.exit_code == 1);
  CHECK(missing.output.find("no StillOnTime named nope in namespace " + ns.name() + "; found: app") !=
        std::string::npos);
  e2e::TestNamespace empty("plg-empty");
  auto elsewhere = plugin("status app -n " + empty.name());
  CHECK(elsewhere.exit_code == 1);
  CHECK(elsewhere.output.find("in other namespaces: ") != std::string::npos);
  CHECK(elsewhere.output.find(ns.name() + "/app") != std::string::npos);
  CHECK(plugin("status app --bogus").exit_code == 2);
}

TEST_CASE("deploy --wait reaches Ready; a version the CRD rejects, a stall and a timeout exit non-zero; rollback") {
  auto c = e2e::client();
  e2e::TestNamespace ns("plg-deploy");
  apply_resource(ns.name(), "{environment: development, version: \"1.0.0\"}");
  wait_ready(*c, ns.name());
  const std::string n = " -n " + ns.name();

  auto deploy = plugin_async("deploy app --version 1.1.0 --wait --timeout 30s" + n);
  auto ok = ready_while(*c, ns.name(), deploy);
  CHECK_MESSAGE(ok.exit_code == 0, ok.output);
  CHECK(ok.output.find("spec.version of " + ns.name() + "/app: 1.0.0 -> 1.1.0") != std::string::npos);
  CHECK(ok.output.find("1.1.0 is Ready") != std::string::npos);
  // Written by server-side apply with the plugin's own field manager.
  const Json after = e2e::get_or_null(*c, e2e::kStillOnTime, {ns.name(), "app"});
  bool ours = false;
  for (const auto& m : after["metadata"]["managedFields"]) {
    ours = ours || (m["manager"] == "kubectl-stillontime" && m["operation"] == "Apply" &&
                    m["fieldsV1"]["f:spec"].contains("f:version"));
  }
  CHECK_MESSAGE(ours, after["metadata"].dump());

  auto invalid = plugin("deploy app --version 'bad/version'" + n);
  CHECK(invalid.exit_code == 1);
  CHECK(invalid.output.find("the API server refused spec.version \"bad/version\"") != std::string::npos);
  CHECK(invalid.output.find("should match") != std::string::npos);

  auto slow = plugin("deploy app --version 1.2.0 --wait --timeout 3s" + n);
  CHECK(slow.exit_code == 3);
  CHECK(slow.output.find("timed out after 3s") != std::string::npos);
  CHECK(slow.output.find("ComponentsNotReady") != std::string::npos);  // the operator's reason

  // 1.2.0 never became Ready: rollback goes to 1.1.0, and will not go back to 1.2.0.
  auto back = plugin_async("rollback app --wait --timeout 30s" + n);
  auto rolled = ready_while(*c, ns.name(), back);
  CHECK_MESSAGE(rolled.exit_code == 0, rolled.output);
  CHECK(rolled.output.find("from 1.2.0 to 1.1.0") != std::string::npos);
  const Json history = e2e::get_or_null(*c, e2e::kStillOnTime, {ns.name(), "app"})["status"]["versionHistory"];
  REQUIRE(history.size() == 4);
  CHECK(history[0]["version"] == "1.1.0");
  CHECK(history[1]["version"] == "1.2.0");
  CHECK_FALSE(history[1].contains("becameReady"));
  auto refused = plugin("rollback app --to 1.2.0" + n);
  CHECK(refused.exit_code == 1);
  CHECK_MESSAGE(refused.output.find("1.2.0 was applied at") != std::string::npos, refused.output);
  CHECK(refused.output.find("never became Ready; to deploy it anyway use `deploy --version 1.2.0`") !=
        std::string::npos);

  // A spec the operator refuses: --wait stops at once with its reason.
  REQUIRE(
      c->merge_patch(
           e2e::kStillOnTime, {ns.name(), "app"},
           {{"spec", {{"backend", {{"autoscaling", {{"enabled", true}, {"minReplicas", 4}, {"maxReplicas", 2}}}}}}}},
           PatchOptions{"kubectl-patch", ""})
          .ok());
  auto stalled = plugin("deploy app --version 1.3.0 --wait --timeout 20s" + n);
  CHECK(stalled.exit_code == 1);
  CHECK(stalled.output.find("stalled (InvalidSpec)") != std::string::npos);
  CHECK(stalled.output.find("maxReplicas") != std::string::npos);
}

TEST_CASE("a GitOps controller's spec.version is refused unless --force") {
  auto c = e2e::client();
  e2e::TestNamespace ns("plg-gitops");
  apply_resource(ns.name(), "{environment: development, version: \"1.0.0\"}", "kustomize-controller");
  REQUIRE(e2e::eventually(
      [&] {
        return condition(e2e::get_or_null(*c, e2e::kStillOnTime, {ns.name(), "app"}), "Ready") != "";
      },
      20s));
  auto refused = plugin("deploy app --version 1.1.0 -n " + ns.name());
  CHECK(refused.exit_code == 1);
  CHECK(refused.output.find("managed by kustomize-controller (Flux; server-side apply") != std::string::npos);
  CHECK(refused.output.find("--force") != std::string::npos);
  CHECK(e2e::get_or_null(*c, e2e::kStillOnTime, {ns.name(), "app"})["spec"]["version"] == "1.0.0");
  auto forced = plugin("deploy app --version 1.1.0 --force -n " + ns.name());
  CHECK_MESSAGE(forced.exit_code == 0, forced.output);
  CHECK(forced.output.find("warning: spec.version is managed by kustomize-controller") != std::string::npos);
  CHECK(e2e::get_or_null(*c, e2e::kStillOnTime, {ns.name(), "app"})["spec"]["version"] == "1.1.0");
}

TEST_CASE("backup --wait, backups with sizes, restore refusals and restore --wait") {
  auto c = e2e::client();
  e2e::TestNamespace ns("plg-backup");
  apply_resource(ns.name(), "{environment: development, version: \"1.0.0\", backup: {enabled: true}}");
  wait_ready(*c, ns.name());
  const std::string n = " -n " + ns.name();

  auto backup = plugin_async("backup app --id before-upgrade --wait --timeout 30s" + n);
  ListOptions by_request;
  by_request.label_selector = "stillontime.app/trigger=request";
  Json job;
  REQUIRE(e2e::eventually(
      [&] {
        auto jobs = c->list(resources::jobs(), ns.name(), by_request);
        if (jobs.ok() && !(*jobs)["items"].empty()) job = (*jobs)["items"][0];
        return job.is_object();
      },
      20s));
  job["metadata"]["namespace"] = ns.name();
  e2e::create_finished_pod(*c, job, "stillontime-20240515T020012Z.dump");
  e2e::set_status(*c, resources::jobs(), {ns.name(), job["metadata"]["name"]}, e2e::job_status(true, 1));
  auto backed_up = backup.get();
  CHECK_MESSAGE(backed_up.exit_code == 0, backed_up.output);
  CHECK(backed_up.output.find("backup before-upgrade succeeded") != std::string::npos);
  CHECK(backed_up.output.find("stillontime-20240515T020012Z.dump") != std::string::npos);
  auto again = plugin("backup app --id before-upgrade" + n);
  CHECK(again.exit_code == 1);
  CHECK(again.output.find("already made") != std::string::npos);
  auto status = plugin("status app" + n);
  CHECK(status.output.find("request before-upgrade  Succeeded") != std::string::npos);

  auto listed = plugin_async("backups app" + n);
  finish_listing_pod(*c, ns.name(), kListing);
  auto list = listed.get();
  CHECK_MESSAGE(list.exit_code == 0, list.output);
  CHECK(list.output.find("stillontime-20240515T020012Z.dump (latest)  1.0 MiB") != std::string::npos);
  CHECK(list.output.find("pre-restore-20240513T120000Z.dump") != std::string::npos);
  // The listing pod is gone afterwards.
  ListOptions listing_pods;
  listing_pods.label_selector = "app.kubernetes.io/component=backup-list";
  CHECK(e2e::eventually(
      [&] {
        auto pods = c->list(e2e::kPod, ns.name(), listing_pods);
        if (!pods.ok()) return false;
        for (const auto& p : (*pods)["items"]) {
          if (!p["metadata"].contains("deletionTimestamp")) return false;
        }
        return true;
      },
      10s));

  auto wrong = plugin_async("restore app --from stillontime-20200101T000000Z.dump" + n);
  finish_listing_pod(*c, ns.name(), kListing);
  auto refused = wrong.get();
  CHECK(refused.exit_code == 1);
  CHECK(refused.output.find("no dump named stillontime-20200101T000000Z.dump in the backup volume; it holds: "
                            "stillontime-20240515T020012Z.dump") != std::string::npos);
  CHECK_FALSE(e2e::get_or_null(*c, e2e::kStillOnTime, {ns.name(), "app"})["spec"].contains("restore"));

  auto restore = plugin_async("restore app --from latest --id r1 --wait --timeout 40s" + n);
  finish_listing_pod(*c, ns.name(), kListing);
  // The operator scales the backend to 0, then starts the Job; play both.
  const ObjectKey backend{ns.name(), "app-backend"};
  REQUIRE(e2e::eventually(
      [&] { return e2e::get_or_null(*c, resources::deployments(), backend)["spec"]["replicas"] == 0; }, 20s));
  const Json d = e2e::get_or_null(*c, resources::deployments(), backend);
  e2e::set_status(*c, resources::deployments(), backend,
                  {{"observedGeneration", d["metadata"]["generation"]},
                   {"replicas", 0},
                   {"readyReplicas", 0},
                   {"updatedReplicas", 0},
                   {"availableReplicas", 0}});
  std::string restore_job;
  REQUIRE(e2e::eventually(
      [&] {
        restore_job = e2e::get_or_null(*c, e2e::kStillOnTime, {ns.name(), "app"})["status"]["restore"].value("job", "");
        return !restore_job.empty() && c->get(resources::jobs(), {ns.name(), restore_job}).ok();
      },
      20s));
  e2e::set_status(*c, resources::jobs(), {ns.name(), restore_job}, e2e::job_status(true, 1));
  auto restored = restore.get();
  CHECK_MESSAGE(restored.exit_code == 0, restored.output);
  CHECK(restored.output.find("from latest (now stillontime-20240515T020012Z.dump), 1.0 MiB") != std::string::npos);
  CHECK(restored.output.find("restore r1 from latest succeeded") != std::string::npos);
  auto reused = plugin("restore app --from latest --id r1" + n);
  CHECK(reused.exit_code == 1);
  CHECK(reused.output.find("already ran") != std::string::npos);

  e2e::TestNamespace off("plg-nobackup");
  apply_resource(off.name(), "{environment: development, version: \"1.0.0\", backup: {enabled: false}}");
  REQUIRE(e2e::eventually(
      [&] {
        return condition(e2e::get_or_null(*c, e2e::kStillOnTime, {off.name(), "app"}), "Ready") != "";
      },
      20s));
  auto disabled = plugin("backup app -n " + off.name());
  CHECK(disabled.exit_code == 1);
  CHECK(disabled.output.find("backups are disabled") != std::string::npos);
  auto no_volume = plugin("restore app --from latest -n " + off.name());
  CHECK(no_volume.exit_code == 1);
  CHECK(no_volume.output.find("no backup volume app-backups") != std::string::npos);
}

TEST_CASE("health: every check runs and prints, through the Service proxy; 0 only when all pass") {
  auto c = e2e::client();
  e2e::TestNamespace ns("plg-health");
  apply_resource(ns.name(), "{environment: development, version: \"1.0.0\"}");
  wait_ready(*c, ns.name());
  const std::string n = " -n " + ns.name();

  // No pod behind the Services yet: those checks fail, the others still run and pass.
  auto none = plugin("health app" + n);
  CHECK(none.exit_code == 1);
  for (const char* line :
       {"resource           PASS", "backend /health    FAIL", "backend /ready     FAIL", "frontend /healthz  FAIL",
        "postgres           PASS", "redis              PASS", "3 of 6 checks passed"}) {
    CHECK_MESSAGE(none.output.find(line) != std::string::npos, (std::string(line) + "\n" + none.output));
  }
  CHECK(none.output.find("no endpoints") != std::string::npos);

  FakeServer server;
  const std::string ip = host_address();
  route_service(*c, ns.name(), "app-backend", ip, server.port());
  route_service(*c, ns.name(), "app-frontend", ip, server.port());
  auto all = plugin("health app" + n);
  CHECK_MESSAGE(all.exit_code == 0, all.output);
  CHECK(all.output.find("6 of 6 checks passed") != std::string::npos);
  CHECK(all.output.find("HTTP 200 via service app-backend port http") != std::string::npos);

  server.ready_status = 503;
  auto degraded = plugin("health app -o json" + n);
  CHECK(degraded.exit_code == 1);
  const Json doc = Json::parse(degraded.output, nullptr, false);
  REQUIRE(doc.is_object());
  CHECK(doc["healthy"] == false);
  REQUIRE(doc["checks"].size() == 6);
  CHECK(doc["checks"][2]["result"] == "FAIL");
  CHECK(doc["checks"][2]["detail"].get<std::string>().find("database") != std::string::npos);
  CHECK(doc["checks"][3]["result"] == "PASS");  // after a failure, the next checks still ran
}

TEST_CASE("report: a tar.gz of the resource, children, events and status, with no secret value in it") {
  auto c = e2e::client();
  e2e::TestNamespace ns("plg-report");
  apply_resource(
      ns.name(),
      "{environment: development, version: \"1.0.0\", backend: {env: [{name: SMTP_PASSWORD, value: hunter22}]}}");
  wait_ready(*c, ns.name());
  auto secret = c->get(resources::secrets(), {ns.name(), "app-postgres-credentials"});
  REQUIRE(secret.ok());
  const std::string password_b64 = (*secret)["data"]["POSTGRES_PASSWORD"];
  const std::string password = *common::base64_decode_lenient(password_b64);
  REQUIRE(password.size() >= 16);

  const std::string dir = e2e::control_plane().dir + "/report-" + e2e::random_suffix();
  std::filesystem::create_directories(dir);
  auto r = plugin("report app -n " + ns.name() + " -f " + dir + "/r.tar.gz --operator-namespace " + ns.name());
  CHECK_MESSAGE(r.exit_code == 0, r.output);
  CHECK(r.output.find("no operator pods in namespace " + ns.name()) != std::string::npos);
  auto untar = e2e::run("tar -xzf " + dir + "/r.tar.gz -C " + dir + " && find " + dir + " -type f | sort");
  REQUIRE_MESSAGE(untar.exit_code == 0, untar.output);
  for (const char* f : {"/stillontime.yaml", "/status.txt", "/status.json", "/events.txt", "/events.yaml",
                        "/README.txt", "/children/secret/app-postgres-credentials.yaml",
                        "/children/deployment/app-backend.yaml", "/cluster-version.yaml"}) {
    CHECK_MESSAGE(untar.output.find(f) != std::string::npos, (std::string(f) + "\n" + untar.output));
  }
  // Not the password, its base64, nor the plain env value, anywhere.
  for (const std::string& needle : {password, password_b64, std::string("hunter22")}) {
    auto grep = e2e::run("grep -rlF --exclude=r.tar.gz -- '" + needle + "' " + dir);
    CHECK_MESSAGE(grep.output.empty(), grep.output);
  }
  auto keys = e2e::run("grep -E 'POSTGRES_PASSWORD: .?<redacted: " + std::to_string(password.size()) + " bytes>' " +
                       dir + "/*/children/secret/app-postgres-credentials.yaml");
  CHECK_MESSAGE(keys.exit_code == 0, keys.output);
  std::filesystem::remove_all(dir);
}

TEST_CASE("completion from the cluster, the scripts, and --help for every command") {
  auto c = e2e::client();
  e2e::TestNamespace ns("plg-complete");
  apply_resource(ns.name(), "{environment: development, version: \"1.0.0\"}");
  auto names = plugin("__complete -n " + ns.name() + " status ''");
  CHECK(names.exit_code == 0);
  CHECK(names.output == "app\n:4\n");
  // kubectl's own plugin completion calls the helper with the words after the plugin name.
  auto helper = e2e::run("PATH=" STILLONTIME_BINARY_DIR "/bin:$PATH " STILLONTIME_BINARY_DIR
                         "/bin/kubectl_complete-stillontime -n " +
                         ns.name() + " deploy ''");
  CHECK(helper.output == "app\n:4\n");
  CHECK(e2e::run(kPlugin + " completion bash | bash -n").exit_code == 0);
  for (const char* cmd : {"status", "deploy", "rollback", "backup", "backups", "restore", "health", "pause", "resume",
                          "report", "completion", "version"}) {
    auto h = plugin(std::string(cmd) + " --help");
    CHECK_MESSAGE(h.exit_code == 0, cmd);
    CHECK(h.output.find(std::string("kubectl stillontime ") + cmd) != std::string::npos);
  }
  // Through kubectl itself: the plugin is found on PATH.
  auto via_kubectl = e2e::run("PATH=" STILLONTIME_BINARY_DIR "/bin:$PATH kubectl stillontime version");
  CHECK_MESSAGE(via_kubectl.exit_code == 0, via_kubectl.output);
  CHECK(via_kubectl.output.find("kubectl-stillontime ") == 0);
}
