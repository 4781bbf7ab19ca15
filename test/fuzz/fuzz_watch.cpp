// The watch stream decoder (operator/kube/watch): the API server's bytes, cut
// into network chunks anywhere. Feeding the stream whole and in pieces must
// give the same events (or fail alike), and nothing may crash on any line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "kube/errors.h"
#include "kube/watch.h"

using namespace sot::kube;

namespace {
void check(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte chooses where the chunks are cut; the rest is the stream.
  unsigned cut = data[0];
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

  WatchDecoder whole;
  auto all = whole.feed(stream);
  if (all.ok()) {
    for (const auto& ev : *all) {
      (void)event_type_name(ev.type);
      // What the client makes of an ERROR event (a metav1.Status).
      if (ev.type == EventType::kError) (void)error_from_status_object(ev.object).to_string();
    }
  }

  WatchDecoder pieces;
  std::vector<WatchEvent> events;
  bool failed = false;
  for (std::size_t pos = 0; pos < stream.size();) {
    const std::size_t n = 1 + cut % 67;
    cut = cut * 33 + 7;
    auto r = pieces.feed(stream.substr(pos, n));
    pos += n;
    if (!r.ok()) {
      failed = true;
      break;
    }
    for (auto& ev : *r) events.push_back(std::move(ev));
  }
  check(all.ok() == !failed);
  if (all.ok()) {
    check(events.size() == all->size());
    for (std::size_t i = 0; i < events.size(); ++i) {
      check(events[i].type == (*all)[i].type);
      check(events[i].object == (*all)[i].object);
    }
    check(pieces.pending() == whole.pending());
  }
  return 0;
}
