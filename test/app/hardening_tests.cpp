// Why: the server tried as a hostile but bounded client would, on loopback, against the real
// PostgreSQL and Redis (the same harness as integration_tests.cpp). Each case is one trial from
// docs/reliability.md: it failed against the server before the fix it names, and must keep passing.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <poll.h>

#include <doctest/doctest.h>

#include "server_harness.h"

namespace {

// "[[[[...]]]]" nested `depth` deep.
std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}
// {"a":{"a":...{}}} nested `depth` deep.
std::string nested_objects(std::size_t depth) {
  std::string out;
  out.reserve(depth * 6);
  for (std::size_t i = 0; i < depth; ++i) out += R"({"a":)";
  out += "{}";
  out.append(depth, '}');
  return out;
}

// CPU seconds (user + system) the process has used, from /proc.
double cpu_seconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(content.substr(content.rfind(')') + 2));
  std::vector<std::string> v;
  std::string f;
  while (fields >> f) v.push_back(f);
  return (std::stod(v[11]) + std::stod(v[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Resident set of the process in MiB, from /proc.
double rss_mib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return -1;
}

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

int connect_loopback(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string schedule_id(Client& c, const std::string& token) {
  auto created =
      c.post("/api/schedules", {{"shootingDate", "2030-06-01"}, {"callTime", "06:30"}, {"location", "Set"}}, token);
  REQUIRE_MESSAGE(created.status == 201, created.text);
  return created.body["schedule"]["id"];
}

}  // namespace

TEST_SUITE("hardening_json") {
  TEST_CASE("deeply nested JSON is refused before it is walked; the server survives") {
    Stack stack("hard_nesting");
    auto c = stack.client();
    const std::string token = stack.login()["accessToken"];
    const std::string id = schedule_id(c, token);
    for (std::size_t depth : {std::size_t{100000}, std::size_t{70000}, std::size_t{10000}, std::size_t{40}}) {
      for (const std::string& value : {nested_arrays(depth), nested_objects(depth)}) {
        CAPTURE(depth);
        CAPTURE(value.substr(0, 8));
        auto notes =
            c.send("PUT", "/api/schedules/" + id, nullptr, token, {}, R"({"notes":)" + value + "}", "application/json");
        CHECK(notes.status == 400);
        CHECK(notes.body["message"].get<std::string>().find("nested deeper than") != std::string::npos);
        auto buffers =
            c.send("PUT", "/api/user/config", nullptr, token, {}, R"({"buffers":)" + value + "}", "application/json");
        CHECK(buffers.status == 400);
        REQUIRE_MESSAGE(c.get("/health/live").status == 200, stack.server->log().substr(0, 2000));
      }
    }
    // Shallow bodies are untouched by the limit.
    CHECK(c.put("/api/schedules/" + id, {{"notes", "call at six"}}, token).status == 200);
    // JSON bodies over 1 MiB are refused (the PDF import keeps the general 10 MB limit).
    auto big = c.send("PUT", "/api/schedules/" + id, nullptr, token, {},
                      R"({"notes":")" + std::string(1100000, 'x') + "\"}", "application/json");
    CHECK(big.status == 413);
  }

  TEST_CASE("wrong JSON types answer 400 naming the field, through the whole pipeline") {
    Stack stack("hard_types");
    auto c = stack.client();
    const std::string token = stack.login()["accessToken"];
    struct Trial {
      const char* path;
      json body;
      bool auth;
      const char* field;
    };
    const Trial trials[] = {
        {"/api/auth/refresh", {{"refreshToken", 5}}, false, "refreshToken"},
        {"/api/auth/callback", {{"code", 5}, {"state", "x"}}, false, "code"},
        {"/api/auth/callback", {{"code", "x"}, {"state", {1, 2}}}, false, "state"},
        {"/api/auth/logout", {{"allDevices", "yes"}}, true, "allDevices"},
        {"/api/auth/logout", {{"refreshToken", 7}}, true, "refreshToken"},
        {"/api/route/calculate",
         {{"date", "2030-01-01"}, {"callTime", "06:00"}, {"segments", {{{"from", 5}, {"to", "b"}, {"minutes", 5}}}}},
         true,
         "segments[].from"},
        {"/api/route/calculate", {{"date", "2030-01-01"}, {"callTime", "06:00"}, {"location", 5}}, true, "location"},
    };
    for (const auto& t : trials) {
      CAPTURE(t.path);
      CAPTURE(t.body.dump());
      auto r = c.post(t.path, t.body, t.auth ? token : "");
      CHECK(r.status == 400);
      CHECK(r.body["error"] == "bad_request");
      CHECK(r.body["message"].get<std::string>().find(t.field) != std::string::npos);
      CHECK(r.header("x-request-id").size() == 24);
      CHECK(r.body["requestId"] == r.header("x-request-id"));
      CHECK(r.header("x-content-type-options") == "nosniff");
    }
    // CORS headers too, and the answers were counted.
    auto cors = c.send("POST", "/api/auth/refresh", {{"refreshToken", 5}}, "", {{"origin", kFrontend}});
    CHECK(cors.status == 400);
    CHECK(cors.header("access-control-allow-origin") == kFrontend);
    Client m(stack.server->metrics_port());
    const auto metrics = m.get("/metrics").text;
    CHECK(metric_value(metrics, R"(http_requests_total{method="POST",route="/api/auth/refresh",status="400"})") == 2);
    CHECK(metric_value(metrics, R"(http_requests_total{method="POST",route="/api/auth/callback",status="400"})") == 2);
    CHECK(stack.server->log().find("handler threw") == std::string::npos);
  }

  TEST_CASE("encoding is checked up front: NUL and non-UTF-8 are 400, database text never leaks") {
    Stack stack("hard_encoding");
    auto c = stack.client();
    const std::string token = stack.login()["accessToken"];
    const std::string id = schedule_id(c, token);
    // A NUL in a string field used to be cut off silently; in an array it was a 500.
    auto nul_notes = c.send("PUT", "/api/schedules/" + id, nullptr, token, {}, R"({"notes":"before\u0000after"})",
                            "application/json");
    CHECK(nul_notes.status == 400);
    CHECK(nul_notes.body["message"].get<std::string>().find("notes") != std::string::npos);
    auto nul_array = c.send("POST", "/api/schedules", nullptr, token, {},
                            R"({"shootingDate":"2030-06-01","callTime":"06:30","location":"Set","scenes":["1\u0000"]})",
                            "application/json");
    CHECK(nul_array.status == 400);
    CHECK(nul_array.body["message"].get<std::string>().find("scenes") != std::string::npos);
    CHECK(c.get("/api/schedules/" + id, token).body["schedule"]["notes"] == "");
    // Text call sheets must be UTF-8.
    auto latin1 = c.send("POST", "/api/schedules/import", nullptr, token, {},
                         "Location: Caf\xe9 Z\xfcrich\nShooting Date: 01.06.2030\nCrew Call: 06:30\n", "text/plain");
    CHECK(latin1.status == 400);
    CHECK(latin1.body["message"].get<std::string>().find("UTF-8") != std::string::npos);
    // What PostgreSQL refuses comes back without PostgreSQL's words (constraint and column names).
    auto pool = db::make_pg_pool(db::PoolOptions{stack.database_url, 1}, nullptr);
    auto fk = pool->exec(
        "INSERT INTO schedules (user_id, shooting_date, call_time, location) VALUES "
        "('00000000-0000-0000-0000-000000000000', '2030-06-01', '06:30', 'x')");
    REQUIRE_FALSE(fk.ok());
    CHECK(fk.error().code == ErrorCode::kInvalid);
    CHECK(fk.error().message.find("fkey") == std::string::npos);
    CHECK(fk.error().message.find("schedules") == std::string::npos);
    auto bad_text = pool->exec("SELECT $1::text", {std::string("\xff\xfe")});
    REQUIRE_FALSE(bad_text.ok());
    CHECK(bad_text.error().code == ErrorCode::kInvalid);
    CHECK(bad_text.error().message.find("UTF8") == std::string::npos);
    for (const auto& r : {nul_notes, nul_array, latin1}) CHECK(r.status < 500);
  }

  TEST_CASE("made-up request methods are one metrics label") {
    Stack stack("hard_methods");
    for (int i = 0; i < 100; ++i) {
      const std::string method = "X" + std::to_string(i) + std::string(2000, 'M');
      // Connection: close, so that the read ends with the answer rather than at the timeout.
      const auto reply = raw_http(
          stack.server->port(),
          method + " /api/schedules HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 2000ms);
      CHECK(reply.rfind("HTTP/1.1 ", 0) == 0);
    }
    Client m(stack.server->metrics_port());
    const auto metrics = m.get("/metrics").text;
    MESSAGE("/metrics after 100 long made-up methods: " << metrics.size() << " bytes");
    CHECK(metrics.size() < 100000);
    CHECK(metrics.find("MMMMMMMMMM") == std::string::npos);
    CHECK(metrics.find(R"(method="OTHER")") != std::string::npos);
    CHECK(stack.server->log().find("MMMMMMMMMM") == std::string::npos);
  }
}

TEST_SUITE("hardening_auth") {
  TEST_CASE("deleting the account revokes every session, not only the token used") {
    Stack stack("hard_delete");
    auto c = stack.client();
    const std::string first = stack.login()["accessToken"];
    std::this_thread::sleep_for(1100ms);  // a token issued in another second than the first
    const auto second_session = stack.login();
    const std::string second = second_session["accessToken"];
    schedule_id(c, first);
    const char* reads[] = {"/api/schedules", "/api/schedules/upcoming", "/api/schedules/statistics",
                           "/api/calendar/events", "/api/user/config"};
    for (const char* path : reads) CHECK(c.get(path, second).status == 200);
    REQUIRE(c.del("/api/user/account", first).status == 200);
    for (const char* path : reads) {
      CAPTURE(path);
      auto r = c.get(path, second);
      CHECK(r.status == 401);
      CHECK(r.header("www-authenticate").find("Bearer") == 0);
    }
    CHECK(c.get("/api/auth/status", second).body["authenticated"] == false);
    CHECK(c.post("/api/auth/refresh", {{"refreshToken", second_session["refreshToken"]}}).status == 401);
    auto anonymous = c.get("/api/schedules");
    CHECK(anonymous.status == 401);
    CHECK(anonymous.header("www-authenticate") == R"(Bearer realm="stillontime")");
  }

  TEST_CASE("failed authentications use up the client's rate limit") {
    Stack stack("hard_authlimit", {{"RATE_LIMIT_MAX", "5"}});
    auto c = stack.client();
    for (int i = 0; i < 5; ++i) {
      auto r = c.get("/api/schedules", "guess-" + std::to_string(i));
      CHECK(r.status == 401);
      CHECK(r.header("ratelimit-remaining") == std::to_string(4 - i));
    }
    CHECK(c.get("/api/schedules", "guess-5").status == 429);
    CHECK(c.get("/api/schedules").status == 429);
  }

  TEST_CASE("behind a trusted proxy each client has its own bucket; X-Forwarded-For is read from the right") {
    Stack stack("hard_proxy", {{"RATE_LIMIT_MAX", "3"}, {"TRUSTED_PROXIES", "127.0.0.1/32, ::1"}});
    auto c = stack.client();
    auto as = [&](const std::string& xff) {
      return c.send("GET", "/api/auth/status", nullptr, "", {{"x-forwarded-for", xff}}).status;
    };
    for (int i = 0; i < 3; ++i) CHECK(as("203.0.113.1") == 200);
    CHECK(as("203.0.113.1") == 429);
    CHECK(as("203.0.113.2") == 200);                // another client behind the same proxy
    CHECK(as("198.51.100.7, 203.0.113.1") == 429);  // prepending an address does not pick a new bucket
  }

  TEST_CASE("an untrusted peer's X-Forwarded-For is ignored") {
    Stack stack("hard_noproxy", {{"RATE_LIMIT_MAX", "3"}, {"TRUSTED_PROXIES", "10.0.0.0/8"}});
    auto c = stack.client();
    for (int i = 0; i < 3; ++i) {
      CHECK(c.send("GET", "/api/auth/status", nullptr, "", {{"x-forwarded-for", "203.0.113." + std::to_string(i)}})
                .status == 200);
    }
    CHECK(c.send("GET", "/api/auth/status", nullptr, "", {{"x-forwarded-for", "203.0.113.99"}}).status == 429);
  }
}

TEST_SUITE("hardening_http") {
  TEST_CASE("idle connections close silently; a half-sent request gets 408") {
    Stack stack("hard_idle", {{"HTTP_IDLE_TIMEOUT_SECONDS", "1"}});
    const auto start = std::chrono::steady_clock::now();
    const std::string partial = raw_http(stack.server->port(), "GET /api/auth/status HTTP/1.1\r\nHost: x\r\n", 5000ms);
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    MESSAGE("half-sent request answered after " << waited << " s: " << partial.substr(0, 12));
    CHECK(partial.rfind("HTTP/1.1 408", 0) == 0);
    CHECK(partial.find("request_timeout") != std::string::npos);
    CHECK(waited < 3.0);
    CHECK(raw_http(stack.server->port(), "", 5000ms).empty());
    // A keep-alive connection that answered a request and then went quiet closes without a 408.
    const std::string kept = raw_http(stack.server->port(), "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n", 5000ms);
    CHECK(kept.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(count_of(kept, "HTTP/1.1 ") == 1);
    CHECK(stack.client().get("/health/live").status == 200);
  }

  TEST_CASE("readiness reports saturation while every worker is busy") {
    Stack stack("hard_saturation", {{"HTTP_WORKERS", "2"}});
    auto c = stack.client();
    const std::string token = stack.login()["accessToken"];
    const std::string id =
        c.post("/api/schedules", {{"shootingDate", "2030-06-01"}, {"callTime", "06:30"}, {"location", "Slow Lane"}},
               token)
            .body["schedule"]["id"];
    std::vector<std::thread> slow;
    for (int i = 0; i < 2; ++i)
      slow.emplace_back([&] { stack.client().get("/api/schedules/" + id + "/weather", token); });
    std::this_thread::sleep_for(600ms);
    auto during = c.get("/ready");
    for (auto& t : slow) t.join();
    CHECK(during.status == 503);
    CHECK(during.body["saturated"] == true);
    CHECK(c.get("/ready").status == 200);
  }

  TEST_CASE("SHUTDOWN_TIMEOUT_SECONDS bounds the exit even with a request stuck in a handler") {
    Stack stack("hard_shutdown", {{"SHUTDOWN_TIMEOUT_SECONDS", "1"}});
    auto c = stack.client();
    const std::string token = stack.login()["accessToken"];
    const std::string id =
        c.post("/api/schedules", {{"shootingDate", "2030-06-01"}, {"callTime", "06:30"}, {"location", "Stuck Road"}},
               token)
            .body["schedule"]["id"];
    std::thread stuck([&] { stack.client().get("/api/schedules/" + id + "/weather", token); });
    std::this_thread::sleep_for(400ms);
    const auto start = std::chrono::steady_clock::now();
    const int code = stack.server->terminate(20000ms);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    stuck.join();
    MESSAGE("exit " << code << " after " << elapsed << " s with SHUTDOWN_TIMEOUT_SECONDS=1 and an 8 s handler");
    CHECK(code == 0);
    CHECK(elapsed < 3.0);  // 1 s timeout, not the 8 s the handler takes
    CHECK(stack.server->log().find("shutdown timeout reached") != std::string::npos);
  }

  TEST_CASE("SHUTDOWN_DELAY_SECONDS: after SIGTERM new connections are still served while readiness says 503") {
    Stack stack("hard_shutdown_delay", {{"SHUTDOWN_DELAY_SECONDS", "2"}});
    REQUIRE(stack.client().get("/ready").status == 200);
    const pid_t pid = stack.server->pid();
    const auto start = std::chrono::steady_clock::now();
    kill(pid, SIGTERM);
    std::this_thread::sleep_for(700ms);
    // A client that kube-proxy still sends here (a new connection) gets its answer.
    auto during = stack.client().get("/health/live");
    auto ready = stack.client().get("/ready");
    CHECK(during.status == 200);
    CHECK(ready.status == 503);
    const int code = stack.server->wait_exit(10000ms);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    MESSAGE("served during the 2 s delay; exit " << code << " after " << elapsed << " s");
    CHECK(code == 0);
    CHECK(elapsed >= 1.9);
    CHECK(elapsed < 6.0);
  }

  TEST_CASE("out of file descriptors: the accept loop backs off, logs little, and recovers") {
    Stack stack("hard_emfile", {}, 96);
    const pid_t pid = stack.server->pid();
    std::vector<int> held;
    for (int i = 0; i < 200; ++i) {
      const int fd = connect_loopback(stack.server->port());
      if (fd >= 0) held.push_back(fd);
    }
    std::this_thread::sleep_for(500ms);  // the server has run out by now
    const double cpu_before = cpu_seconds(pid);
    const auto log_before = count_of(stack.server->log(), "accept failed");
    std::this_thread::sleep_for(3s);
    const double cpu_used = cpu_seconds(pid) - cpu_before;
    const auto log_lines = count_of(stack.server->log(), "accept failed") - log_before;
    MESSAGE("out of descriptors for 3 s: " << cpu_used << " s of CPU, " << log_lines << " accept log lines");
    CHECK(count_of(stack.server->log(), "accept failed") >= 1);
    CHECK(cpu_used < 0.5);  // was a full core: 3 s in 3 s
    CHECK(log_lines <= 1);  // one line per 10 s, not millions
    for (int fd : held) close(fd);
    CHECK(stack.server->wait_for("/health/live", 200, 5000ms));
    Client m(stack.server->metrics_port());
    CHECK(metric_value(m.get("/metrics").text, "http_accept_errors_total") >= 1);
  }
}

TEST_SUITE("hardening_pdf") {
  TEST_CASE("costly PDFs are refused with 422 within their budget; other users stay fast") {
    Stack stack("hard_pdf", {{"PDF_EXTRACT_CPU_SECONDS", "1"}, {"PDF_EXTRACT_CONCURRENCY", "1"}});
    auto c = stack.client();
    const std::string token = stack.login()["accessToken"];
    const pid_t pid = stack.server->pid();
    const double rss_before = rss_mib(pid);
    const double cpu_before = cpu_seconds(pid);

    // 200 pages sharing one stream of 400,000 glyphs: 80 million glyphs to lay out (about 2 s of
    // CPU here), from 530 KB.
    const std::string costly = test::make_costly_pdf(200, 400000, false);
    // 200 pages sharing 20,000 visible glyphs: 4 MB of text from 52 KB.
    const std::string wordy = test::make_costly_pdf(200, 20000);
    struct Trial {
      const std::string* pdf;
      const char* reason;
    };
    for (const Trial& t : {Trial{&costly, "CPU"}, Trial{&wordy, "KiB of text"}}) {
      CAPTURE(t.pdf->size());
      const auto start = std::chrono::steady_clock::now();
      auto r = c.send("POST", "/api/schedules/import", nullptr, token, {}, *t.pdf, "application/pdf");
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      CHECK(r.status == 422);
      CHECK(r.body["error"] == "unprocessable_entity");
      CHECK_MESSAGE(r.body["message"].get<std::string>().find(t.reason) != std::string::npos, r.text);
      CHECK(seconds < 20.0);  // wall clock on a shared machine; the CPU figure below is the real bound
      MESSAGE("import answered in " << seconds << " s");
    }
    // The work happened in the child: the server itself spent next to nothing and kept its memory.
    MESSAGE("server CPU for both imports: " << cpu_seconds(pid) - cpu_before << " s; RSS growth "
                                            << rss_mib(pid) - rss_before << " MiB");
    CHECK(cpu_seconds(pid) - cpu_before < 0.5);
    CHECK(rss_mib(pid) - rss_before < 40);

    // While one extraction runs, a second is refused at once (503) and the API stays fast.
    Reply first;
    std::thread busy([&] {
      first = stack.client().send("POST", "/api/schedules/import", nullptr, token, {}, costly, "application/pdf");
    });
    std::this_thread::sleep_for(300ms);
    auto second = c.send("POST", "/api/schedules/import", nullptr, token, {}, wordy, "application/pdf");
    const auto t0 = std::chrono::steady_clock::now();
    auto status = c.get("/api/auth/status", token);
    const double api_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    busy.join();
    CHECK(first.status == 422);
    CHECK(second.status == 503);
    CHECK_FALSE(second.header("retry-after").empty());
    CHECK(status.status == 200);
    CHECK(api_seconds < 2.0);
    MESSAGE("API call during an extraction: " << api_seconds * 1000 << " ms");

    // An ordinary call sheet still imports.
    const std::string sheet =
        test::make_pdf({"Shooting Date: 01.06.2030", "Crew Call: 06:30", "Location: Old Brewery, Warsaw"});
    auto ok = c.send("POST", "/api/schedules/import", nullptr, token, {}, sheet, "application/pdf");
    CHECK_MESSAGE(ok.status == 201, ok.text);
    Client m(stack.server->metrics_port());
    const auto metrics = m.get("/metrics").text;
    CHECK(metric_value(metrics, R"(stillontime_pdf_extractions_total{result="refused"})") == 3);
    CHECK(metric_value(metrics, R"(stillontime_pdf_extractions_total{result="busy"})") == 1);
    CHECK(metric_value(metrics, R"(stillontime_pdf_extractions_total{result="ok"})") == 1);
  }
}
