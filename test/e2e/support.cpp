#include "e2e/support.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>
#include <thread>

#include <doctest/doctest.h>

namespace sot::e2e {

std::string ControlPlane::kubeconfig(const std::string& user) const {
  return dir + (user.empty() ? "/kubeconfig" : "/kubeconfig-" + user);
}

const ControlPlane& control_plane() {
  static const ControlPlane cp = [] {
    ControlPlane c;
    const char* dir = std::getenv("STILLONTIME_CP_DIR");
    if (dir == nullptr) {
      std::fprintf(stderr, "STILLONTIME_CP_DIR is not set; run through ctest -L e2e\n");
      std::abort();
    }
    c.dir = dir;
    std::ifstream in(c.dir + "/env");
    if (!in) {
      std::fprintf(stderr, "no control plane in %s (scripts/control-plane.sh up)\n", dir);
      std::abort();
    }
    std::string line;
    while (std::getline(in, line)) {
      const auto eq = line.find('=');
      if (eq == std::string::npos || line.starts_with("#")) continue;
      std::string value = line.substr(eq + 1);
      if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"'))
        value = value.substr(1, value.size() - 2);
      c.env[line.substr(0, eq)] = value;
    }
    setenv("KUBECONFIG", c.kubeconfig().c_str(), 1);
    return c;
  }();
  return cp;
}

std::unique_ptr<kube::RestClient> client(const std::string& user) {
  auto cfg = kube::load_kubeconfig(control_plane().kubeconfig(user));
  // Not REQUIRE_MESSAGE: TestNamespace's destructor calls this while a failed
  // REQUIRE unwinds, and doctest then renders the message even on success.
  if (!cfg.ok()) FAIL(cfg.error().message);
  cfg->field_manager = kFieldManager;
  return kube::RestClient::create(*cfg);
}

std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (int i = 0; i < 6; ++i) s.push_back(kChars[rng() % 36]);
  return s;
}

TestNamespace::TestNamespace(const std::string& prefix) : name_(prefix + "-" + random_suffix()) {
  auto c = client();
  auto r = c->create(kube::resources::namespaces(), "",
                     {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name_}}}});
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
}

TestNamespace::~TestNamespace() {
  auto c = client();
  (void)c->remove(kube::resources::namespaces(), {"", name_}, kube::DeleteOptions{});
}

CommandResult run(const std::string& command) {
  control_plane();  // sets KUBECONFIG
  CommandResult out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.output.append(buf.data(), n);
  const int status = pclose(p);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

std::vector<kube::Json> audit_events(const std::function<bool(const kube::Json&)>& keep, const std::string& needle) {
  const auto it = control_plane().env.find("AUDIT_LOG");
  REQUIRE_MESSAGE((it != control_plane().env.end() && !it->second.empty()),
                  "this control plane writes no audit log; restart it: scripts/control-plane.sh down");
  std::vector<kube::Json> out;
  // The rotated file first (--audit-log-maxbackup=1), then the current one.
  for (const std::string& path : {it->second + ".1", it->second}) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      if (!needle.empty() && line.find(needle) == std::string::npos) continue;
      kube::Json event = kube::Json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (event.is_object() && keep(event)) out.push_back(std::move(event));
    }
  }
  return out;
}

std::string audit_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<long long>(micros));
  return buf;
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

}  // namespace sot::e2e
