#include "stillontime/status.h"

#include <doctest/doctest.h>

using namespace sot::stillontime;
using nlohmann::json;

namespace {
StatusInput progressing() {
  StatusInput in;
  in.generation = 2;
  in.phase = "Progressing";
  in.version = "1.4.2";
  in.target_namespace = "ns";
  in.components["backend"] = {3, 1, "img:1.4.2"};
  in.ready = {false, "ComponentsNotReady", "backend 1/3 ready"};
  in.reconciling = {true, "WaitingForComponents", "backend 1/3 ready"};
  in.stalled = {false, "NotStalled", ""};
  return in;
}
const json* find(const json& status, const std::string& type) {
  for (const auto& c : status["conditions"]) {
    if (c["type"] == type) return &c;
  }
  return nullptr;
}
}  // namespace

TEST_CASE("conditions carry metav1.Condition fields, all strings set") {
  json s = build_status(json::object(), progressing(), "2026-01-01T00:00:00Z");
  CHECK(s["phase"] == "Progressing");
  CHECK(s["observedGeneration"] == 2);
  CHECK(s["components"]["backend"]["ready"] == 1);
  REQUIRE(s["conditions"].size() == 3);
  for (const auto& c : s["conditions"]) {
    for (const char* f : {"type", "status", "reason", "message", "lastTransitionTime"}) {
      CAPTURE(f);
      CHECK(c[f].is_string());
    }
    CHECK(c["observedGeneration"] == 2);
  }
  CHECK((*find(s, "Stalled"))["status"] == "False");
  CHECK((*find(s, "Reconciling"))["status"] == "True");
}

TEST_CASE("lastTransitionTime moves only when a condition's status changes") {
  json first = build_status(json::object(), progressing(), "2026-01-01T00:00:00Z");
  StatusInput again = progressing();
  again.ready.message = "backend 2/3 ready";
  json second = build_status(first, again, "2026-01-01T00:05:00Z");
  CHECK((*find(second, "Ready"))["lastTransitionTime"] == "2026-01-01T00:00:00Z");
  CHECK((*find(second, "Ready"))["message"] == "backend 2/3 ready");
  StatusInput ready = progressing();
  ready.ready = {true, "AllComponentsReady", "all ready"};
  json third = build_status(second, ready, "2026-01-01T00:10:00Z");
  CHECK((*find(third, "Ready"))["lastTransitionTime"] == "2026-01-01T00:10:00Z");
  CHECK((*find(third, "Reconciling"))["lastTransitionTime"] == "2026-01-01T00:00:00Z");
  // Same input, same status: nothing to write.
  CHECK(build_status(third, ready, "2026-01-01T00:20:00Z") == third);
}

TEST_CASE("conditions and fields owned by others are kept") {
  json old = {{"backup", {{"lastBackup", "x.dump"}}},
              {"conditions",
               {{{"type", "BackupHealthy"},
                 {"status", "True"},
                 {"reason", "Ok"},
                 {"message", ""},
                 {"lastTransitionTime", "2026-01-01T00:00:00Z"}}}}};
  json s = build_status(old, progressing(), "2026-01-02T00:00:00Z");
  CHECK(s["backup"]["lastBackup"] == "x.dump");
  REQUIRE(find(s, "BackupHealthy") != nullptr);
  CHECK(s["conditions"].size() == 4);
}

TEST_CASE("readiness summarises the components") {
  CHECK_FALSE(readiness_of({}).all_ready);
  auto r = readiness_of({{"backend", {3, 3, ""}}, {"postgres", {1, 0, ""}}});
  CHECK_FALSE(r.all_ready);
  CHECK(r.message == "postgres 0/1 ready");
  auto ok = readiness_of({{"backend", {3, 3, ""}}, {"postgres", {1, 1, ""}}});
  CHECK(ok.all_ready);
  CHECK(ok.message == "all 2 components ready");
  CHECK(rfc3339(0) == "1970-01-01T00:00:00Z");
}

