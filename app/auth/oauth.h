// Why: OAuth 2.0 authorization-code login (with PKCE and a one-time state kept in Redis) against
// endpoints taken from configuration, so tests and staging can point it at any provider.
#pragma once

#include <string>

#include "core/config.h"
#include "core/result.h"
#include "http/http_client.h"
#include "storage/redis.h"

namespace sot::auth {

struct OAuthStart {
  std::string authorization_url;
  std::string state;
};

struct OAuthIdentity {
  std::string subject;  // provider's user id ("sub")
  std::string email;
  std::string name;
};

class OAuthFlow {
 public:
  OAuthFlow(const OAuthConfig& config, http::Client& client, kv::Store& store)
      : config_(config), client_(client), store_(store) {}

  [[nodiscard]] Result<OAuthStart> begin();
  [[nodiscard]] Result<OAuthIdentity> complete(const std::string& code, const std::string& state);

 private:
  const OAuthConfig& config_;
  http::Client& client_;
  kv::Store& store_;
};

}  // namespace sot::auth
