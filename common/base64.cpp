// Why: see base64.h. One encoder and one decoder; the flavours differ only in the
// alphabet and in what the decoder forgives, so those are parameters, not copies.
#include "common/base64.h"

namespace sot::common {
namespace {

constexpr char kStandard[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrlSafe[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode(std::string_view data, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  auto byte = [&data](std::size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(data[i])); };
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    out.push_back(alphabet[v & 63]);
  }
  const std::size_t rest = data.size() - i;
  if (rest == 0) return out;
  const unsigned v = (byte(i) << 16) | (rest == 2 ? byte(i + 1) << 8 : 0);
  out.push_back(alphabet[(v >> 18) & 63]);
  out.push_back(alphabet[(v >> 12) & 63]);
  if (rest == 2) out.push_back(alphabet[(v >> 6) & 63]);
  if (pad) out.append(3 - rest, '=');
  return out;
}

enum class Alphabet { kStandard, kUrlSafe, kEither };

struct Rules {
  Alphabet alphabet = Alphabet::kStandard;
  bool padding = false;     // trailing '=' allowed (and nothing but '=' or whitespace after it)
  bool whitespace = false;  // ' ', '\t', '\r', '\n' skipped anywhere
  bool canonical = true;    // unused low bits of the last character must be zero
};

int sextet(char c, Alphabet alphabet) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  const bool standard = alphabet != Alphabet::kUrlSafe;
  const bool url = alphabet != Alphabet::kStandard;
  if ((standard && c == '+') || (url && c == '-')) return 62;
  if ((standard && c == '/') || (url && c == '_')) return 63;
  return -1;
}

std::optional<std::string> decode(std::string_view text, const Rules& rules) {
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  unsigned buffer = 0;
  int bits = 0;
  bool padded = false;
  for (char c : text) {
    if (rules.whitespace && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) continue;
    if (rules.padding && c == '=') {
      padded = true;
      continue;
    }
    if (padded) return std::nullopt;  // data after padding
    const int v = sextet(c, rules.alphabet);
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  if (bits >= 6) return std::nullopt;  // a lone trailing character holds no whole byte
  if (rules.canonical && bits > 0 && (buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace

std::string base64_encode(std::string_view data) {
  return encode(data, kStandard, true);
}
std::string base64url_encode(std::string_view data) {
  return encode(data, kUrlSafe, false);
}

std::optional<std::string> base64_decode(std::string_view text) {
  return decode(text, Rules{Alphabet::kStandard, true, false, true});
}

std::optional<std::string> base64url_decode(std::string_view text) {
  return decode(text, Rules{Alphabet::kUrlSafe, false, false, true});
}

std::optional<std::string> base64_decode_lenient(std::string_view text) {
  return decode(text, Rules{Alphabet::kEither, true, true, false});
}

}  // namespace sot::common
