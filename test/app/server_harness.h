// Why: what the app integration suites share: the services' env file, a fresh database per suite,
// the real stillontime-server as a child process, a JSON HTTP client, raw sockets, and the fake
// OAuth provider, OpenWeather and Google Maps served from the test process on loopback.
#pragma once

#include <arpa/inet.h>
#include <chrono>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <netinet/in.h>
#include <signal.h>
#include <sstream>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/civil_date.h"
#include "core/crypto.h"
#include "domain/civil_time.h"
#include "http/http_client.h"
#include "http/http_server.h"
#include "pdf_fixture.h"
#include "storage/migrations.h"
#include "test_database.h"

using namespace sot;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kJwtSecret = "integration-test-secret-0123456789abcdef";
const std::string kFrontend = "http://frontend.test:5173";

std::uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// Sends raw bytes and returns whatever comes back before the peer closes or the timeout passes.
std::string raw_http(std::uint16_t port, const std::string& request, std::chrono::milliseconds timeout = 3000ms) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "";
  }
  timeval tv{static_cast<long>(timeout.count() / 1000), static_cast<long>((timeout.count() % 1000) * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)!send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
  close(fd);
  return out;
}

struct Reply {
  int status = 0;
  json body;
  std::string text;
  http::HeaderList headers;
  std::string header(const std::string& name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return {};
  }
};

class Client {
 public:
  explicit Client(std::uint16_t port)
      : base_("http://127.0.0.1:" + std::to_string(port)), client_(http::make_cpprest_client()) {}
  Reply send(const std::string& method, const std::string& path, const json& body = nullptr,
             const std::string& token = "", http::HeaderList extra = {}, const std::string& raw_body = "",
             const std::string& content_type = "") {
    http::ClientRequest r;
    r.method = method;
    r.url = base_ + path;
    r.timeout = 15000ms;
    r.headers = std::move(extra);
    if (!token.empty()) r.headers.emplace_back("authorization", "Bearer " + token);
    if (!body.is_null()) {
      r.body = body.dump();
      r.headers.emplace_back("content-type", "application/json");
    } else if (!raw_body.empty() || !content_type.empty()) {
      r.body = raw_body;
      r.headers.emplace_back("content-type", content_type);
    }
    auto res = client_->send(r);
    Reply out;
    if (!res) {
      out.status = -1;
      out.text = res.error().message;
      return out;
    }
    out.status = res->status;
    out.text = res->body;
    out.headers = res->headers;
    out.body = json::parse(res->body, nullptr, false);
    return out;
  }
  Reply get(const std::string& path, const std::string& token = "") { return send("GET", path, nullptr, token); }
  Reply post(const std::string& path, const json& body, const std::string& token = "") {
    return send("POST", path, body, token);
  }
  Reply put(const std::string& path, const json& body, const std::string& token = "") {
    return send("PUT", path, body, token);
  }
  Reply del(const std::string& path, const std::string& token = "") { return send("DELETE", path, nullptr, token); }

 private:
  std::string base_;
  std::unique_ptr<http::Client> client_;
};

