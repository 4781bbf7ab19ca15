// Why: all environment parsing lives here so every error message has the same shape:
// "<VARIABLE>: <what is wrong>" and never contains the value of a secret.
#include "core/config.h"

#include <cstdlib>
#include <set>

#include "http/client_address.h"

namespace sot {
namespace {

Error config_error(const std::string& name, const std::string& what) {
  return make_error(ErrorCode::kInvalid, name + ": " + what);
}

std::optional<std::string> non_empty(const EnvLookup& env, const std::string& name) {
  auto value = env(name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

Result<long> parse_int(const EnvLookup& env, const std::string& name, long fallback, long min, long max) {
  auto value = non_empty(env, name);
  if (!value) return fallback;
  char* end = nullptr;
  errno = 0;
  const long parsed = std::strtol(value->c_str(), &end, 10);
  if (errno != 0 || end == value->c_str() || *end != '\0')
    return config_error(name, "must be an integer, got \"" + *value + "\"");
  if (parsed < min || parsed > max) {
    return config_error(name,
                        "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + *value);
  }
  return parsed;
}

Result<bool> parse_bool(const EnvLookup& env, const std::string& name, bool fallback) {
  auto value = non_empty(env, name);
  if (!value) return fallback;
  if (*value == "true" || *value == "1" || *value == "yes") return true;
  if (*value == "false" || *value == "0" || *value == "no") return false;
  return config_error(name, "must be true or false, got \"" + *value + "\"");
}

bool is_http_url(const std::string& url) {
  return (url.rfind("http://", 0) == 0 && url.size() > 7) || (url.rfind("https://", 0) == 0 && url.size() > 8);
}

Result<std::string> parse_url(const EnvLookup& env, const std::string& name, const std::string& fallback) {
  auto value = non_empty(env, name);
  if (!value) return fallback;
  if (!is_http_url(*value)) return config_error(name, "must be an http:// or https:// URL");
  std::string url = *value;
  while (url.size() > 8 && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

const char* app_env_name(AppEnv env) {
  switch (env) {
    case AppEnv::kDevelopment:
      return "development";
    case AppEnv::kStaging:
      return "staging";
    case AppEnv::kProduction:
      return "production";
  }
  return "development";
}

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<RedisEndpoint> parse_redis_url(const std::string& url) {
  RedisEndpoint out;
  std::string rest;
  if (url.rfind("redis://", 0) == 0) {
    rest = url.substr(8);
  } else {
    return make_error(ErrorCode::kInvalid, "must start with redis:// (TLS and unix sockets are not supported)");
  }
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) {
    const std::string db = rest.substr(slash + 1);
    if (!db.empty()) {
      char* end = nullptr;
      const long parsed = std::strtol(db.c_str(), &end, 10);
      if (*end != '\0' || parsed < 0 || parsed > 15)
        return make_error(ErrorCode::kInvalid, "database number must be 0..15");
      out.db = static_cast<int>(parsed);
    }
  }
  const auto at = authority.rfind('@');
  if (at != std::string::npos) {
    const std::string userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const auto colon = userinfo.find(':');
    if (colon == std::string::npos) {
      out.password = userinfo;
    } else {
      out.username = userinfo.substr(0, colon);
      out.password = userinfo.substr(colon + 1);
    }
  }
  const auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    out.host = authority.substr(0, colon);
    char* end = nullptr;
    const long port = std::strtol(authority.c_str() + colon + 1, &end, 10);
    if (*end != '\0' || port <= 0 || port > 65535) return make_error(ErrorCode::kInvalid, "port must be 1..65535");
    out.port = static_cast<int>(port);
  } else {
    out.host = authority;
  }
  if (out.host.empty()) return make_error(ErrorCode::kInvalid, "host is missing");
  return out;
}

Result<Config> load_config(const EnvLookup& env) {
  Config config;

  // APP_ENV is ours; NODE_ENV is what the old deployment set. Both may be set only if they agree.
  auto app_env = non_empty(env, "APP_ENV");
  auto node_env = non_empty(env, "NODE_ENV");
  if (app_env && node_env && *app_env != *node_env) {
    return config_error("APP_ENV", "conflicts with NODE_ENV (\"" + *app_env + "\" vs \"" + *node_env + "\")");
  }
  const std::string env_name = app_env ? *app_env : (node_env ? *node_env : "development");
  const std::string env_var = app_env ? "APP_ENV" : "NODE_ENV";
  if (env_name == "development")
    config.env = AppEnv::kDevelopment;
  else if (env_name == "staging")
    config.env = AppEnv::kStaging;
  else if (env_name == "production")
    config.env = AppEnv::kProduction;
  else
    return config_error(env_var, "must be development, staging or production, got \"" + env_name + "\"");
  const bool deployed = config.env != AppEnv::kDevelopment;

  if (auto v = non_empty(env, "BIND_ADDRESS")) config.bind_address = *v;
  auto port = parse_int(env, "PORT", 3000, 0, 65535);
  if (!port) return port.error();
  config.port = static_cast<std::uint16_t>(*port);
  auto metrics_port = parse_int(env, "METRICS_PORT", 9090, 0, 65535);
  if (!metrics_port) return metrics_port.error();
  config.metrics_port = static_cast<std::uint16_t>(*metrics_port);
  if (config.port != 0 && config.port == config.metrics_port)
    return config_error("METRICS_PORT", "must differ from PORT");

  auto database_url = non_empty(env, "DATABASE_URL");
  if (!database_url) return config_error("DATABASE_URL", "is required (postgresql://user:password@host:5432/db)");
  if (database_url->rfind("postgresql://", 0) != 0 && database_url->rfind("postgres://", 0) != 0) {
    return config_error("DATABASE_URL", "must start with postgresql:// or postgres://");
  }
  config.database_url = *database_url;

  auto redis_url = non_empty(env, "REDIS_URL");
  if (!redis_url) return config_error("REDIS_URL", "is required (redis://host:6379)");
  auto redis = parse_redis_url(*redis_url);
  if (!redis) return config_error("REDIS_URL", redis.error().message);
  config.redis = std::move(redis).value();
  if (auto password = env("REDIS_PASSWORD"); password && !password->empty()) config.redis.password = *password;

  auto jwt_secret = env("JWT_SECRET");
  if (!jwt_secret || jwt_secret->empty()) return config_error("JWT_SECRET", "is required (at least 32 bytes)");
  if (jwt_secret->size() < 32) {
    return config_error("JWT_SECRET",
                        "must be at least 32 bytes long (got " + std::to_string(jwt_secret->size()) + ")");
  }
  config.jwt_secret = *jwt_secret;

  auto frontend = parse_url(env, "FRONTEND_URL", deployed ? "" : "http://localhost:5173");
  if (!frontend) return frontend.error();
  if (frontend->empty()) return config_error("FRONTEND_URL", "is required in " + env_name);
  config.frontend_url = *frontend;

  auto public_base = parse_url(env, "PUBLIC_BASE_URL", "");
  if (!public_base) return public_base.error();
  config.public_base_url = *public_base;

  if (auto v = non_empty(env, "GOOGLE_CLIENT_ID")) config.oauth.client_id = *v;
  if (auto v = non_empty(env, "GOOGLE_CLIENT_SECRET")) config.oauth.client_secret = *v;
  if (config.oauth.client_id.empty() && !config.oauth.client_secret.empty()) {
    return config_error("GOOGLE_CLIENT_ID", "is required when GOOGLE_CLIENT_SECRET is set");
  }
  if (!config.oauth.client_id.empty() && config.oauth.client_secret.empty()) {
    return config_error("GOOGLE_CLIENT_SECRET", "is required when GOOGLE_CLIENT_ID is set");
  }
  if (deployed && config.oauth.client_id.empty()) return config_error("GOOGLE_CLIENT_ID", "is required in " + env_name);
  for (auto [name, field] :
       {std::pair{"GOOGLE_AUTH_URL", &config.oauth.auth_url}, std::pair{"GOOGLE_TOKEN_URL", &config.oauth.token_url},
        std::pair{"GOOGLE_USERINFO_URL", &config.oauth.userinfo_url},
        std::pair{"OPENWEATHER_BASE_URL", &config.openweather_base_url},
        std::pair{"GOOGLE_MAPS_BASE_URL", &config.google_maps_base_url}}) {
    auto url = parse_url(env, name, *field);
    if (!url) return url.error();
    *field = *url;
  }
  auto redirect = parse_url(env, "GOOGLE_REDIRECT_URI", "");
  if (!redirect) return redirect.error();
  config.oauth.redirect_uri = redirect->empty() ? config.frontend_url + "/auth/callback" : *redirect;
  if (auto v = non_empty(env, "GOOGLE_OAUTH_SCOPE")) config.oauth.scope = *v;
  if (auto v = non_empty(env, "OPENWEATHER_API_KEY")) config.openweather_api_key = *v;
  if (auto v = non_empty(env, "GOOGLE_MAPS_API_KEY")) config.google_maps_api_key = *v;

  struct IntSetting {
    const char* name;
    int* field;
    long min;
    long max;
  };
  for (const IntSetting& s : {IntSetting{"RATE_LIMIT_MAX", &config.rate_limit_max, 1, 100000000},
                              IntSetting{"RATE_LIMIT_WINDOW_SECONDS", &config.rate_limit_window_seconds, 1, 86400},
                              IntSetting{"DB_POOL_SIZE", &config.db_pool_size, 1, 200},
                              IntSetting{"DB_CONNECT_TIMEOUT_SECONDS", &config.db_connect_timeout_seconds, 1, 60},
                              IntSetting{"DB_STATEMENT_TIMEOUT_MS", &config.db_statement_timeout_ms, 0, 600000},
                              IntSetting{"REDIS_POOL_SIZE", &config.redis_pool_size, 1, 200},
                              IntSetting{"REDIS_TIMEOUT_MS", &config.redis_timeout_ms, 10, 60000},
                              IntSetting{"HTTP_THREADS", &config.http_threads, 1, 64},
                              IntSetting{"HTTP_WORKERS", &config.http_workers, 1, 512},
                              IntSetting{"SHUTDOWN_TIMEOUT_SECONDS", &config.shutdown_timeout_seconds, 0, 300},
                              IntSetting{"SHUTDOWN_DELAY_SECONDS", &config.shutdown_delay_seconds, 0, 60},
                              IntSetting{"HEALTH_INTERVAL_MS", &config.health_interval_ms, 50, 60000},
                              IntSetting{"PDF_EXTRACT_CPU_SECONDS", &config.pdf_extract_cpu_seconds, 1, 600},
                              IntSetting{"PDF_EXTRACT_MEMORY_MB", &config.pdf_extract_memory_mb, 32, 65536},
                              IntSetting{"PDF_EXTRACT_TIMEOUT_SECONDS", &config.pdf_extract_timeout_seconds, 1, 600},
                              IntSetting{"PDF_EXTRACT_MAX_TEXT_KB", &config.pdf_extract_max_text_kb, 1, 1048576},
                              IntSetting{"PDF_EXTRACT_CONCURRENCY", &config.pdf_extract_concurrency, 1, 64}}) {
    auto value = parse_int(env, s.name, *s.field, s.min, s.max);
    if (!value) return value.error();
    *s.field = static_cast<int>(*value);
  }
  auto max_body = parse_int(env, "MAX_BODY_BYTES", static_cast<long>(config.max_body_bytes), 1024, 1L << 30);
  if (!max_body) return max_body.error();
  config.max_body_bytes = static_cast<std::size_t>(*max_body);

  auto trust_proxy = parse_bool(env, "TRUST_PROXY", false);
  if (!trust_proxy) return trust_proxy.error();
  config.trust_proxy = *trust_proxy;
  if (auto v = non_empty(env, "TRUSTED_PROXIES")) {
    auto parsed = http::TrustedProxies::parse(*v);
    if (!parsed) return config_error("TRUSTED_PROXIES", parsed.error().message);
    config.trusted_proxies = *v;
  }
  auto idle = parse_int(env, "HTTP_IDLE_TIMEOUT_SECONDS", config.idle_timeout.count(), 1, 3600);
  if (!idle) return idle.error();
  config.idle_timeout = std::chrono::seconds(*idle);
  if (auto v = non_empty(env, "PDF_EXTRACTOR_PATH")) config.pdf_extractor_path = *v;
  auto migrate = parse_bool(env, "MIGRATE_ON_START", true);
  if (!migrate) return migrate.error();
  config.migrate_on_start = *migrate;
  auto log_requests = parse_bool(env, "LOG_REQUESTS", true);
  if (!log_requests) return log_requests.error();
  config.log_requests = *log_requests;
  if (auto v = non_empty(env, "LOG_LEVEL")) {
    if (!log::parse_level(*v, config.log_level)) return config_error("LOG_LEVEL", "must be debug, info, warn or error");
  }
  return config;
}

}  // namespace sot
