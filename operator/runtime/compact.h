// Deflate for the informer cache's packed objects. A cached child is a few
// kilobytes of MessagePack in which most bytes are field names and values every
// Kubernetes object repeats ("terminationMessagePath", the recommended labels,
// the restricted securityContext) and the program's own vocabulary. Deflate with a preset dictionary of those
// strings takes an object to about a quarter of its MessagePack size, so the
// cache of a hundred resources (2,600 objects) costs a few megabytes instead of
// ten. Reconcilers read a handful of objects per pass; inflating one costs
// microseconds.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace sot::runtime {

// Adds the program's own words to the dictionary: its API group and kind, label
// and annotation keys and values its objects repeat. Call once at start-up,
// before anything is packed: bytes packed under one dictionary cannot be
// unpacked under another.
void set_compression_vocabulary(std::string_view words);

// Compresses `data` (never fails for in-memory input).
std::vector<std::uint8_t> deflate_bytes(std::span<const std::uint8_t> data);
// Reverses deflate_bytes. Throws std::runtime_error on input it did not make,
// as nlohmann's from_msgpack does on a corrupt document.
std::vector<std::uint8_t> inflate_bytes(std::span<const std::uint8_t> data);

}  // namespace sot::runtime