// The OAuth provider, OpenWeather and Google Maps, faked on one loopback port.
class FakeProviders {
 public:
  FakeProviders() {
    http::ServerOptions options;
    options.threads = 1;
    options.worker_threads = 4;
    server_ = http::make_beast_server(options);
    auto port = server_->start("127.0.0.1", 0, [this](http::Request& r) { return handle(r); });
    REQUIRE(port.ok());
    port_ = *port;
  }
  ~FakeProviders() { server_->stop(); }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  static http::Response json_reply(int status, const json& j) {
    return http::Response{status, {{"content-type", "application/json"}}, j.dump()};
  }
  http::Response handle(http::Request& r) {
    if (r.path == "/token" && r.method == "POST") {
      const bool secret_ok = r.body.find("client_secret=test-client-secret") != std::string::npos;
      const bool pkce = r.body.find("code_verifier=") != std::string::npos;
      const bool grant = r.body.find("grant_type=authorization_code") != std::string::npos;
      if (!secret_ok || !pkce || !grant) return json_reply(401, {{"error", "invalid_client"}});
      if (r.body.find("code=good-code-b&") != std::string::npos)
        return json_reply(200, {{"access_token", "prov-b"}, {"token_type", "Bearer"}});
      if (r.body.find("code=good-code&") != std::string::npos)
        return json_reply(200, {{"access_token", "prov-a"}, {"token_type", "Bearer"}});
      return json_reply(400, {{"error", "invalid_grant"}});
    }
    if (r.path == "/userinfo") {
      const auto auth = r.header("authorization");
      if (auth == "Bearer prov-a")
        return json_reply(
            200, {{"sub", "g-a"}, {"email", "crew-a@example.com"}, {"name", "Crew A"}, {"email_verified", true}});
      if (auth == "Bearer prov-b")
        return json_reply(
            200, {{"sub", "g-b"}, {"email", "crew-b@example.com"}, {"name", "Crew B"}, {"email_verified", true}});
      return json_reply(401, {{"error", "invalid_token"}});
    }
    if (r.path == "/data/2.5/forecast") {
      if (r.query("appid").value_or("") != "weather-key") return json_reply(401, {{"message", "Invalid API key"}});
      const std::string q = r.query("q").value_or("");
      if (q == "Atlantis") return json_reply(404, {{"message", "city not found"}});
      if (q.find("Slow") != std::string::npos) std::this_thread::sleep_for(2s);
      if (q.find("Stuck") != std::string::npos) std::this_thread::sleep_for(8s);
      ++weather_calls;
      const std::int64_t day = common::days_from_civil(2030, 6, 1) * 86400;
      json list = json::array();
      for (int h = 0; h < 24; h += 3) {
        json item = {{"dt", day + h * 3600},
                     {"main", {{"temp", 18.0 + h * 0.6}, {"humidity", 60}}},
                     {"weather", {{{"description", h == 6 ? "light rain" : "clear sky"}}}},
                     {"wind", {{"speed", h == 6 ? 11.0 : 3.0}}},
                     {"pop", h == 6 ? 0.7 : 0.0}};
        if (h == 6) item["rain"] = {{"3h", 1.5}};
        list.push_back(item);
      }
      return json_reply(200, {{"city", {{"name", q}, {"timezone", 0}}}, {"list", list}});
    }
    if (r.path == "/maps/api/directions/json") {
      if (r.query("key").value_or("") != "maps-key") return json_reply(200, {{"status", "REQUEST_DENIED"}});
      const std::string origin = r.query("origin").value_or("");
      const int seconds = origin == "Home St 1" ? 1800 : 2700;
      return json_reply(200, {{"status", "OK"},
                              {"routes",
                               {{{"legs",
                                  {{{"duration", {{"value", seconds - 300}}},
                                    {"duration_in_traffic", {{"value", seconds}}},
                                    {"distance", {{"value", 20000}}}}}}}}}});
    }
    return json_reply(404, {{"error", "no such fake"}});
  }

  std::unique_ptr<http::Server> server_;
  std::uint16_t port_ = 0;

 public:
  std::atomic<int> weather_calls{0};
};

class ServerProcess {
 public:
  // nofile > 0: the server runs with RLIMIT_NOFILE lowered to that many descriptors.
  ServerProcess(std::map<std::string, std::string> env, std::string name, long nofile = 0)
      : env_(std::move(env)), name_(std::move(name)), nofile_(nofile) {
    port_ = free_port();
    metrics_port_ = free_port();
    env_["PORT"] = std::to_string(port_);
    env_["METRICS_PORT"] = std::to_string(metrics_port_);
    env_["BIND_ADDRESS"] = "127.0.0.1";
    log_path_ = "server-" + name_ + "-" + std::to_string(port_) + ".log";
    start();
  }
  ~ServerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  void start() {
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      for (const auto& [k, v] : env_) setenv(k.c_str(), v.c_str(), 1);
      if (nofile_ > 0) {
        rlimit limit{static_cast<rlim_t>(nofile_), static_cast<rlim_t>(nofile_)};
        setrlimit(RLIMIT_NOFILE, &limit);
      }
      const int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      // STILLONTIME_TEST_SERVER_BIN runs the suites against another build (e.g. an older one).
      const char* bin = std::getenv("STILLONTIME_TEST_SERVER_BIN");
      execl(bin != nullptr && *bin != '\0' ? bin : STILLONTIME_SERVER_BIN, "stillontime-server", nullptr);
      _exit(127);
    }
  }
  bool wait_for(const std::string& path, int status, std::chrono::milliseconds timeout) {
    Client c(port_);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (c.get(path).status == status) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
  bool wait_ready(std::chrono::milliseconds timeout = 20000ms) { return wait_for("/ready", 200, timeout); }
  // SIGTERM and wait; the exit code, or -1 when it had to be killed.
  int terminate(std::chrono::milliseconds timeout = 30000ms) {
    kill(pid_, SIGTERM);
    const int code = wait_exit(timeout);
    return code == kStillRunning ? -1 : code;
  }
  int wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(20ms);
    }
    return kStillRunning;
  }
  static constexpr int kStillRunning = -1000;  // wait_exit's answer when the timeout passed
  std::string log() const {
    std::ifstream in(log_path_);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  std::uint16_t port() const { return port_; }
  std::uint16_t metrics_port() const { return metrics_port_; }
  pid_t pid() const { return pid_; }

 private:
  std::map<std::string, std::string> env_;
  std::string name_;
  std::string log_path_;
  std::uint16_t port_ = 0;
  std::uint16_t metrics_port_ = 0;
  long nofile_ = 0;
  pid_t pid_ = -1;
};