TEST_CASE("a condition message is cut to what the CRD stores, on a character boundary") {
  StatusInput in = progressing();
  std::string huge = "apply failed: ";
  while (huge.size() < 100000) huge += "\xe2\x82\xac";  // a three-byte character
  in.reconciling = {true, "ApplyFailed", huge};
  json s = build_status(json::object(), in, "2026-01-01T00:00:00Z");
  const std::string message = (*find(s, "Reconciling"))["message"];
  CHECK(message.size() <= kMaxConditionMessageBytes);
  CHECK(message.size() > kMaxConditionMessageBytes - 8);
  CHECK(message.ends_with("..."));
  CHECK_NOTHROW((void)s.dump());
}

TEST_CASE("versionHistory: a new version is prepended, the old one gets left, becameReady is set once") {
  json h = update_version_history(json::array(), "1.0.0", false, "2026-01-01T00:00:00Z");
  REQUIRE(h.size() == 1);
  CHECK(h[0] == json{{"version", "1.0.0"}, {"firstApplied", "2026-01-01T00:00:00Z"}});
  h = update_version_history(h, "1.0.0", true, "2026-01-01T00:01:00Z");
  CHECK(h[0]["becameReady"] == "2026-01-01T00:01:00Z");
  // Ready again later: the first time stays.
  h = update_version_history(h, "1.0.0", true, "2026-01-01T00:09:00Z");
  CHECK(h[0]["becameReady"] == "2026-01-01T00:01:00Z");
  h = update_version_history(h, "1.1.0", false, "2026-01-02T00:00:00Z");
  REQUIRE(h.size() == 2);
  CHECK(h[0]["version"] == "1.1.0");
  CHECK_FALSE(h[0].contains("becameReady"));
  CHECK_FALSE(h[0].contains("left"));
  CHECK(h[1]["left"] == "2026-01-02T00:00:00Z");
  // Going back to an earlier version is a new entry, not a rewrite of the old one.
  h = update_version_history(h, "1.0.0", false, "2026-01-03T00:00:00Z");
  REQUIRE(h.size() == 3);
  CHECK(h[0]["version"] == "1.0.0");
  CHECK(h[1]["left"] == "2026-01-03T00:00:00Z");
  CHECK(h[2]["left"] == "2026-01-02T00:00:00Z");
}

TEST_CASE("versionHistory is bounded and drops entries it cannot read") {
  json h = json::array({json("garbage"), json{{"version", 7}}, json{{"version", "0.9.0"}, {"firstApplied", "x"}}});
  h = update_version_history(h, "0.9.0", false, "2026-01-01T00:00:00Z");
  REQUIRE(h.size() == 1);
  CHECK(h[0]["firstApplied"] == "x");
  for (int i = 0; i < 15; ++i)
    h = update_version_history(h, "1." + std::to_string(i) + ".0", true, "t" + std::to_string(i));
  CHECK(h.size() == kVersionHistoryLimit);
  CHECK(h[0]["version"] == "1.14.0");
  CHECK(h[9]["version"] == "1.5.0");
  CHECK(update_version_history(json("not an array"), "2.0.0", false, "t").size() == 1);
}

TEST_CASE("build_status moves versionHistory only on a pass that applied the version, Ready only with phase Ready") {
  StatusInput in = progressing();
  json s = build_status(json::object(), in, "2026-01-01T00:00:00Z");
  CHECK_FALSE(s.contains("versionHistory"));  // stalled or paused: not applied
  in.version_applied = true;
  // Ready condition True while the pass still writes (phase Progressing): not yet Ready.
  in.ready = {true, "AllComponentsReady", "all ready"};
  s = build_status(s, in, "2026-01-01T00:01:00Z");
  REQUIRE(s["versionHistory"].size() == 1);
  CHECK_FALSE(s["versionHistory"][0].contains("becameReady"));
  in.phase = "Ready";
  s = build_status(s, in, "2026-01-01T00:02:00Z");
  CHECK(s["versionHistory"][0]["becameReady"] == "2026-01-01T00:02:00Z");
  CHECK(s["versionHistory"][0]["firstApplied"] == "2026-01-01T00:01:00Z");
  // An unchanged pass changes nothing (no status write).
  CHECK(build_status(s, in, "2026-01-01T00:03:00Z") == s);
  // A pass that does not apply keeps the history as it is.
  in.version_applied = false;
  in.version = "9.9.9";
  CHECK(build_status(s, in, "2026-01-01T00:04:00Z")["versionHistory"] == s["versionHistory"]);
}
