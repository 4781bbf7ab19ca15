// Why: access tokens are JWTs signed with HS256 and nothing else. The algorithm is pinned (a token
// whose header says "none", RS256 or anything but HS256 is refused before any key is used) and the
// signature is compared in constant time, closing the classic alg-confusion and timing attacks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"

namespace sot::auth {

struct AccessClaims {
  std::string subject;  // user id
  std::string email;
  std::string role;
  std::string jti;
  std::int64_t issued_at = 0;
  std::int64_t expires_at = 0;
};

class JwtSigner {
 public:
  static constexpr const char* kIssuer = "stillontime";
  static constexpr const char* kAudience = "stillontime-api";

  JwtSigner(std::string secret, const Clock& clock, std::int64_t ttl_seconds = 3600)
      : secret_(std::move(secret)), clock_(clock), ttl_seconds_(ttl_seconds) {}

  // Fills jti, iat and exp.
  std::string issue(AccessClaims& claims) const;
  [[nodiscard]] Result<AccessClaims> verify(std::string_view token) const;
  std::int64_t ttl_seconds() const { return ttl_seconds_; }

 private:
  std::string secret_;
  const Clock& clock_;
  std::int64_t ttl_seconds_;
};

}  // namespace sot::auth