int g_redis_db = 0;

struct Stack {
  std::map<std::string, std::string> services = services_env();
  FakeProviders fakes;
  std::string database_url;
  std::map<std::string, std::string> env;
  std::unique_ptr<ServerProcess> server;

  explicit Stack(const std::string& name, std::map<std::string, std::string> overrides = {}, long nofile = 0) {
    database_url = fresh_database(services, name);
    // Each suite runs in its own process; pick a Redis database from the suite name.
    g_redis_db = static_cast<int>(std::hash<std::string>{}(name) % 15) + 1;
    env = {{"DATABASE_URL", database_url},
           {"REDIS_URL", services.at("REDIS_URL") + "/" + std::to_string(g_redis_db)},
           {"REDIS_PASSWORD", services.at("REDIS_PASSWORD")},
           {"JWT_SECRET", kJwtSecret},
           {"FRONTEND_URL", kFrontend},
           {"APP_ENV", "development"},
           {"GOOGLE_CLIENT_ID", "test-client"},
           {"GOOGLE_CLIENT_SECRET", "test-client-secret"},
           {"GOOGLE_AUTH_URL", fakes.base() + "/authorize"},
           {"GOOGLE_TOKEN_URL", fakes.base() + "/token"},
           {"GOOGLE_USERINFO_URL", fakes.base() + "/userinfo"},
           {"GOOGLE_REDIRECT_URI", kFrontend + "/auth/callback"},
           {"OPENWEATHER_API_KEY", "weather-key"},
           {"OPENWEATHER_BASE_URL", fakes.base()},
           {"GOOGLE_MAPS_API_KEY", "maps-key"},
           {"GOOGLE_MAPS_BASE_URL", fakes.base()},
           {"RATE_LIMIT_MAX", "100000"},
           {"HEALTH_INTERVAL_MS", "200"},
           {"LOG_LEVEL", "info"}};
    for (auto& [k, v] : overrides) env[k] = v;
    flush_redis();
    server = std::make_unique<ServerProcess>(env, name, nofile);
    REQUIRE_MESSAGE(server->wait_ready(), server->log());
  }
  void flush_redis() { raw_redis("FLUSHDB"); }
  // Enough RESP to send one command to the test's Redis database.
  void raw_redis(const std::string& command) {
    const std::string pw = services.at("REDIS_PASSWORD");
    auto resp = [](std::vector<std::string> args) {
      std::string s = "*" + std::to_string(args.size()) + "\r\n";
      for (auto& a : args) s += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
      return s;
    };
    const std::string req =
        resp({"AUTH", pw}) + resp({"SELECT", std::to_string(g_redis_db)}) + resp({command}) + resp({"QUIT"});
    raw_http(static_cast<std::uint16_t>(std::stoi(services.at("REDIS_PORT"))), req, 1000ms);
  }
  Client client() const { return Client(server->port()); }

  // Runs the whole OAuth code flow against the fake provider; returns the session JSON.
  json login(const std::string& code = "good-code") {
    auto c = client();
    auto start = c.get("/api/auth/login");
    REQUIRE(start.status == 200);
    const std::string url = start.body["authUrl"];
    CHECK(url.rfind(fakes.base() + "/authorize?response_type=code&client_id=test-client", 0) == 0);
    CHECK(url.find("code_challenge_method=S256") != std::string::npos);
    auto session = c.post("/api/auth/callback", {{"code", code}, {"state", start.body["state"]}});
    REQUIRE_MESSAGE(session.status == 200, session.text);
    return session.body;
  }
};

std::string sample_sheet(const std::string& date = "01.06.2030") {
  return "PRODUCTION: The Long Night\nShooting Date: " + date +
         "\nCrew Call: 06:30\nLocation: Old Brewery, Warsaw\nBase Location: Parking lot B\nScene Type: EXT/NIGHT\n"
         "Scenes: 12, 14A, 15\n\nContacts:\nAnna Nowak - 1st AD - +48 600 100 200\n\nSafety Notes:\n- Life vests "
         "required\n";
}

double metric_value(const std::string& metrics, const std::string& series) {
  std::istringstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

}  // namespace
