#include <doctest/doctest.h>

#include "stillontime/status.h"

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
              {"conditions", {{{"type", "BackupHealthy"}, {"status", "True"}, {"reason", "Ok"}, {"message", ""},
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
  while (huge.size() < 100000) huge += "\xe2\x82\xac";   // a three-byte character
  in.reconciling = {true, "ApplyFailed", huge};
  json s = build_status(json::object(), in, "2026-01-01T00:00:00Z");
  const std::string message = (*find(s, "Reconciling"))["message"];
  CHECK(message.size() <= kMaxConditionMessageBytes);
  CHECK(message.size() > kMaxConditionMessageBytes - 8);
  CHECK(message.ends_with("..."));
  CHECK_NOTHROW((void)s.dump());
}
