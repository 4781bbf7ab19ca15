// Why: refresh tokens are opaque random strings; Redis keeps only their SHA-256, so a Redis dump
// leaks nothing usable. Each use rotates the token; presenting an already-rotated token is taken
// as theft and revokes every refresh token of that user. Logged-out access tokens are put on a
// deny list until they would have expired anyway.
#pragma once

#include <cstdint>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "storage/redis.h"

namespace sot::auth {

struct RefreshGrant {
  std::string token;
  std::string user_id;
  std::int64_t expires_in = 0;
};

class TokenStore {
 public:
  static constexpr std::int64_t kRefreshTtlSeconds = 7 * 24 * 3600;

  explicit TokenStore(kv::Store& store) : store_(store) {}

  [[nodiscard]] Result<RefreshGrant> issue(const std::string& user_id);
  // Consumes the token and returns a fresh one for the same user.
  [[nodiscard]] Result<RefreshGrant> rotate(const std::string& token);
  [[nodiscard]] Status revoke(const std::string& token);
  [[nodiscard]] Status revoke_all(const std::string& user_id);
  [[nodiscard]] Status deny_access_token(const std::string& jti, std::int64_t seconds_left);
  static kv::Command denied_check(const std::string& jti);  // EXISTS; use inside a pipeline
  // Every access token of the user issued up to `now` stops working (the account was deleted):
  // kept for as long as such a token could still be unexpired.
  [[nodiscard]] Status revoke_user_access(const std::string& user_id, std::int64_t now, std::int64_t token_ttl_seconds);
  static kv::Command user_revoked_check(const std::string& user_id);  // GET; use inside a pipeline
  // True when the reply to user_revoked_check revokes a token issued at issued_at.
  static bool revoked_by(const kv::Reply& reply, std::int64_t issued_at);

 private:
  kv::Store& store_;
};

}  // namespace sot::auth
