#include "kube/watch.h"

namespace sot::kube {

std::string_view event_type_name(EventType type) {
  switch (type) {
    case EventType::kAdded:
      return "ADDED";
    case EventType::kModified:
      return "MODIFIED";
    case EventType::kDeleted:
      return "DELETED";
    case EventType::kBookmark:
      return "BOOKMARK";
    case EventType::kError:
      return "ERROR";
  }
  return "UNKNOWN";
}

Result<WatchEvent> parse_watch_event(std::string_view line) {
  auto parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object() || !parsed.contains("type") || !parsed["type"].is_string() || !parsed.contains("object") ||
      !parsed["object"].is_object()) {
    return make_error(Code::kInternal, "malformed watch event: " + std::string(line.substr(0, 200)));
  }
  const std::string& type = parsed["type"].get_ref<const std::string&>();
  WatchEvent ev;
  if (type == "ADDED") {
    ev.type = EventType::kAdded;
  } else if (type == "MODIFIED") {
    ev.type = EventType::kModified;
  } else if (type == "DELETED") {
    ev.type = EventType::kDeleted;
  } else if (type == "BOOKMARK") {
    ev.type = EventType::kBookmark;
  } else if (type == "ERROR") {
    ev.type = EventType::kError;
  } else {
    return make_error(Code::kInternal, "unknown watch event type " + type);
  }
  ev.object = std::move(parsed["object"]);
  return ev;
}

Result<std::vector<WatchEvent>> WatchDecoder::feed(std::string_view chunk) {
  std::vector<WatchEvent> events;
  buffer_.append(chunk);
  std::size_t start = 0;
  for (;;) {
    const std::size_t nl = buffer_.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view line(buffer_.data() + start, nl - start);
    start = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    auto ev = parse_watch_event(line);
    if (!ev.ok()) return ev.error();
    events.push_back(std::move(ev).value());
  }
  buffer_.erase(0, start);
  return events;
}

}  // namespace sot::kube
