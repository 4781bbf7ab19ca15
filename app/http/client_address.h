// Why: the rate limiter keys on the client's address. Behind an Ingress every request arrives from
// the controller's pod, so the real client is in X-Forwarded-For; but that header is only as
// honest as whoever sent it. It is read only when the direct peer is a configured trusted proxy,
// and then from the right: the first address not itself a trusted proxy is the client (what nginx's
// real_ip_recursive does), so a client cannot pick its own bucket by prepending addresses.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace sot::http {

class TrustedProxies {
 public:
  // Comma-separated addresses or CIDR blocks, IPv4 or IPv6 ("10.0.0.0/8, fd00::/8, 127.0.0.1").
  [[nodiscard]] static Result<TrustedProxies> parse(std::string_view list);
  // Every peer is trusted (the old TRUST_PROXY=true behaviour).
  static TrustedProxies any();

  bool empty() const { return blocks_.empty() && !any_; }
  bool contains(std::string_view address) const;
  // The client's address given the TCP peer and the X-Forwarded-For header (may be empty).
  std::string client_address(std::string_view peer, std::string_view forwarded_for) const;

 private:
  struct Block {
    std::array<std::uint8_t, 16> bytes{};  // IPv4 as IPv4-mapped IPv6
    int prefix = 0;                        // in bits of the 128
  };
  std::vector<Block> blocks_;
  bool any_ = false;
};

}  // namespace sot::http
