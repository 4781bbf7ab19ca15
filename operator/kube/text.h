// Small text helpers shared by the layers above. Cutting text to a byte limit
// without splitting a UTF-8 character. The API
// server (and nlohmann::json's dump(), which throws) refuse a string cut inside
// a multi-byte sequence, so an Event message or a condition message that was
// cut blindly at byte 1,021 could take the writing thread down with it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sot::kube {

// `text` when it fits in `max_bytes`; otherwise its longest prefix that ends
// on a character boundary and leaves room for `ellipsis`, then `ellipsis`.
inline std::string truncate_utf8(std::string_view text, std::size_t max_bytes, std::string_view ellipsis = "...") {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t cut = max_bytes > ellipsis.size() ? max_bytes - ellipsis.size() : 0;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // a continuation byte
  std::string out(text.substr(0, cut));
  out += ellipsis;
  return out;
}

// The last at most `max_bytes` of `text`, starting on a character boundary.
inline std::string tail_utf8(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t start = text.size() - max_bytes;
  while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) ++start;
  return std::string(text.substr(start));
}

// The pieces of `text` between each `sep`: "a,,b" gives "a", "", "b"; "" gives
// one empty piece. The views point into `text`.
inline std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const auto pos = text.find(sep, start);
    out.push_back(text.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

}  // namespace sot::kube
