// Why: see token_store.h. GETDEL makes rotation atomic: of two concurrent refreshes with one token,
// exactly one wins.
#include "auth/token_store.h"

#include <cstdlib>

#include "common/digest.h"
#include "core/crypto.h"
#include "core/log.h"

namespace sot::auth {
namespace {
std::string token_key(const std::string& hash) {
  return "rt:" + hash;
}
std::string used_key(const std::string& hash) {
  return "rtused:" + hash;
}
std::string user_key(const std::string& user_id) {
  return "rtu:" + user_id;
}
const std::string kTtl = std::to_string(TokenStore::kRefreshTtlSeconds);
}  // namespace

Result<RefreshGrant> TokenStore::issue(const std::string& user_id) {
  RefreshGrant grant{crypto::random_token(32), user_id, kRefreshTtlSeconds};
  const std::string hash = common::sha256_hex(grant.token);
  auto replies = store_.pipeline({{"SET", token_key(hash), user_id, "EX", kTtl},
                                  {"SADD", user_key(user_id), hash},
                                  {"EXPIRE", user_key(user_id), kTtl}});
  if (!replies) return replies.error();
  for (const auto& r : *replies) {
    if (r.type == kv::Reply::Type::kError) return make_error(ErrorCode::kInternal, "redis: " + r.str);
  }
  return grant;
}

Result<RefreshGrant> TokenStore::rotate(const std::string& token) {
  if (token.empty() || token.size() > 256) return make_error(ErrorCode::kUnauthenticated, "invalid refresh token");
  const std::string hash = common::sha256_hex(token);
  auto replies = store_.pipeline({{"GETDEL", token_key(hash)}, {"GET", used_key(hash)}});
  if (!replies) return replies.error();
  const auto& current = (*replies)[0];
  if (current.type == kv::Reply::Type::kError) return make_error(ErrorCode::kInternal, "redis: " + current.str);
  if (current.is_nil()) {
    const auto& used = (*replies)[1];
    if (used.type == kv::Reply::Type::kString) {
      log::warn("refresh token reuse detected; revoking all sessions", {{"userId", used.str}});
      Status revoked = revoke_all(used.str);
      if (!revoked) return revoked.error();
    }
    return make_error(ErrorCode::kUnauthenticated, "invalid refresh token");
  }
  const std::string user_id = current.str;
  auto marked = store_.pipeline({{"SET", used_key(hash), user_id, "EX", kTtl}, {"SREM", user_key(user_id), hash}});
  if (!marked) return marked.error();
  return issue(user_id);
}

Status TokenStore::revoke(const std::string& token) {
  const std::string hash = common::sha256_hex(token);
  auto reply = store_.command({"GETDEL", token_key(hash)});
  if (!reply) return reply.error();
  if (reply->type == kv::Reply::Type::kString) {
    auto removed = store_.command({"SREM", user_key(reply->str), hash});
    if (!removed) return removed.error();
  }
  return ok_status();
}

Status TokenStore::revoke_all(const std::string& user_id) {
  auto members = store_.command({"SMEMBERS", user_key(user_id)});
  if (!members) return members.error();
  kv::Command del{"DEL", user_key(user_id)};
  for (const auto& m : members->elements) del.push_back(token_key(m.str));
  auto reply = store_.command(del);
  if (!reply) return reply.error();
  return ok_status();
}

Status TokenStore::deny_access_token(const std::string& jti, std::int64_t seconds_left) {
  if (seconds_left <= 0) return ok_status();
  auto reply = store_.command({"SET", "jwtdeny:" + jti, "1", "EX", std::to_string(seconds_left)});
  if (!reply) return reply.error();
  return ok_status();
}

kv::Command TokenStore::denied_check(const std::string& jti) {
  return {"EXISTS", "jwtdeny:" + jti};
}

Status TokenStore::revoke_user_access(const std::string& user_id, std::int64_t now, std::int64_t token_ttl_seconds) {
  auto reply = store_.command(
      {"SET", "jwtuserrevoked:" + user_id, std::to_string(now), "EX", std::to_string(token_ttl_seconds + 60)});
  if (!reply) return reply.error();
  return ok_status();
}

kv::Command TokenStore::user_revoked_check(const std::string& user_id) {
  return {"GET", "jwtuserrevoked:" + user_id};
}

bool TokenStore::revoked_by(const kv::Reply& reply, std::int64_t issued_at) {
  if (reply.type != kv::Reply::Type::kString) return false;
  char* end = nullptr;
  const long long revoked_at = std::strtoll(reply.str.c_str(), &end, 10);
  return end != reply.str.c_str() && issued_at <= revoked_at;
}

}  // namespace sot::auth
