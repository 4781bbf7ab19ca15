// Why: see oauth.h. Provider answers are validated field by field; an unexpected answer is a 502,
// a refused code or unknown state a 400/401, never a crash.
#include "auth/oauth.h"

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/digest.h"
#include "core/crypto.h"
#include "core/log.h"

namespace sot::auth {

Result<OAuthStart> OAuthFlow::begin() {
  if (!config_.enabled()) return make_error(ErrorCode::kUnavailable, "OAuth login is not configured");
  OAuthStart start;
  start.state = crypto::random_token(24);
  const std::string verifier = crypto::random_token(48);
  const std::string challenge = common::base64url_encode(common::sha256(verifier));
  auto stored = store_.command({"SET", "oauth:state:" + start.state, verifier, "EX", "600", "NX"});
  if (!stored) return stored.error();
  const char sep = config_.auth_url.find('?') == std::string::npos ? '?' : '&';
  start.authorization_url =
      config_.auth_url + sep + "response_type=code&client_id=" + http::url_encode(config_.client_id) +
      "&redirect_uri=" + http::url_encode(config_.redirect_uri) + "&scope=" + http::url_encode(config_.scope) +
      "&state=" + http::url_encode(start.state) + "&code_challenge=" + challenge +
      "&code_challenge_method=S256&access_type=offline&prompt=consent";
  return start;
}

Result<OAuthIdentity> OAuthFlow::complete(const std::string& code, const std::string& state) {
  if (!config_.enabled()) return make_error(ErrorCode::kUnavailable, "OAuth login is not configured");
  if (code.empty() || state.empty()) return make_error(ErrorCode::kInvalid, "code and state are required");
  if (code.size() > 2048 || state.size() > 256) return make_error(ErrorCode::kInvalid, "code or state too long");
  auto verifier = store_.command({"GETDEL", "oauth:state:" + state});
  if (!verifier) return verifier.error();
  if (verifier->type != kv::Reply::Type::kString) {
    return make_error(ErrorCode::kInvalid, "unknown or expired OAuth state");
  }
  http::ClientRequest token_request;
  token_request.method = "POST";
  token_request.url = config_.token_url;
  token_request.headers = {{"content-type", "application/x-www-form-urlencoded"}, {"accept", "application/json"}};
  token_request.body =
      "grant_type=authorization_code&code=" + http::url_encode(code) +
      "&redirect_uri=" + http::url_encode(config_.redirect_uri) + "&client_id=" + http::url_encode(config_.client_id) +
      "&client_secret=" + http::url_encode(config_.client_secret) + "&code_verifier=" + http::url_encode(verifier->str);
  auto token_response = client_.send(token_request);
  if (!token_response) return token_response.error();
  if (token_response->status == 400 || token_response->status == 401) {
    return make_error(ErrorCode::kUnauthenticated, "the identity provider refused the authorization code");
  }
  if (token_response->status != 200) {
    return make_error(ErrorCode::kBadGateway, "token endpoint answered " + std::to_string(token_response->status));
  }
  const auto token_json = nlohmann::json::parse(token_response->body, nullptr, false);
  if (!token_json.is_object() || !token_json.contains("access_token") || !token_json["access_token"].is_string()) {
    return make_error(ErrorCode::kBadGateway, "token endpoint answer lacks access_token");
  }
  http::ClientRequest userinfo_request;
  userinfo_request.url = config_.userinfo_url;
  userinfo_request.headers = {{"authorization", "Bearer " + token_json["access_token"].get<std::string>()},
                              {"accept", "application/json"}};
  auto userinfo = client_.send(userinfo_request);
  if (!userinfo) return userinfo.error();
  if (userinfo->status != 200) {
    return make_error(ErrorCode::kBadGateway, "userinfo endpoint answered " + std::to_string(userinfo->status));
  }
  const auto info = nlohmann::json::parse(userinfo->body, nullptr, false);
  if (!info.is_object() || !info.contains("sub") || !info.contains("email") || !info["email"].is_string()) {
    return make_error(ErrorCode::kBadGateway, "userinfo answer lacks sub or email");
  }
  if (info.contains("email_verified") && info["email_verified"].is_boolean() && !info["email_verified"].get<bool>()) {
    return make_error(ErrorCode::kForbidden, "the e-mail address is not verified");
  }
  OAuthIdentity identity;
  identity.subject = info["sub"].is_string() ? info["sub"].get<std::string>() : info["sub"].dump();
  identity.email = info["email"].get<std::string>();
  identity.name = info.contains("name") && info["name"].is_string() ? info["name"].get<std::string>() : identity.email;
  return identity;
}

}  // namespace sot::auth
