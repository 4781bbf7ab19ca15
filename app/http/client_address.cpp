// Why: see client_address.h.
#include "http/client_address.h"

#include <arpa/inet.h>
#include <cstring>
#include <optional>

namespace sot::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// 16 bytes, IPv4 mapped into ::ffff:0:0/96 so one comparison serves both families.
std::optional<std::array<std::uint8_t, 16>> parse_address(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  const std::string s(text);
  std::array<std::uint8_t, 16> out{};
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    return out;
  }
  return std::nullopt;
}

bool is_v4(std::string_view text) {
  return text.find(':') == std::string_view::npos;
}

}  // namespace

Result<TrustedProxies> TrustedProxies::parse(std::string_view list) {
  TrustedProxies out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto item = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (item.empty()) continue;
    const auto slash = item.find('/');
    const auto address = item.substr(0, slash);
    auto bytes = parse_address(address);
    if (!bytes)
      return make_error(ErrorCode::kInvalid, "\"" + std::string(item) + "\" is not an IP address or CIDR block");
    const int family_bits = is_v4(address) ? 32 : 128;
    int prefix = family_bits;
    if (slash != std::string_view::npos) {
      const std::string digits(item.substr(slash + 1));
      char* end = nullptr;
      const long parsed = std::strtol(digits.c_str(), &end, 10);
      if (digits.empty() || *end != '\0' || parsed < 0 || parsed > family_bits) {
        return make_error(ErrorCode::kInvalid, "\"" + std::string(item) + "\" has a bad prefix length");
      }
      prefix = static_cast<int>(parsed);
    }
    out.blocks_.push_back(Block{*bytes, prefix + (family_bits == 32 ? 96 : 0)});
  }
  return out;
}

TrustedProxies TrustedProxies::any() {
  TrustedProxies out;
  out.any_ = true;
  return out;
}

bool TrustedProxies::contains(std::string_view address) const {
  if (any_) return true;
  const auto bytes = parse_address(trim(address));
  if (!bytes) return false;
  for (const auto& block : blocks_) {
    int bits = block.prefix;
    bool match = true;
    for (std::size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
      const std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
      if ((block.bytes[i] & mask) != ((*bytes)[i] & mask)) {
        match = false;
        break;
      }
    }
    if (match) return true;
  }
  return false;
}

std::string TrustedProxies::client_address(std::string_view peer, std::string_view forwarded_for) const {
  if (forwarded_for.empty() || !contains(peer)) return std::string(peer);
  // Right to left: each hop appended the address it saw; stop at the first one we do not trust.
  std::string_view rest = forwarded_for;
  std::string_view candidate;
  while (!rest.empty()) {
    const auto comma = rest.rfind(',');
    const auto item = trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
    if (!parse_address(item)) break;  // garbage: do not go further left than what a proxy wrote
    candidate = item;
    if (!contains(item)) break;
  }
  if (candidate.empty()) return std::string(peer);
  return std::string(candidate);
}

}  // namespace sot::http
