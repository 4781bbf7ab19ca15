#include "kube/watch.h"

#include <doctest/doctest.h>

using namespace sot::kube;

namespace {
const std::string kAdded = R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"5"}}})";
const std::string kBookmark = R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}})";
const std::string kError =
    R"j({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version: 1 (50)"}})j";
}  // namespace

TEST_CASE("events split across every possible chunk boundary decode the same") {
  const std::string stream = kAdded + "\n" + kBookmark + "\n" + kError + "\n";
  for (std::size_t cut1 = 0; cut1 <= stream.size(); cut1 += 7) {
    for (std::size_t cut2 = cut1; cut2 <= stream.size(); cut2 += 13) {
      WatchDecoder d;
      std::vector<WatchEvent> all;
      for (auto piece : {stream.substr(0, cut1), stream.substr(cut1, cut2 - cut1), stream.substr(cut2)}) {
        auto r = d.feed(piece);
        REQUIRE(r.ok());
        for (auto& e : *r) all.push_back(std::move(e));
      }
      REQUIRE(all.size() == 3);
      CHECK(all[0].type == EventType::kAdded);
      CHECK(all[0].object["metadata"]["name"] == "a");
      CHECK(all[1].type == EventType::kBookmark);
      CHECK(all[2].type == EventType::kError);
      CHECK(all[2].object["code"] == 410);
      CHECK(d.pending() == 0);
    }
  }
}

TEST_CASE("an event is yielded as soon as its newline arrives, byte by byte") {
  WatchDecoder d;
  const std::string line = kAdded + "\n";
  for (std::size_t i = 0; i + 1 < line.size(); ++i) {
    auto r = d.feed(line.substr(i, 1));
    REQUIRE(r.ok());
    CHECK(r->empty());
  }
  auto r = d.feed("\n");
  REQUIRE(r.ok());
  CHECK(r->size() == 1);
}

TEST_CASE("CRLF and blank lines are tolerated; garbage is an error") {
  WatchDecoder d;
  auto r = d.feed("\r\n" + kAdded + "\r\n\n");
  REQUIRE(r.ok());
  CHECK(r->size() == 1);
  auto bad = d.feed("{not json}\n");
  CHECK_FALSE(bad.ok());
  CHECK(parse_watch_event(R"({"type":"WHAT","object":{}})").code() == Code::kInternal);
  CHECK(parse_watch_event(R"({"type":"ADDED"})").code() == Code::kInternal);
}
