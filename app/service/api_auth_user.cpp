// Why: the route table, and the handlers for login (OAuth code flow), token refresh and logout,
// and the user's own profile and configuration (addresses, the five buffers, notifications).
#include "core/crypto.h"
#include "core/log.h"
#include "service/application.h"

namespace sot {

void Application::register_routes() {
  const RouteOptions open{false, true};
  const RouteOptions authed{true, true};
  auto bind = [this](Result<http::Response> (Application::*fn)(RequestContext&)) {
    return [this, fn](RequestContext& ctx) { return (this->*fn)(ctx); };
  };
  router_.add("GET", "/api/auth/login", open, bind(&Application::auth_login));
  router_.add("GET", "/api/auth/callback", open, bind(&Application::auth_callback));
  router_.add("POST", "/api/auth/callback", open, bind(&Application::auth_callback));
  router_.add("POST", "/api/auth/refresh", open, bind(&Application::auth_refresh));
  router_.add("POST", "/api/auth/logout", authed, bind(&Application::auth_logout));
  router_.add("GET", "/api/auth/status", open, bind(&Application::auth_status));
  router_.add("GET", "/api/auth/profile", authed, bind(&Application::auth_profile));

  router_.add("GET", "/api/user/profile", authed, bind(&Application::auth_profile));
  router_.add("PUT", "/api/user/profile", authed, bind(&Application::user_update_profile));
  router_.add("GET", "/api/user/config", authed, bind(&Application::user_get_config));
  router_.add("PUT", "/api/user/config", authed, [this](RequestContext& c) { return user_update_config(c, nullptr); });
  router_.add("PUT", "/api/user/addresses", authed,
              [this](RequestContext& c) { return user_update_config(c, "addresses"); });
  router_.add("PUT", "/api/user/buffers", authed,
              [this](RequestContext& c) { return user_update_config(c, "buffers"); });
  router_.add("PUT", "/api/user/notifications", authed,
              [this](RequestContext& c) { return user_update_config(c, "notifications"); });
  router_.add("POST", "/api/user/reset", authed, bind(&Application::user_reset));
  router_.add("DELETE", "/api/user/account", authed, bind(&Application::user_delete));

  router_.add("GET", "/api/schedules", authed, bind(&Application::schedules_list));
  router_.add("POST", "/api/schedules", authed, bind(&Application::schedules_create));
  router_.add("GET", "/api/schedules/upcoming", authed, bind(&Application::schedules_upcoming));
  router_.add("GET", "/api/schedules/statistics", authed, bind(&Application::schedules_statistics));
  router_.add("POST", "/api/schedules/import", authed, bind(&Application::schedules_import));
  router_.add("GET", "/api/schedules/:id", authed, bind(&Application::schedules_get));
  router_.add("PUT", "/api/schedules/:id", authed, bind(&Application::schedules_update));
  router_.add("DELETE", "/api/schedules/:id", authed, bind(&Application::schedules_delete));
  router_.add("GET", "/api/schedules/:id/route", authed, bind(&Application::route_get));
  router_.add("POST", "/api/schedules/:id/route/recalculate", authed, bind(&Application::route_recalculate));
  router_.add("GET", "/api/schedules/:id/weather", authed, bind(&Application::weather_get));
  router_.add("GET", "/api/schedules/:id/summary", authed, bind(&Application::summary_get));
  router_.add("POST", "/api/route/calculate", authed, bind(&Application::route_calculate));

  router_.add("GET", "/api/calendar/feed.ics", open, bind(&Application::calendar_feed));
  router_.add("GET", "/api/calendar/events", authed, bind(&Application::calendar_events));
  router_.add("POST", "/api/calendar/token", authed, bind(&Application::calendar_token_create));
  router_.add("DELETE", "/api/calendar/token", authed, bind(&Application::calendar_token_delete));
  router_.add("GET", "/api/system/status", authed, bind(&Application::system_status));
}

Result<nlohmann::json> Application::issue_session(const std::string& user_id, const std::string& email,
                                                  const std::string& role) {
  auth::AccessClaims claims;
  claims.subject = user_id;
  claims.email = email;
  claims.role = role;
  const std::string access = jwt_.issue(claims);
  auto refresh = tokens_.issue(user_id);
  if (!refresh) return refresh.error();
  return nlohmann::json{{"accessToken", access},
                        {"tokenType", "Bearer"},
                        {"expiresIn", jwt_.ttl_seconds()},
                        {"refreshToken", refresh->token},
                        {"refreshExpiresIn", refresh->expires_in}};
}

Result<http::Response> Application::auth_login(RequestContext&) {
  auto start = oauth_.begin();
  if (!start) return start.error();
  return json_response(200, {{"authUrl", start->authorization_url}, {"state", start->state}});
}

Result<http::Response> Application::auth_callback(RequestContext& ctx) {
  std::string code = ctx.request.query("code").value_or("");
  std::string state = ctx.request.query("state").value_or("");
  if (ctx.request.method == "POST") {
    auto body = parse_json_body(ctx.request);
    if (!body) return body.error();
    auto body_code = optional_string(*body, "code");
    if (!body_code) return body_code.error();
    auto body_state = optional_string(*body, "state");
    if (!body_state) return body_state.error();
    code = body_code->value_or("");
    state = body_state->value_or("");
  }
  if (auto provider_error = ctx.request.query("error")) {
    return make_error(ErrorCode::kUnauthenticated, "the identity provider reported: " + provider_error->substr(0, 100));
  }
  auto identity = oauth_.complete(code, state);
  if (!identity) return identity.error();
  auto account = users_.record_login(identity->email, identity->name, identity->subject);
  if (!account) return account.error();
  auto session = issue_session(account->id, account->email, account->role);
  if (!session) return session.error();
  (*session)["user"] = {
      {"id", account->id}, {"email", account->email}, {"name", account->name}, {"role", account->role}};
  (*session)["newUser"] = account->created;
  log::info("user logged in", {{"userId", account->id}, {"requestId", ctx.request_id}});
  return json_response(200, *session);
}

Result<http::Response> Application::auth_refresh(RequestContext& ctx) {
  auto body = parse_json_body(ctx.request);
  if (!body) return body.error();
  auto given = optional_string(*body, "refreshToken");
  if (!given) return given.error();
  const std::string token = given->value_or("");
  if (token.empty()) return make_error(ErrorCode::kInvalid, "refreshToken is required");
  auto grant = tokens_.rotate(token);
  if (!grant) return grant.error();
  auto user = load_user(grant->user_id);
  if (!user) {
    (void)tokens_.revoke(grant->token);
    return make_error(ErrorCode::kUnauthenticated, "invalid refresh token");
  }
  auth::AccessClaims claims;
  claims.subject = grant->user_id;
  claims.email = (*user)["email"];
  claims.role = (*user)["role"];
  const std::string access = jwt_.issue(claims);
  return json_response(200, {{"accessToken", access},
                             {"tokenType", "Bearer"},
                             {"expiresIn", jwt_.ttl_seconds()},
                             {"refreshToken", grant->token},
                             {"refreshExpiresIn", grant->expires_in}});
}

Result<http::Response> Application::auth_logout(RequestContext& ctx) {
  auto body = parse_json_body(ctx.request);
  if (!body) return body.error();
  auto all = optional_bool(*body, "allDevices", false);
  if (!all) return all.error();
  auto token = optional_string(*body, "refreshToken");
  if (!token) return token.error();
  if (*all) {
    Status s = tokens_.revoke_all(ctx.user_id());
    if (!s) return s.error();
  } else if (*token && !(*token)->empty()) {
    Status s = tokens_.revoke(**token);
    if (!s) return s.error();
  }
  Status denied = tokens_.deny_access_token(ctx.user->jti, ctx.user->expires_at - deps_.clock.unix_seconds());
  if (!denied) return denied.error();
  return json_response(200, {{"success", true}});
}

Result<http::Response> Application::auth_status(RequestContext& ctx) {
  const auto header = ctx.request.header("authorization");
  if (header.size() > 7 && http::to_lower(header.substr(0, 7)) == "bearer ") {
    auto claims = jwt_.verify(header.substr(7));
    if (claims) {
      auto denied = deps_.kv.pipeline(
          {auth::TokenStore::denied_check(claims->jti), auth::TokenStore::user_revoked_check(claims->subject)});
      if (!denied) return denied.error();
      if ((*denied)[0].integer == 0 && !auth::TokenStore::revoked_by((*denied)[1], claims->issued_at)) {
        return json_response(200,
                             {{"authenticated", true},
                              {"user", {{"id", claims->subject}, {"email", claims->email}, {"role", claims->role}}},
                              {"expiresAt", claims->expires_at}});
      }
    }
  }
  return json_response(200, {{"authenticated", false}, {"loginAvailable", deps_.config.oauth.enabled()}});
}

Result<nlohmann::json> Application::load_user(const std::string& user_id) {
  auto user = users_.find(user_id);
  if (!user) return user.error();
  if (!*user) return make_error(ErrorCode::kUnauthenticated, "the user no longer exists");
  return std::move(**user);
}

Result<http::Response> Application::auth_profile(RequestContext& ctx) {
  auto user = load_user(ctx.user_id());
  if (!user) return user.error();
  return json_response(200, {{"user", *user}});
}

Result<http::Response> Application::user_update_profile(RequestContext& ctx) {
  auto body = parse_json_body(ctx.request);
  if (!body) return body.error();
  if (!body->contains("name") || !(*body)["name"].is_string())
    return make_error(ErrorCode::kInvalid, "name must be a string");
  const std::string name = (*body)["name"];
  if (name.empty() || name.size() > 200) return make_error(ErrorCode::kInvalid, "name must be 1..200 characters");
  auto renamed = users_.rename(ctx.user_id(), name);
  if (!renamed) return renamed.error();
  return auth_profile(ctx);
}

Result<nlohmann::json> Application::load_config(const std::string& user_id) {
  auto config = users_.config(user_id);
  if (!config) return config.error();
  if (!*config) return make_error(ErrorCode::kUnauthenticated, "the user no longer exists");
  const db::UserConfig& c = **config;
  auto text = [](const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  return nlohmann::json{{"homeAddress", text(c.home_address)},
                        {"officeAddress", text(c.office_address)},
                        {"buffers", domain::to_json(c.buffers)},
                        {"notifications", {{"email", c.notify_email}, {"sms", c.notify_sms}, {"push", c.notify_push}}},
                        {"smsNumber", text(c.sms_number)},
                        {"updatedAt", c.updated_at}};
}

Result<domain::Buffers> Application::load_buffers(const std::string& user_id) {
  auto config = load_config(user_id);
  if (!config) return config.error();
  return domain::buffers_from_json((*config)["buffers"], domain::Buffers{});
}

Result<http::Response> Application::user_get_config(RequestContext& ctx) {
  auto config = load_config(ctx.user_id());
  if (!config) return config.error();
  return json_response(200, {{"config", *config}});
}

Result<http::Response> Application::user_update_config(RequestContext& ctx, const char* section) {
  auto body = parse_json_body(ctx.request);
  if (!body) return body.error();
  auto current = load_config(ctx.user_id());
  if (!current) return current.error();
  const std::string sec = section ? section : "";
  const bool addresses = sec.empty() || sec == "addresses";
  const bool buffers = sec.empty() || sec == "buffers";
  const bool notifications = sec.empty() || sec == "notifications";
  for (auto it = body->begin(); it != body->end(); ++it) {
    const std::string& k = it.key();
    const bool known = (addresses && (k == "homeAddress" || k == "officeAddress")) || (buffers && k == "buffers") ||
                       (notifications && (k == "notifications" || k == "smsNumber"));
    // /api/user/buffers also accepts the buffers object itself.
    const bool bare_buffer = sec == "buffers" && (k == "carChange" || k == "parking" || k == "entry" ||
                                                  k == "traffic" || k == "morningRoutine");
    if (!known && !bare_buffer) return make_error(ErrorCode::kInvalid, "unknown field \"" + k + "\"");
  }
  db::UserConfig next;
  auto address = [&](const char* key, const char* label, std::optional<std::string>& slot) -> Status {
    if (!body->contains(key)) {
      const auto& cur = (*current)[key];
      slot = cur.is_null() ? std::nullopt : std::optional<std::string>(cur.get<std::string>());
      return ok_status();
    }
    const auto& v = (*body)[key];
    if (v.is_null()) return ok_status();
    if (!v.is_string() || v.get<std::string>().size() > 500)
      return make_error(ErrorCode::kInvalid, std::string(label) + " must be a string of at most 500 characters");
    slot = v.get<std::string>().empty() ? std::nullopt : std::optional<std::string>(v.get<std::string>());
    return ok_status();
  };
  if (Status s = address("homeAddress", "homeAddress", next.home_address); !s) return s.error();
  if (Status s = address("officeAddress", "officeAddress", next.office_address); !s) return s.error();
  nlohmann::json buffer_patch = body->contains("buffers") ? (*body)["buffers"] : nlohmann::json::object();
  if (sec == "buffers") {
    for (auto it = body->begin(); it != body->end(); ++it) {
      if (it.key() != "buffers") buffer_patch[it.key()] = it.value();
    }
  }
  auto base = domain::buffers_from_json((*current)["buffers"], domain::Buffers{});
  if (!base) return base.error();
  auto merged = domain::buffers_from_json(buffer_patch, *base);
  if (!merged) return merged.error();
  next.buffers = *merged;
  auto notes = (*current)["notifications"];
  if (body->contains("notifications")) {
    const auto& n = (*body)["notifications"];
    if (!n.is_object()) return make_error(ErrorCode::kInvalid, "notifications must be an object");
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (it.key() != "email" && it.key() != "sms" && it.key() != "push")
        return make_error(ErrorCode::kInvalid, "unknown notification channel \"" + it.key() + "\"");
      if (!it->is_boolean())
        return make_error(ErrorCode::kInvalid, "notifications." + it.key() + " must be true or false");
      notes[it.key()] = it.value();
    }
  }
  next.notify_email = notes["email"].get<bool>();
  next.notify_sms = notes["sms"].get<bool>();
  next.notify_push = notes["push"].get<bool>();
  std::optional<std::string> sms = (*current)["smsNumber"].is_null()
                                       ? std::nullopt
                                       : std::optional<std::string>((*current)["smsNumber"].get<std::string>());
  if (body->contains("smsNumber")) {
    const auto& v = (*body)["smsNumber"];
    if (v.is_null())
      sms.reset();
    else if (!v.is_string() || v.get<std::string>().size() > 32)
      return make_error(ErrorCode::kInvalid, "smsNumber must be a phone number");
    else
      sms = v.get<std::string>();
  }
  if (notes["sms"].get<bool>() && !sms)
    return make_error(ErrorCode::kInvalid, "smsNumber is required for SMS notifications");
  next.sms_number = sms;
  auto saved = users_.save_config(ctx.user_id(), next);
  if (!saved) return saved.error();
  return user_get_config(ctx);
}

Result<http::Response> Application::user_reset(RequestContext& ctx) {
  Status reset = users_.reset_config(ctx.user_id());
  if (!reset) return reset.error();
  return user_get_config(ctx);
}

Result<http::Response> Application::user_delete(RequestContext& ctx) {
  auto removed = users_.remove(ctx.user_id());
  if (!removed) return removed.error();
  if (!*removed) return make_error(ErrorCode::kNotFound, "the user no longer exists");
  Status revoked = tokens_.revoke_all(ctx.user_id());
  if (!revoked) return revoked.error();
  // Every access token of the user, not only the one used here: another device's token would
  // otherwise keep reading (empty) data until it expires.
  Status denied = tokens_.revoke_user_access(ctx.user_id(), deps_.clock.unix_seconds(), jwt_.ttl_seconds());
  if (!denied) return denied.error();
  invalidate_cache(ctx.user_id());
  log::info("account deleted", {{"userId", ctx.user_id()}, {"requestId", ctx.request_id}});
  return json_response(200, {{"success", true}, {"message", "the account and all its data were deleted"}});
}

}  // namespace sot
