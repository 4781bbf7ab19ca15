// Why: see jwt.h. Every failure is kUnauthenticated with a short reason; the token itself never
// appears in a message.
#include "auth/jwt.h"

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "core/crypto.h"

namespace sot::auth {
namespace {
constexpr std::string_view kHeader = R"({"alg":"HS256","typ":"JWT"})";

Error unauthenticated(std::string why) {
  return make_error(ErrorCode::kUnauthenticated, std::move(why));
}
}  // namespace

std::string JwtSigner::issue(AccessClaims& claims) const {
  claims.issued_at = clock_.unix_seconds();
  claims.expires_at = claims.issued_at + ttl_seconds_;
  if (claims.jti.empty()) claims.jti = crypto::random_hex(16);
  nlohmann::json payload = {{"sub", claims.subject}, {"email", claims.email},   {"role", claims.role},
                            {"jti", claims.jti},     {"iat", claims.issued_at}, {"exp", claims.expires_at},
                            {"iss", kIssuer},        {"aud", kAudience},        {"typ", "access"}};
  std::string signing_input = common::base64url_encode(kHeader) + "." + common::base64url_encode(payload.dump());
  const std::string signature = crypto::hmac_sha256(secret_, signing_input);
  return signing_input + "." + common::base64url_encode(signature);
}

Result<AccessClaims> JwtSigner::verify(std::string_view token) const {
  if (token.size() > 4096) return unauthenticated("token too long");
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot1 == std::string_view::npos || dot2 == std::string_view::npos ||
      token.find('.', dot2 + 1) != std::string_view::npos) {
    return unauthenticated("malformed token");
  }
  const auto header_text = common::base64url_decode(token.substr(0, dot1));
  if (!header_text) return unauthenticated("malformed token header");
  const auto header = nlohmann::json::parse(*header_text, nullptr, false);
  if (header.is_discarded() || !header.is_object()) return unauthenticated("malformed token header");
  // Pinned algorithm: the header is only checked, never used to choose how to verify.
  if (!header.contains("alg") || !header["alg"].is_string() || header["alg"].get<std::string>() != "HS256") {
    return unauthenticated("unsupported token algorithm");
  }
  if (header.contains("crit")) return unauthenticated("unsupported critical header");
  const auto signature = common::base64url_decode(token.substr(dot2 + 1));
  if (!signature) return unauthenticated("malformed token signature");
  const std::string expected = crypto::hmac_sha256(secret_, token.substr(0, dot2));
  if (!crypto::constant_time_equal(*signature, expected)) return unauthenticated("invalid token signature");

  const auto payload_text = common::base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload_text) return unauthenticated("malformed token payload");
  const auto payload = nlohmann::json::parse(*payload_text, nullptr, false);
  if (payload.is_discarded() || !payload.is_object()) return unauthenticated("malformed token payload");
  auto str = [&](const char* key) -> std::string {
    auto it = payload.find(key);
    return it != payload.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto num = [&](const char* key) -> std::int64_t {
    auto it = payload.find(key);
    return it != payload.end() && it->is_number_integer() ? it->get<std::int64_t>() : -1;
  };
  if (str("iss") != kIssuer || str("aud") != kAudience || str("typ") != "access")
    return unauthenticated("token not issued for this API");
  AccessClaims claims;
  claims.subject = str("sub");
  claims.email = str("email");
  claims.role = str("role");
  claims.jti = str("jti");
  claims.issued_at = num("iat");
  claims.expires_at = num("exp");
  if (claims.subject.empty() || claims.jti.empty() || claims.expires_at < 0)
    return unauthenticated("token lacks required claims");
  const auto now = clock_.unix_seconds();
  if (now >= claims.expires_at) return unauthenticated("token expired");
  if (claims.issued_at > now + 60) return unauthenticated("token issued in the future");
  return claims;
}

}  // namespace sot::auth
