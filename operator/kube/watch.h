// Watch events as the API server streams them: one JSON object per line, which
// may arrive split across any number of network chunks. The decoder buffers
// partial lines and yields whole events as soon as their newline arrives.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/result.h"

namespace sot::kube {

enum class EventType { kAdded, kModified, kDeleted, kBookmark, kError };

std::string_view event_type_name(EventType type);

struct WatchEvent {
  EventType type = EventType::kAdded;
  nlohmann::json object;  // the object, or a metav1.Status for kError
};

// What a watch ended with when it ended without an error: the server closed the
// stream (its timeout), or the caller stopped it.
enum class WatchEnd { kServerClosed, kStoppedByHandler, kCancelled };

// Returns false to stop the watch.
using WatchHandler = std::function<bool(WatchEvent&&)>;

class WatchDecoder {
 public:
  // Feeds one chunk; returns every event completed by it. A line that is not a
  // valid watch event yields an Error (the stream is then unusable).
  Result<std::vector<WatchEvent>> feed(std::string_view chunk);
  // Bytes held for an incomplete line.
  std::size_t pending() const { return buffer_.size(); }

 private:
  std::string buffer_;
};

Result<WatchEvent> parse_watch_event(std::string_view line);

}  // namespace sot::kube
