// Why: end-to-end tests of the real stillontime-server binary against the real PostgreSQL and
// Redis that scripts/services.sh starts on loopback (CTest fixture app_services). Each suite gets
// a fresh database (so every run also migrates from empty) and its own Redis database number;
// the OAuth provider, OpenWeather and Google Maps are fakes served from this process on loopback.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <cctype>

#include <doctest/doctest.h>

#include "server_harness.h"

TEST_SUITE("http") {
  TEST_CASE("health, readiness, liveness, metrics, headers and errors") {
    Stack stack("http");
    auto c = stack.client();
    auto health = c.get("/health");
    CHECK(health.status == 200);
    CHECK(health.body["status"] == "healthy");
    REQUIRE(health.body["checks"].size() == 3);
    CHECK(health.body["checks"][0]["name"] == "database");
    CHECK(health.body["checks"][0]["responseTimeMs"].is_number());
    CHECK(health.body["checks"][2]["schemaVersion"] == 1);
    CHECK(c.get("/health/live").status == 200);
    auto ready = c.get("/ready");
    CHECK(ready.status == 200);
    CHECK(ready.body["status"] == "ready");

    // Request ids: generated, or echoed when the caller sends a sane one.
    CHECK(health.header("x-request-id").size() == 24);
    auto echoed = c.send("GET", "/health/live", nullptr, "", {{"x-request-id", "trace-abc-123"}});
    CHECK(echoed.header("x-request-id") == "trace-abc-123");
    auto bogus = c.send("GET", "/health/live", nullptr, "", {{"x-request-id", "bad id with spaces"}});
    CHECK(bogus.header("x-request-id") != "bad id with spaces");

    // Security headers.
    CHECK(health.header("x-content-type-options") == "nosniff");
    CHECK(health.header("x-frame-options") == "DENY");
    CHECK(health.header("content-security-policy").find("default-src 'none'") == 0);
    CHECK(health.header("referrer-policy") == "no-referrer");

    // JSON errors.
    auto missing = c.get("/api/nothing-here");
    CHECK(missing.status == 404);
    CHECK(missing.body["error"] == "not_found");
    CHECK(missing.body["requestId"] == missing.header("x-request-id"));
    auto wrong_method = c.send("PATCH", "/api/schedules");
    CHECK(wrong_method.status == 405);
    CHECK(wrong_method.header("allow") == "GET, POST");
    CHECK(c.get("/api/schedules").status == 401);
    auto bad_json = c.send("POST", "/api/auth/refresh", nullptr, "", {}, "{not json", "application/json");
    CHECK(bad_json.status == 400);
    CHECK(bad_json.body["error"] == "bad_request");

    // CORS: only FRONTEND_URL.
    auto preflight = c.send("OPTIONS", "/api/schedules", nullptr, "",
                            {{"origin", kFrontend}, {"access-control-request-method", "GET"}});
    CHECK(preflight.status == 204);
    CHECK(preflight.header("access-control-allow-origin") == kFrontend);
    CHECK(preflight.header("access-control-allow-headers").find("Authorization") != std::string::npos);
    auto evil = c.send("OPTIONS", "/api/schedules", nullptr, "", {{"origin", "https://evil.example"}});
    CHECK(evil.status == 403);
    CHECK(evil.header("access-control-allow-origin").empty());
    auto simple = c.send("GET", "/health/live", nullptr, "", {{"origin", "https://evil.example"}});
    CHECK(simple.header("access-control-allow-origin").empty());

    // Body limit: 10 MB, refused from the Content-Length alone.
    const std::string big = raw_http(stack.server->port(),
                                     "POST /api/auth/refresh HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                     "Content-Length: 10485761\r\n\r\n{");
    CHECK(big.rfind("HTTP/1.1 413", 0) == 0);
    CHECK(big.find("\"error\":\"payload_too_large\"") != std::string::npos);
    CHECK(big.find("x-request-id:") != std::string::npos);

    // /metrics only on METRICS_PORT.
    CHECK(c.get("/metrics").status == 404);
    Client m(stack.server->metrics_port());
    auto metrics = m.get("/metrics");
    CHECK(metrics.status == 200);
    for (const char* series :
         {"http_requests_total{", "http_request_duration_seconds_bucket{", "db_pool_connections{", "db_queries_total{",
          "db_query_duration_seconds_bucket", "cache_hits_total", "cache_misses_total",
          "stillontime_schedules_imported_total{", "stillontime_route_calculations_total",
          "process_resident_memory_bytes", "redis_commands_total{"}) {
      CHECK_MESSAGE(metrics.text.find(series) != std::string::npos, series);
    }
    CHECK(metrics.text.find(R"(http_requests_total{method="GET",route="/health",status="200"})") != std::string::npos);
    CHECK(metrics.text.find(R"(route="/api/schedules",status="401")") != std::string::npos);
    CHECK(metrics.text.find("route=\"/api/nothing-here\"") == std::string::npos);  // unmatched paths are one label
    // No secret reaches the log.
    const auto log = stack.server->log();
    CHECK(log.find(kJwtSecret) == std::string::npos);
    CHECK(log.find(stack.services.at("PG_PASSWORD")) == std::string::npos);
    CHECK(log.find(stack.services.at("REDIS_PASSWORD")) == std::string::npos);
  }
  TEST_CASE("bad configuration stops start-up naming the variable") {
    auto services = services_env();
    ServerProcess bad({{"DATABASE_URL", services.at("DATABASE_URL")},
                       {"REDIS_URL", services.at("REDIS_URL")},
                       {"JWT_SECRET", "short-secret-value"}},
                      "badconfig");
    CHECK(bad.wait_exit(5000ms) == 2);
    const auto log = bad.log();
    CHECK(log.find("JWT_SECRET: must be at least 32 bytes") != std::string::npos);
    CHECK(log.find("short-secret-value") == std::string::npos);
  }
}

TEST_SUITE("auth") {
  TEST_CASE("OAuth login, refresh rotation, logout and token checks") {
    Stack stack("auth");
    auto c = stack.client();
    auto session = stack.login();
    CHECK(session["user"]["email"] == "crew-a@example.com");
    CHECK(session["newUser"] == true);
    CHECK(session["expiresIn"] == 3600);
    CHECK(session["refreshExpiresIn"] == 604800);
    const std::string access = session["accessToken"];
    const std::string refresh = session["refreshToken"];
    auto profile = c.get("/api/auth/profile", access);
    CHECK(profile.status == 200);
    CHECK(profile.body["user"]["name"] == "Crew A");
    CHECK(c.get("/api/auth/status", access).body["authenticated"] == true);
    CHECK(c.get("/api/auth/status").body["authenticated"] == false);
    // Second login: same user, not new.
    CHECK(stack.login()["newUser"] == false);

    SUBCASE("state is one-time and codes are checked") {
      auto start = c.get("/api/auth/login");
      auto bad_code = c.post("/api/auth/callback", {{"code", "wrong"}, {"state", start.body["state"]}});
      CHECK(bad_code.status == 401);
      auto reused_state = c.post("/api/auth/callback", {{"code", "good-code"}, {"state", start.body["state"]}});
      CHECK(reused_state.status == 400);
      CHECK(c.post("/api/auth/callback", {{"code", "good-code"}, {"state", "made-up"}}).status == 400);
      CHECK(c.get("/api/auth/callback?code=x").status == 400);
    }
    SUBCASE("refresh rotates; reuse of a spent token revokes the family") {
      auto rotated = c.post("/api/auth/refresh", {{"refreshToken", refresh}});
      REQUIRE(rotated.status == 200);
      const std::string refresh2 = rotated.body["refreshToken"];
      CHECK(refresh2 != refresh);
      CHECK(c.get("/api/auth/profile", rotated.body["accessToken"]).status == 200);
      auto reuse = c.post("/api/auth/refresh", {{"refreshToken", refresh}});
      CHECK(reuse.status == 401);
      CHECK(c.post("/api/auth/refresh", {{"refreshToken", refresh2}}).status == 401);
      CHECK(c.post("/api/auth/refresh", json::object()).status == 400);
    }
    SUBCASE("logout revokes the access and the refresh token") {
      auto out = c.post("/api/auth/logout", {{"refreshToken", refresh}}, access);
      CHECK(out.status == 200);
      auto after = c.get("/api/auth/profile", access);
      CHECK(after.status == 401);
      CHECK(after.body["message"] == "token has been revoked");
      CHECK(c.post("/api/auth/refresh", {{"refreshToken", refresh}}).status == 401);
    }
    SUBCASE("tampered, foreign, expired and alg-confused tokens") {
      const auto dot1 = access.find('.');
      const auto dot2 = access.rfind('.');
      const auto payload = common::base64url_decode(access.substr(dot1 + 1, dot2 - dot1 - 1));
      REQUIRE(payload);
      auto claims = json::parse(*payload);
      auto forge = [&](const json& header, const json& body, const std::string& key) {
        const std::string input = common::base64url_encode(header.dump()) + "." + common::base64url_encode(body.dump());
        return input + "." + common::base64url_encode(crypto::hmac_sha256(key, input));
      };
      json admin = claims;
      admin["role"] = "admin";
      const std::string tampered =
          access.substr(0, dot1 + 1) + common::base64url_encode(admin.dump()) + access.substr(dot2);
      CHECK(c.get("/api/auth/profile", tampered).status == 401);
      CHECK(c.get("/api/auth/profile",
                  forge({{"alg", "HS256"}, {"typ", "JWT"}}, claims, "some-other-secret-some-other-secret"))
                .status == 401);
      json expired = claims;
      expired["iat"] = claims["iat"].get<long>() - 7200;
      expired["exp"] = claims["iat"].get<long>() - 3600;
      auto exp = c.get("/api/auth/profile", forge({{"alg", "HS256"}, {"typ", "JWT"}}, expired, kJwtSecret));
      CHECK(exp.status == 401);
      CHECK(exp.body["message"] == "token expired");
      auto none = c.get("/api/auth/profile", common::base64url_encode(R"({"alg":"none"})") + "." +
                                                 common::base64url_encode(claims.dump()) + ".");
      CHECK(none.status == 401);
      CHECK(c.get("/api/auth/profile", forge({{"alg", "HS512"}}, claims, kJwtSecret)).status == 401);
      CHECK(c.get("/api/auth/profile", forge({{"alg", "RS256"}}, claims, kJwtSecret)).status == 401);
      // The same claims correctly signed are accepted: the refusals above are about the token.
      CHECK(c.get("/api/auth/profile", forge({{"alg", "HS256"}, {"typ", "JWT"}}, claims, kJwtSecret)).status == 200);
      CHECK(c.send("GET", "/api/auth/profile", nullptr, "", {{"authorization", "Basic abc"}}).status == 401);
    }
  }
}

TEST_SUITE("user") {
  TEST_CASE("configuration, buffers, reset and account deletion") {
    Stack stack("user");
    auto c = stack.client();
    const std::string token = stack.login()["accessToken"];
    auto config = c.get("/api/user/config", token);
    REQUIRE(config.status == 200);
    CHECK(config.body["config"]["buffers"] ==
          json{{"carChange", 15}, {"parking", 10}, {"entry", 10}, {"traffic", 20}, {"morningRoutine", 45}});
    CHECK(config.body["config"]["homeAddress"].is_null());
    auto updated = c.put("/api/user/config",
                         {{"homeAddress", "Home St 1"},
                          {"officeAddress", "Office Ave 2"},
                          {"buffers", {{"traffic", 30}}},
                          {"notifications", {{"push", true}}}},
                         token);
    REQUIRE(updated.status == 200);
    CHECK(updated.body["config"]["homeAddress"] == "Home St 1");
    CHECK(updated.body["config"]["buffers"]["traffic"] == 30);
    CHECK(updated.body["config"]["buffers"]["parking"] == 10);
    CHECK(updated.body["config"]["notifications"]["push"] == true);
    CHECK(c.put("/api/user/buffers", {{"morningRoutine", 60}}, token).body["config"]["buffers"]["morningRoutine"] ==
          60);
    CHECK(c.put("/api/user/buffers", {{"morningRoutine", -1}}, token).status == 400);
    CHECK(c.put("/api/user/buffers", {{"homeAddress", "x"}}, token).status == 400);
    CHECK(c.put("/api/user/notifications", {{"notifications", {{"sms", true}}}}, token).status ==
          400);  // needs smsNumber
    CHECK(c.put("/api/user/notifications", {{"notifications", {{"sms", true}}}, {"smsNumber", "+48600100200"}}, token)
              .status == 200);
    CHECK(c.put("/api/user/addresses", {{"homeAddress", 5}}, token).status == 400);
    CHECK(c.put("/api/user/profile", {{"name", "Renamed"}}, token).body["user"]["name"] == "Renamed");
    auto reset = c.post("/api/user/reset", json::object(), token);
    CHECK(reset.body["config"]["buffers"]["traffic"] == 20);
    CHECK(reset.body["config"]["homeAddress"].is_null());

    // Deleting the account removes everything of the user's.
    CHECK(c.post("/api/schedules", {{"shootingDate", "2030-06-01"}, {"callTime", "07:00"}, {"location", "Set"}}, token)
              .status == 201);
    auto other = stack.login("good-code-b");
    CHECK(c.post("/api/schedules", {{"shootingDate", "2030-06-02"}, {"callTime", "07:00"}, {"location", "Set B"}},
                 other["accessToken"])
              .status == 201);
    auto deleted = c.del("/api/user/account", token);
    CHECK(deleted.status == 200);
    CHECK(c.get("/api/user/config", token).status == 401);
    auto pool = db::make_pg_pool(db::PoolOptions{stack.database_url, 1}, nullptr);
    auto counts = pool->exec(
        "SELECT (SELECT count(*) FROM users) AS u, (SELECT count(*) FROM schedules) AS s, "
        "(SELECT count(*) FROM user_configs) AS c");
    REQUIRE(counts.ok());
    CHECK(counts->get(0, "u") == "1");
    CHECK(counts->get(0, "s") == "1");
    CHECK(counts->get(0, "c") == "1");
    CHECK(c.get("/api/schedules", other["accessToken"]).body["schedules"].size() == 1);
  }
}

TEST_SUITE("schedules") {
  TEST_CASE("CRUD, pagination, date range, ownership and cache") {
    Stack stack("schedules");
    auto c = stack.client();
    const std::string token = stack.login()["accessToken"];
    const std::string other = stack.login("good-code-b")["accessToken"];
    std::vector<std::string> ids;
    for (int day = 1; day <= 5; ++day) {
      auto r = c.post("/api/schedules",
                      {{"shootingDate", "2030-06-0" + std::to_string(day)},
                       {"callTime", "07:00"},
                       {"location", "Set " + std::to_string(day)},
                       {"scenes", {"1", "2"}},
                       {"contacts", {{{"name", "Anna"}, {"role", "AD"}, {"phone", "+48 1"}}}}},
                      token);
      REQUIRE_MESSAGE(r.status == 201, r.text);
      CHECK(r.header("location") == "/api/schedules/" + r.body["schedule"]["id"].get<std::string>());
      ids.push_back(r.body["schedule"]["id"]);
    }
    auto first = c.get("/api/schedules?page=1&limit=2", token);
    REQUIRE(first.status == 200);
    CHECK(first.body["schedules"].size() == 2);
    CHECK(first.body["pagination"] == json{{"page", 1}, {"limit", 2}, {"total", 5}, {"totalPages", 3}});
    CHECK(first.body["schedules"][0]["shootingDate"] == "2030-06-01");
    CHECK(c.get("/api/schedules?page=3&limit=2", token).body["schedules"].size() == 1);
    auto range = c.get("/api/schedules?from=2030-06-02&to=2030-06-03", token);
    CHECK(range.body["schedules"].size() == 2);
    CHECK(c.get("/api/schedules?from=June", token).status == 400);
    CHECK(c.get("/api/schedules?limit=1000", token).status == 400);

    // Cache: the same list twice is a hit; a write invalidates it.
    Client m(stack.server->metrics_port());
    const double hits_before = metric_value(m.get("/metrics").text, R"(cache_hits_total{cache="schedules"})");
    CHECK(c.get("/api/schedules?page=1&limit=2", token).body == first.body);
    CHECK(metric_value(m.get("/metrics").text, R"(cache_hits_total{cache="schedules"})") == hits_before + 1);
    auto updated = c.put("/api/schedules/" + ids[0], {{"callTime", "05:15"}, {"notes", "early"}}, token);
    REQUIRE(updated.status == 200);
    CHECK(updated.body["schedule"]["callTime"] == "05:15");
    CHECK(updated.body["schedule"]["location"] == "Set 1");
    CHECK(c.get("/api/schedules?page=1&limit=2", token).body["schedules"][0]["callTime"] == "05:15");

    auto got = c.get("/api/schedules/" + ids[1], token);
    CHECK(got.status == 200);
    CHECK(got.body["schedule"]["contacts"][0]["name"] == "Anna");
    CHECK(got.body["schedule"]["routePlan"].is_null());
    // Another user's schedule does not exist for me.
    CHECK(c.get("/api/schedules/" + ids[1], other).status == 404);
    CHECK(c.put("/api/schedules/" + ids[1], {{"notes", "x"}}, other).status == 404);
    CHECK(c.del("/api/schedules/" + ids[1], other).status == 404);
    CHECK(c.get("/api/schedules/not-a-uuid", token).status == 404);
    // Validation.
    CHECK(c.post("/api/schedules", {{"shootingDate", "2030-02-30"}, {"callTime", "07:00"}, {"location", "x"}}, token)
              .status == 400);
    CHECK(c.post("/api/schedules", {{"shootingDate", "2030-02-01"}, {"callTime", "7am"}, {"location", "x"}}, token)
              .status == 400);
    CHECK(c.post("/api/schedules", {{"shootingDate", "2030-02-01"}, {"callTime", "07:00"}}, token).status == 400);
    CHECK(c.post("/api/schedules",
                 {{"shootingDate", "2030-02-01"}, {"callTime", "07:00"}, {"location", "x"}, {"color", "red"}}, token)
              .status == 400);
    CHECK(c.put("/api/schedules/" + ids[2], {{"scenes", "12"}}, token).status == 400);
    // Delete.
    CHECK(c.del("/api/schedules/" + ids[4], token).status == 204);
    CHECK(c.get("/api/schedules/" + ids[4], token).status == 404);
    CHECK(c.get("/api/schedules", token).body["pagination"]["total"] == 4);
    auto stats = c.get("/api/schedules/statistics", token);
    CHECK(stats.status == 200);
    CHECK(stats.body["total"] == 4);
    CHECK(stats.body["bySource"]["manual"] == 4);
    auto upcoming = c.get("/api/schedules/upcoming?limit=2", token);
    CHECK(upcoming.body["schedules"].size() == 2);
    CHECK(upcoming.body["schedules"][0]["shootingDate"] == "2030-06-01");
  }
}

TEST_SUITE("import") {
  TEST_CASE("text and PDF call sheets, dedupe by content, 422 on missing fields") {
    Stack stack("import");
    auto c = stack.client();
    const std::string token = stack.login()["accessToken"];
    auto imported = c.send("POST", "/api/schedules/import", nullptr, token, {}, sample_sheet(), "text/plain");
    REQUIRE_MESSAGE(imported.status == 201, imported.text);
    const auto& s = imported.body["schedule"];
    CHECK(imported.body["duplicate"] == false);
    CHECK(s["shootingDate"] == "2030-06-01");
    CHECK(s["callTime"] == "06:30");
    CHECK(s["title"] == "The Long Night");
    CHECK(s["location"] == "Old Brewery, Warsaw");
    CHECK(s["baseLocation"] == "Parking lot B");
    CHECK(s["sceneType"] == "EXT/NIGHT");
    CHECK(s["scenes"] == json{"12", "14A", "15"});
    CHECK(s["contacts"] == json{{{"name", "Anna Nowak"}, {"role", "1st AD"}, {"phone", "+48 600 100 200"}}});
    CHECK(s["safetyNotes"] == json{"Life vests required"});
    CHECK(s["source"] == "text");

    auto again = c.send("POST", "/api/schedules/import", nullptr, token, {}, sample_sheet(), "text/plain");
    CHECK(again.status == 200);
    CHECK(again.body["duplicate"] == true);
    CHECK(again.body["schedule"]["id"] == s["id"]);
    CHECK(c.get("/api/schedules", token).body["pagination"]["total"] == 1);

    auto json_text = c.post("/api/schedules/import", {{"text", sample_sheet("02.06.2030")}}, token);
    CHECK(json_text.status == 201);

    // PDF generated here, imported raw and as base64 in JSON (same bytes: a duplicate).
    std::vector<std::string> lines;
    std::istringstream in(sample_sheet("03.06.2030"));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    const std::string pdf = test::make_pdf(lines);
    auto from_pdf = c.send("POST", "/api/schedules/import", nullptr, token, {}, pdf, "application/pdf");
    REQUIRE_MESSAGE(from_pdf.status == 201, from_pdf.text);
    CHECK(from_pdf.body["schedule"]["shootingDate"] == "2030-06-03");
    CHECK(from_pdf.body["schedule"]["location"] == "Old Brewery, Warsaw");
    CHECK(from_pdf.body["schedule"]["scenes"] == json{"12", "14A", "15"});
    CHECK(from_pdf.body["schedule"]["source"] == "pdf");
    auto pdf_again = c.post("/api/schedules/import", {{"pdfBase64", common::base64_encode(pdf)}}, token);
    CHECK(pdf_again.status == 200);
    CHECK(pdf_again.body["duplicate"] == true);
    // Multipart upload as a browser form sends it.
    const std::string boundary = "----sotboundary";
    const std::string form = "--" + boundary +
                             "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"sheet.txt\"\r\n"
                             "Content-Type: text/plain\r\n\r\n" +
                             sample_sheet("04.06.2030") + "\r\n--" + boundary + "--\r\n";
    CHECK(c.send("POST", "/api/schedules/import", nullptr, token, {}, form, "multipart/form-data; boundary=" + boundary)
              .status == 201);

    // Unusable input.
    auto incomplete =
        c.send("POST", "/api/schedules/import", nullptr, token, {}, "Location: Somewhere\nScenes: 1\n", "text/plain");
    CHECK(incomplete.status == 422);
    CHECK(incomplete.body["missing"] == json{"shootingDate", "callTime"});
    CHECK(incomplete.body["message"].get<std::string>().find("shootingDate, callTime") != std::string::npos);
    CHECK(c.send("POST", "/api/schedules/import", nullptr, token, {}, "%PDF-1.4 broken", "application/pdf").status ==
          422);
    CHECK(c.send("POST", "/api/schedules/import", nullptr, token, {}, "", "text/plain").status == 400);
    CHECK(c.send("POST", "/api/schedules/import", nullptr, token, {}, "x", "image/png").status == 400);

    Client m(stack.server->metrics_port());
    const auto metrics = m.get("/metrics").text;
    CHECK(metric_value(metrics, R"(stillontime_schedules_imported_total{result="success"})") == 4);
    CHECK(metric_value(metrics, R"(stillontime_schedules_imported_total{result="duplicate"})") == 2);
    CHECK(metric_value(metrics, R"(stillontime_schedules_imported_total{result="invalid"})") == 2);

    // Deleting the schedule forgets the document: importing it again creates a new schedule.
    CHECK(c.del("/api/schedules/" + s["id"].get<std::string>(), token).status == 204);
    CHECK(c.send("POST", "/api/schedules/import", nullptr, token, {}, sample_sheet(), "text/plain").status == 201);
  }
}

TEST_SUITE("route") {
  TEST_CASE("route plans from given durations and from the directions service") {
    Stack stack("route");
    auto c = stack.client();
    const std::string token = stack.login()["accessToken"];
    auto created = c.post("/api/schedules",
                          {{"shootingDate", "2030-06-01"}, {"callTime", "05:00"}, {"location", "Old Brewery"}}, token);
    const std::string id = created.body["schedule"]["id"];
    CHECK(c.get("/api/schedules/" + id + "/route", token).status == 404);
    // No home address and no durations: the directions service cannot be asked.
    CHECK(c.post("/api/schedules/" + id + "/route/recalculate", json::object(), token).status == 422);

    auto plan = c.post("/api/schedules/" + id + "/route/recalculate",
                       {{"homeToOfficeMinutes", 40}, {"officeToLocationMinutes", 50}}, token);
    REQUIRE_MESSAGE(plan.status == 200, plan.text);
    const auto& p = plan.body["routePlan"];
    CHECK(p["arrivalTime"] == "2030-06-01T04:40:00");
    CHECK(p["departureTime"] == "2030-06-01T02:35:00");  // 4:40 - 20 traffic - 90 travel - 15 car change
    CHECK(p["wakeUpTime"] == "2030-06-01T01:50:00");
    CHECK(p["totalTravelMinutes"] == 90);

    // Across midnight with the user's own buffers.
    CHECK(c.put("/api/user/buffers", {{"morningRoutine", 90}}, token).status == 200);
    auto early = c.post("/api/schedules/" + id + "/route/recalculate", {{"travelMinutes", 120}}, token);
    CHECK(early.body["routePlan"]["wakeUpTime"] ==
          "2030-06-01T00:50:00");  // 5:00 -20 (parking+entry) -20 traffic -120 -90
    CHECK(c.get("/api/schedules/" + id + "/route", token).body["routePlan"]["wakeUpTime"] == "2030-06-01T00:50:00");
    CHECK(c.get("/api/schedules/" + id, token).body["schedule"]["routePlan"]["totalTravelMinutes"] == 120);

    // Directions service (fake): 30 min home -> office, 45 min office -> location, in traffic.
    CHECK(
        c.put("/api/user/addresses", {{"homeAddress", "Home St 1"}, {"officeAddress", "Office Ave 2"}}, token).status ==
        200);
    auto maps = c.post("/api/schedules/" + id + "/route/recalculate", json::object(), token);
    REQUIRE_MESSAGE(maps.status == 200, maps.text);
    CHECK(maps.body["routePlan"]["segments"][0]["source"] == "google_maps");
    CHECK(maps.body["routePlan"]["segments"][0]["minutes"] == 30);
    CHECK(maps.body["routePlan"]["segments"][1]["minutes"] == 45);
    CHECK(maps.body["routePlan"]["wakeUpTime"] == "2030-06-01T01:20:00");  // 5:00 -20 -20 -75 -15 -90

    auto calc = c.post(
        "/api/route/calculate",
        {{"date", "2030-01-01"}, {"callTime", "00:30"}, {"travelMinutes", 10}, {"buffers", {{"morningRoutine", 30}}}},
        token);
    CHECK(calc.body["routePlan"]["wakeUpTime"] == "2029-12-31T23:10:00");
    CHECK(c.post("/api/route/calculate", {{"date", "2030-01-01"}, {"callTime", "25:00"}, {"travelMinutes", 10}}, token)
              .status == 400);
    CHECK(c.post("/api/schedules/" + id + "/route/recalculate", {{"travelMinutes", -3}}, token).status == 400);

    Client m(stack.server->metrics_port());
    CHECK(metric_value(m.get("/metrics").text, "stillontime_route_calculations_total") == 4);

    auto summary = c.get("/api/schedules/" + id + "/summary?format=text", token);
    CHECK(summary.status == 200);
    CHECK(summary.header("content-type").rfind("text/plain", 0) == 0);
    CHECK(summary.text.find("01:20  Wake up") != std::string::npos);
    auto html = c.get("/api/schedules/" + id + "/summary?format=html", token);
    CHECK(html.text.find("<h2>Timeline</h2>") != std::string::npos);
    auto both = c.get("/api/schedules/" + id + "/summary", token);
    CHECK(both.body["summary"]["timeline"].size() == 4);
    CHECK(c.get("/api/schedules/" + id + "/summary?format=pdf", token).status == 400);
  }
}

TEST_SUITE("weather") {
  TEST_CASE("forecast through the configured base URL, cached in Redis, with warnings") {
    Stack stack("weather");
    auto c = stack.client();
    const std::string token = stack.login()["accessToken"];
    const std::string id =
        c.post("/api/schedules", {{"shootingDate", "2030-06-01"}, {"callTime", "06:30"}, {"location", "Warsaw"}}, token)
            .body["schedule"]["id"];
    auto w = c.get("/api/schedules/" + id + "/weather", token);
    REQUIRE_MESSAGE(w.status == 200, w.text);
    CHECK(w.body["available"] == true);
    CHECK(w.body["weather"]["description"] == "light rain");
    CHECK(w.body["weather"]["forecastDate"] == "2030-06-01");
    CHECK(w.body["weather"]["windSpeed"] == 11.0);
    const auto warnings = w.body["weather"]["warnings"];
    REQUIRE(warnings.size() == 3);
    CHECK(warnings[0].get<std::string>().rfind("rain:", 0) == 0);
    CHECK(warnings[1].get<std::string>().rfind("wind:", 0) == 0);
    CHECK(warnings[2].get<std::string>().rfind("heat:", 0) == 0);
    const int calls = stack.fakes.weather_calls.load();
    CHECK(c.get("/api/schedules/" + id + "/weather", token).status == 200);
    CHECK(stack.fakes.weather_calls.load() == calls);  // served from Redis
    CHECK(c.get("/api/schedules/" + id, token).body["schedule"]["weather"]["description"] == "light rain");
    auto summary = c.get("/api/schedules/" + id + "/summary", token);
    CHECK(summary.body["summary"]["warnings"].size() == 3);

    const std::string lost =
        c.post("/api/schedules", {{"shootingDate", "2030-06-01"}, {"callTime", "06:30"}, {"location", "Atlantis"}},
               token)
            .body["schedule"]["id"];
    CHECK(c.get("/api/schedules/" + lost + "/weather", token).status == 422);
    const std::string far =
        c.post("/api/schedules", {{"shootingDate", "2030-07-01"}, {"callTime", "06:30"}, {"location", "Warsaw"}}, token)
            .body["schedule"]["id"];
    CHECK(c.get("/api/schedules/" + far + "/weather", token).status == 404);
  }
  TEST_CASE("absent without a key") {
    Stack stack("weather_nokey", {{"OPENWEATHER_API_KEY", ""}});
    auto c = stack.client();
    const std::string token = stack.login()["accessToken"];
    const std::string id =
        c.post("/api/schedules", {{"shootingDate", "2030-06-01"}, {"callTime", "06:30"}, {"location", "Warsaw"}}, token)
            .body["schedule"]["id"];
    auto w = c.get("/api/schedules/" + id + "/weather", token);
    CHECK(w.status == 200);
    CHECK(w.body["available"] == false);
    CHECK(w.body["weather"].is_null());
    CHECK(stack.fakes.weather_calls.load() == 0);
  }
}

TEST_SUITE("calendar") {
  TEST_CASE("iCalendar feed with alarms, parsed by an independent parser; revocable token") {
    Stack stack("calendar");
    auto c = stack.client();
    const std::string token = stack.login()["accessToken"];
    for (int day = 1; day <= 2; ++day) {
      const std::string id = c.post("/api/schedules",
                                    {{"shootingDate", "2030-06-0" + std::to_string(day)},
                                     {"callTime", "06:30"},
                                     {"title", "Day " + std::to_string(day) + ", unit; B"},
                                     {"location", "Old Brewery, Warsaw"},
                                     {"safetyNotes", {"Life vests"}}},
                                    token)
                                 .body["schedule"]["id"];
      CHECK(c.post("/api/schedules/" + id + "/route/recalculate", {{"travelMinutes", 45}}, token).status == 200);
    }
    CHECK(c.get("/api/calendar/feed.ics").status == 401);
    CHECK(c.get("/api/calendar/feed.ics?token=guess").status == 401);
    auto created = c.post("/api/calendar/token", json::object(), token);
    REQUIRE(created.status == 201);
    const std::string path = created.body["path"];
    auto feed = c.get(path);
    REQUIRE(feed.status == 200);
    CHECK(feed.header("content-type").rfind("text/calendar", 0) == 0);
    CHECK(feed.text.find("DTSTART:20300601T063000") != std::string::npos);
    CHECK(feed.text.find("TRIGGER:-PT12H") != std::string::npos);
    CHECK(feed.text.find("SUMMARY:Shooting day: Day 1\\, unit\\; B") != std::string::npos);
    const std::string file = "feed-" + std::to_string(stack.server->port()) + ".ics";
    std::ofstream(file, std::ios::binary) << feed.text;
    const std::string cmd = std::string("/usr/bin/python3 ") + STILLONTIME_ICAL_CHECK + " " + file + " 2 6";
    CHECK_MESSAGE(std::system(cmd.c_str()) == 0, cmd);

    auto events = c.get("/api/calendar/events", token);
    REQUIRE(events.body["events"].size() == 2);
    CHECK(events.body["events"][0]["wakeUpTime"] == "2030-06-01T04:20:00");  // 6:30 -20 -20 -45 -45
    CHECK(events.body["events"][0]["alarms"].size() == 6);
    // The feed token never appears in the access log.
    CHECK(stack.server->log().find(created.body["token"].get<std::string>()) == std::string::npos);
    // Rotating or revoking the token kills the old URL.
    CHECK(c.post("/api/calendar/token", json::object(), token).status == 201);
    CHECK(c.get(path).status == 401);
    CHECK(c.del("/api/calendar/token", token).status == 204);
    CHECK(c.get("/api/system/status", token).body["features"]["weather"] == true);
  }
}

TEST_SUITE("ratelimit") {
  TEST_CASE("100 requests per window per client by default; configurable") {
    Stack stack("ratelimit", {{"RATE_LIMIT_MAX", "5"}, {"RATE_LIMIT_WINDOW_SECONDS", "900"}});
    auto c = stack.client();
    for (int i = 0; i < 5; ++i) {
      auto r = c.get("/api/auth/status");
      CHECK(r.status == 200);
      CHECK(r.header("ratelimit-limit") == "5");
      CHECK(r.header("ratelimit-remaining") == std::to_string(4 - i));
    }
    auto limited = c.get("/api/auth/status");
    CHECK(limited.status == 429);
    CHECK(limited.body["error"] == "too_many_requests");
    CHECK_FALSE(limited.header("retry-after").empty());
    // Probes are not API calls and are never limited.
    CHECK(c.get("/health").status == 200);
    CHECK(c.get("/ready").status == 200);
    // A different client (through a trusted proxy header it is not: TRUST_PROXY is off) is still limited.
    CHECK(c.send("GET", "/api/auth/status", nullptr, "", {{"x-forwarded-for", "10.9.9.9"}}).status == 429);
  }
}

TEST_SUITE("readiness") {
  TEST_CASE("readiness follows PostgreSQL; API answers 503 JSON; recovers without restart") {
    Stack stack("readiness");
    auto c = stack.client();
    const std::string token = stack.login()["accessToken"];
    CHECK(c.get("/api/schedules", token).status == 200);
    const std::string script = std::string(STILLONTIME_SERVICES_SCRIPT);
    const std::string dir = stack.services.at("STILLONTIME_SERVICES_DIR");
    REQUIRE(std::system((script + " stop-postgres --dir " + dir + " 2>/dev/null").c_str()) == 0);
    const bool flipped = stack.server->wait_for("/ready", 503, 10000ms);
    auto api =
        c.post("/api/schedules", {{"shootingDate", "2030-06-01"}, {"callTime", "06:30"}, {"location", "x"}}, token);
    auto health = c.get("/health");
    REQUIRE(std::system((script + " start-postgres --dir " + dir + " 2>/dev/null").c_str()) == 0);
    CHECK(flipped);
    CHECK(api.status == 503);
    CHECK(api.body["error"] == "service_unavailable");
    CHECK(health.status == 503);
    CHECK(health.body["status"] == "unhealthy");
    CHECK(c.get("/health/live").status == 200);
    CHECK(stack.server->wait_ready(20000ms));
    auto after =
        c.post("/api/schedules", {{"shootingDate", "2030-06-01"}, {"callTime", "06:30"}, {"location", "x"}}, token);
    CHECK(after.status == 201);
  }
}

TEST_SUITE("shutdown") {
  TEST_CASE("SIGTERM drains an in-flight request and exits 0") {
    Stack stack("shutdown");
    auto c = stack.client();
    const std::string token = stack.login()["accessToken"];
    const std::string id =
        c.post("/api/schedules", {{"shootingDate", "2030-06-01"}, {"callTime", "06:30"}, {"location", "Slow Lane"}},
               token)
            .body["schedule"]["id"];
    Reply slow;
    const auto start = std::chrono::steady_clock::now();
    std::thread inflight([&] { slow = stack.client().get("/api/schedules/" + id + "/weather", token); });
    std::this_thread::sleep_for(400ms);
    const int code = stack.server->terminate(30000ms);
    inflight.join();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(code == 0);
    CHECK(slow.status == 200);
    CHECK(slow.body["weather"]["description"] == "light rain");
    CHECK(elapsed >= 1.9);
    const auto log = stack.server->log();
    CHECK(log.find("\"msg\":\"shutdown requested\"") != std::string::npos);
    CHECK(log.find("\"drained\":true") != std::string::npos);
    // Nothing listens any more.
    CHECK(raw_http(stack.server->port(), "GET /health HTTP/1.1\r\nHost: x\r\n\r\n", 500ms).empty());
  }
}

TEST_SUITE("migrations") {
  TEST_CASE("from empty, idempotent re-run") {
    auto services = services_env();
    const std::string url = fresh_database(services, "mig");
    auto pool = db::make_pg_pool(db::PoolOptions{url, 2}, nullptr);
    auto version = db::applied_version(*pool);
    REQUIRE(version.ok());
    CHECK(*version == 0);
    auto first = db::migrate(*pool, db::embedded_migrations());
    REQUIRE_MESSAGE(first.ok(), (first.ok() ? "" : first.error().message));
    CHECK(first->applied.size() == db::embedded_migrations().size());
    CHECK(first->current == db::latest_version(db::embedded_migrations()));
    auto second = db::migrate(*pool, db::embedded_migrations());
    REQUIRE(second.ok());
    CHECK(second->applied.empty());
    // A migration edited after it was applied stops everything.
    auto changed = db::embedded_migrations();
    changed[0].sql += "\n-- edited";
    auto refused = db::migrate(*pool, changed);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message.find("was changed after it was applied") != std::string::npos);
  }
  TEST_CASE("three servers starting at once migrate exactly once") {
    auto services = services_env();
    const std::string url = fresh_database(services, "mig3");
    std::map<std::string, std::string> env = {{"DATABASE_URL", url},
                                              {"REDIS_URL", services.at("REDIS_URL")},
                                              {"REDIS_PASSWORD", services.at("REDIS_PASSWORD")},
                                              {"JWT_SECRET", kJwtSecret},
                                              {"HEALTH_INTERVAL_MS", "200"}};
    std::vector<std::unique_ptr<ServerProcess>> servers;
    for (int i = 0; i < 3; ++i) servers.push_back(std::make_unique<ServerProcess>(env, "mig3-" + std::to_string(i)));
    int applied = 0;
    for (auto& s : servers) {
      CHECK_MESSAGE(s->wait_ready(20000ms), s->log());
      const auto log = s->log();
      for (auto p = log.find("\"msg\":\"migration applied\""); p != std::string::npos;
           p = log.find("\"msg\":\"migration applied\"", p + 1))
        ++applied;
    }
    CHECK(applied == static_cast<int>(db::embedded_migrations().size()));
    auto pool = db::make_pg_pool(db::PoolOptions{url, 1}, nullptr);
    auto rows = pool->exec("SELECT count(*) AS n FROM schema_migrations");
    REQUIRE(rows.ok());
    CHECK(rows->get(0, "n") == std::to_string(db::embedded_migrations().size()));
    for (auto& s : servers) CHECK(s->terminate() == 0);
  }
}

// What a browser client relies on: instants as RFC 3339 UTC, one error envelope whatever failed,
// CORS answered for FRONTEND_URL only, and the dashboard's one-call list of upcoming days.
TEST_SUITE("client") {
  TEST_CASE("RFC 3339 timestamps, one error envelope, CORS for FRONTEND_URL only, upcoming carries the plan") {
    Stack stack("client");
    auto c = stack.client();
    const std::string token = stack.login()["accessToken"];
    auto rfc3339 = [](const json& v) {
      if (!v.is_string()) return false;
      const std::string s = v;
      // YYYY-MM-DDTHH:MM:SS[.fraction]Z
      if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
          s.back() != 'Z')
        return false;
      for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}) {
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
      }
      return s.size() == 20 || (s[19] == '.' && s.size() > 21);
    };

    auto profile = c.get("/api/user/profile", token);
    REQUIRE(profile.status == 200);
    CHECK_MESSAGE(rfc3339(profile.body["user"]["createdAt"]), profile.body["user"]["createdAt"].dump());
    CHECK_MESSAGE(rfc3339(profile.body["user"]["lastLoginAt"]), profile.body["user"]["lastLoginAt"].dump());
    auto config = c.get("/api/user/config", token);
    CHECK_MESSAGE(rfc3339(config.body["config"]["updatedAt"]), config.body["config"]["updatedAt"].dump());
    const auto created = c.post("/api/schedules",
                                {{"shootingDate", "2030-06-01"}, {"callTime", "06:30"}, {"location", "Warsaw"}}, token);
    REQUIRE(created.status == 201);
    const std::string id = created.body["schedule"]["id"];
    CHECK(rfc3339(created.body["schedule"]["createdAt"]));
    CHECK(rfc3339(created.body["schedule"]["updatedAt"]));
    auto plan = c.post("/api/schedules/" + id + "/route/recalculate",
                       {{"homeToOfficeMinutes", 20}, {"officeToLocationMinutes", 35}}, token);
    REQUIRE(plan.status == 200);
    CHECK(rfc3339(plan.body["routePlan"]["calculatedAt"]));
    REQUIRE(c.get("/api/schedules/" + id + "/weather", token).status == 200);
    auto day = c.get("/api/schedules/" + id, token);
    CHECK(rfc3339(day.body["schedule"]["weather"]["fetchedAt"]));

    // The dashboard's list: wake-up, departure and weather warnings in one call, fresh after the
    // weather fetch (which invalidates the cached list).
    auto upcoming = c.get("/api/schedules/upcoming", token);
    REQUIRE(upcoming.body["schedules"].size() == 1);
    const auto& first = upcoming.body["schedules"][0];
    CHECK(first["wakeUpTime"] == plan.body["routePlan"]["wakeUpTime"]);
    CHECK(first["departureTime"] == plan.body["routePlan"]["departureTime"]);
    REQUIRE(first["weatherWarnings"].is_array());
    CHECK(first["weatherWarnings"].size() == 3);

    // One envelope: {error, message, requestId} with requestId equal to the x-request-id header.
    std::vector<std::pair<std::string, Reply>> errors;
    errors.emplace_back("401 no token", c.get("/api/schedules"));
    errors.emplace_back("401 bad token", c.get("/api/schedules", "not-a-token"));
    errors.emplace_back("404 route", c.get("/api/nothing"));
    errors.emplace_back("404 schedule", c.get("/api/schedules/00000000-0000-0000-0000-000000000000", token));
    errors.emplace_back("405", c.send("PATCH", "/api/schedules", nullptr, token));
    errors.emplace_back("400 json", c.send("POST", "/api/auth/refresh", nullptr, "", {}, "{", "application/json"));
    errors.emplace_back("400 field", c.send("PUT", "/api/user/buffers", {{"parking", -1}}, token));
    errors.emplace_back(
        "422 import", c.send("POST", "/api/schedules/import", nullptr, token, {}, "nothing useful here", "text/plain"));
    errors.emplace_back("403 preflight",
                        c.send("OPTIONS", "/api/schedules", nullptr, "", {{"origin", "https://evil.example"}}));
    errors.emplace_back("404 metrics port", Client(stack.server->metrics_port()).get("/other"));
    // Even a request the HTTP parser refuses (it never reaches the application).
    const std::string garbled = raw_http(stack.server->port(), "NOT AN HTTP REQUEST\r\n\r\n");
    CHECK(garbled.rfind("HTTP/1.1 400", 0) == 0);
    const auto body_at = garbled.find("\r\n\r\n");
    REQUIRE(body_at != std::string::npos);
    const auto garbled_body = json::parse(garbled.substr(body_at + 4), nullptr, false);
    REQUIRE(garbled_body.is_object());
    CHECK(garbled_body["error"] == "bad_request");
    REQUIRE(garbled_body["requestId"].is_string());
    CHECK(garbled.find("x-request-id: " + garbled_body["requestId"].get<std::string>()) != std::string::npos);
    for (const auto& [what, r] : errors) {
      INFO(what << ": " << r.text);
      CHECK(r.status >= 400);
      CHECK(r.header("content-type").rfind("application/json", 0) == 0);
      REQUIRE(r.body.is_object());
      CHECK(r.body["error"].is_string());
      CHECK(r.body["message"].is_string());
      CHECK(r.body["requestId"].is_string());
      CHECK(r.body["requestId"] == r.header("x-request-id"));
    }

    // CORS: the configured origin gets an answer (simple and preflight), any other origin none.
    auto allowed = c.send("GET", "/api/auth/status", nullptr, "", {{"origin", kFrontend}});
    CHECK(allowed.header("access-control-allow-origin") == kFrontend);
    CHECK(allowed.header("vary").find("Origin") != std::string::npos);
    auto allowed_error = c.send("GET", "/api/schedules", nullptr, "", {{"origin", kFrontend}});
    CHECK(allowed_error.status == 401);
    CHECK(allowed_error.header("access-control-allow-origin") == kFrontend);  // the browser may read the error
    auto preflight = c.send("OPTIONS", "/api/user/buffers", nullptr, "",
                            {{"origin", kFrontend},
                             {"access-control-request-method", "PUT"},
                             {"access-control-request-headers", "authorization, content-type"}});
    CHECK(preflight.status == 204);
    CHECK(preflight.header("access-control-allow-origin") == kFrontend);
    CHECK(preflight.header("access-control-allow-methods").find("PUT") != std::string::npos);
    CHECK(preflight.header("access-control-allow-methods").find("DELETE") != std::string::npos);
    CHECK(preflight.header("access-control-allow-headers").find("Content-Type") != std::string::npos);
    for (const std::string& origin : std::vector<std::string>{"https://evil.example", kFrontend + ".evil.example",
                                                              "http://frontend.test", "null"}) {
      INFO(origin);
      auto other = c.send("GET", "/api/auth/status", nullptr, "", {{"origin", origin}});
      CHECK(other.status == 200);
      CHECK(other.header("access-control-allow-origin").empty());
      CHECK(other.header("access-control-allow-credentials").empty());
      auto other_preflight = c.send("OPTIONS", "/api/schedules", nullptr, "",
                                    {{"origin", origin}, {"access-control-request-method", "GET"}});
      CHECK(other_preflight.status == 403);
      CHECK(other_preflight.header("access-control-allow-origin").empty());
    }
  }
}
