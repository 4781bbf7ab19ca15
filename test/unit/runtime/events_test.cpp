// The event recorder: Event shape and aggregation of repeats.
#include <doctest/doctest.h>

#include "runtime/event_recorder.h"
#include "unit/runtime/fakes.h"

using namespace sot;
using namespace sot::runtime;
using sot::test::FakeClock;
using sot::test::FakeKubeClient;

namespace {

Json cr() {
  return {{"apiVersion", "stillontime.app/v1alpha1"},
          {"kind", "StillOnTime"},
          {"metadata", {{"name", "prod"}, {"namespace", "crs"}, {"uid", "u-1"}, {"resourceVersion", "7"}}}};
}

EventRecorderOptions sync_options() {
  EventRecorderOptions o;
  o.component = "test-operator";
  o.instance = "op-1";
  o.synchronous = true;
  return o;
}

}  // namespace

TEST_CASE("an event is a core/v1 Event on the object, from our component") {
  FakeClock clock;
  FakeKubeClient api;
  EventRecorder rec(api, clock, sync_options());
  rec.warning(cr(), "InvalidSpec", "spec.version is required");
  REQUIRE(api.count("create", "events") == 1);
  const Json ev = api.calls().back().body;
  CHECK(ev["metadata"]["namespace"] == "crs");
  CHECK(ev["metadata"]["name"].get<std::string>().rfind("prod.", 0) == 0);
  CHECK(ev["involvedObject"]["kind"] == "StillOnTime");
  CHECK(ev["involvedObject"]["uid"] == "u-1");
  CHECK(ev["type"] == "Warning");
  CHECK(ev["reason"] == "InvalidSpec");
  CHECK(ev["count"] == 1);
  CHECK(ev["source"]["component"] == "test-operator");
  CHECK(ev["reportingInstance"] == "op-1");
}

// The message was cut at byte 1,021 whatever was there; cut inside a
// multi-byte character it made the Event body invalid UTF-8, which
// nlohmann::json's dump() throws on, in the recorder's own thread.
TEST_CASE("a long message is cut to 1 KiB on a character boundary") {
  FakeClock clock;
  FakeKubeClient api;
  EventRecorder rec(api, clock, sync_options());
  for (std::size_t lead : {0, 1, 2}) {
    CAPTURE(lead);
    std::string message(lead, 'x');
    while (message.size() < 3000) message += "\xc3\xa9";  // two bytes each
    rec.warning(cr(), "InvalidSpec", message + std::to_string(lead));
    const Json ev = api.calls().back().body;
    const std::string sent = ev["message"];
    CHECK(sent.size() <= 1024);
    CHECK(sent.ends_with("..."));
    CHECK_NOTHROW((void)ev.dump());
  }
}

TEST_CASE("a repeated identical event bumps count and lastTimestamp instead of creating objects") {
  FakeClock clock;
  FakeKubeClient api;
  EventRecorder rec(api, clock, sync_options());
  for (int i = 0; i < 5; ++i) {
    rec.warning(cr(), "ApplyFailed", "quota exceeded");
    clock.advance(std::chrono::seconds(30));
  }
  rec.warning(cr(), "ApplyFailed", "something else");  // a different message is a new event
  CHECK(api.count("create", "events") == 2);
  CHECK(api.count("patch", "events") == 4);
  auto calls = api.calls();
  Json last_patch;
  for (const auto& c : calls) {
    if (c.verb == "patch") last_patch = c.body;
  }
  CHECK(last_patch["count"] == 5);
  CHECK(last_patch.contains("lastTimestamp"));
  CHECK(rec.written() == 6);
}

TEST_CASE("an aggregated event that expired is created again") {
  FakeClock clock;
  FakeKubeClient api;
  EventRecorder rec(api, clock, sync_options());
  rec.normal(cr(), "Created", "created backend");
  const auto first = api.calls().back().body;
  api.erase(kube::resources::events(), {"crs", first["metadata"]["name"]});
  rec.normal(cr(), "Created", "created backend");
  CHECK(api.count("create", "events") == 2);
}

TEST_CASE("the asynchronous recorder writes in the background and flushes") {
  FakeClock clock;
  FakeKubeClient api;
  EventRecorderOptions o;
  EventRecorder rec(api, clock, o);
  for (int i = 0; i < 3; ++i) rec.normal(cr(), "Synced", "all good");
  rec.flush();
  CHECK(api.count("create", "events") == 1);
  CHECK(api.count("patch", "events") == 2);
  rec.shutdown();
}
