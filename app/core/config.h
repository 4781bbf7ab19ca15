// Why: the server is configured only by environment variables (twelve-factor, and what the
// operator wires into the pod). They are parsed once into this typed struct; a missing or bad
// value stops start-up with a message naming the variable and never echoing a secret.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/log.h"
#include "core/result.h"

namespace sot {

enum class AppEnv { kDevelopment, kStaging, kProduction };
const char* app_env_name(AppEnv env);

struct OAuthConfig {
  std::string client_id;
  std::string client_secret;
  std::string redirect_uri;
  std::string auth_url = "https://accounts.google.com/o/oauth2/v2/auth";
  std::string token_url = "https://oauth2.googleapis.com/token";
  std::string userinfo_url = "https://openidconnect.googleapis.com/v1/userinfo";
  std::string scope = "openid email profile";
  bool enabled() const { return !client_id.empty(); }
};

struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string username;
  std::string password;
};

struct Config {
  AppEnv env = AppEnv::kDevelopment;
  std::string bind_address = "0.0.0.0";
  std::uint16_t port = 3000;
  std::uint16_t metrics_port = 9090;
  std::string database_url;
  RedisEndpoint redis;
  std::string jwt_secret;
  std::string frontend_url;
  std::string public_base_url;  // used to build the calendar feed URL
  OAuthConfig oauth;
  std::string openweather_api_key;
  std::string openweather_base_url = "https://api.openweathermap.org";
  std::string google_maps_api_key;
  std::string google_maps_base_url = "https://maps.googleapis.com";
  int rate_limit_max = 100;
  int rate_limit_window_seconds = 900;
  int db_pool_size = 10;
  int db_connect_timeout_seconds = 3;
  int db_statement_timeout_ms = 10000;
  int redis_pool_size = 16;
  int redis_timeout_ms = 1000;
  int http_threads = 2;  // I/O event loops
  int http_workers = 6;  // handler threads (they block on Postgres/Redis); see docs/server.md
  std::size_t max_body_bytes = 10 * 1024 * 1024;
  int shutdown_timeout_seconds = 25;
  // After SIGTERM, keep accepting (with /ready answering 503) this long before
  // closing the listener, so the Service's endpoints drop the pod first.
  int shutdown_delay_seconds = 0;
  int health_interval_ms = 1000;
  bool trust_proxy = false;     // TRUST_PROXY=true: every peer may set X-Forwarded-For (prefer the list below)
  std::string trusted_proxies;  // TRUSTED_PROXIES: addresses/CIDRs whose X-Forwarded-For is believed
  // HTTP_IDLE_TIMEOUT_SECONDS: how long a connection may take to deliver its next whole request.
  // Longer than ingress-nginx's 60 s upstream keep-alive, so the proxy, not us, closes idle
  // connections (no race on a request sent as we close).
  std::chrono::seconds idle_timeout{65};
  bool migrate_on_start = true;
  // Call-sheet PDFs are read by a child process under these limits (service/pdf_sandbox.h).
  std::string pdf_extractor_path;  // PDF_EXTRACTOR_PATH; empty: stillontime-pdf-text beside the server binary
  int pdf_extract_cpu_seconds = 5;
  int pdf_extract_memory_mb = 192;
  int pdf_extract_timeout_seconds = 10;
  int pdf_extract_max_text_kb = 1024;
  int pdf_extract_concurrency = 2;
  log::Level log_level = log::Level::kInfo;
  bool log_requests = true;
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// Reads the process environment.
EnvLookup process_env();

[[nodiscard]] Result<Config> load_config(const EnvLookup& env);

// Parses redis://[user:password@]host[:port][/db]; REDIS_PASSWORD (when set) wins over the URL's.
[[nodiscard]] Result<RedisEndpoint> parse_redis_url(const std::string& url);

}  // namespace sot
