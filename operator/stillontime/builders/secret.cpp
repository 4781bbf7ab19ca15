// Generated credential Secrets. The random values come in as arguments: the
// reconciler draws them once, creates these Secrets with create (never apply)
// and afterwards reads the values back, so a Secret is never rewritten and a
// builder stays pure. Values go in `data` (base64): the 1.20 server rewrites
// managedFields on every apply of `stringData`.
#include <cctype>

#include "common/base64.h"
#include "stillontime/builders/builders.h"

namespace sot::stillontime {

namespace {

std::string percent_encode(const std::string& in) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

json generated_secret(const StillOnTime& r, const std::string& name, const char* component,
                      std::initializer_list<std::pair<const char*, std::string>> values) {
  json meta = object_meta(r, name, component);
  meta["annotations"][kGeneratedAnnotation] = "true";
  json data = json::object();
  for (const auto& [key, value] : values) data[key] = common::base64_encode(value);
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", std::move(meta)},
          {"type", "Opaque"},
          {"data", std::move(data)}};
}

}  // namespace

std::string database_url(const StillOnTime& r, const std::string& password) {
  return std::string("postgresql://") + kDatabaseUser + ":" + percent_encode(password) + "@" +
         child_name(r, kPostgres) + "." + r.target_namespace() + ".svc:" + std::to_string(kPostgresPort) + "/" +
         kDatabaseName;
}

std::string redis_url(const StillOnTime& r) {
  return "redis://" + child_name(r, kRedis) + "." + r.target_namespace() + ".svc:" + std::to_string(kRedisPort);
}

json build_postgres_secret(const StillOnTime& r, const GeneratedCredentials& creds) {
  return generated_secret(r, postgres_secret_name(r), kPostgres,
                          {{"POSTGRES_USER", kDatabaseUser},
                           {"POSTGRES_PASSWORD", creds.postgres_password},
                           {"POSTGRES_DB", kDatabaseName},
                           {"DATABASE_URL", database_url(r, creds.postgres_password)}});
}

json build_redis_secret(const StillOnTime& r, const GeneratedCredentials& creds) {
  return generated_secret(r, redis_secret_name(r), kRedis,
                          {{"REDIS_PASSWORD", creds.redis_password}, {"REDIS_URL", redis_url(r)}});
}

json build_app_secret(const StillOnTime& r, const GeneratedCredentials& creds) {
  return generated_secret(r, app_secret_name(r), kBackend, {{"JWT_SECRET", creds.jwt_secret}});
}

}  // namespace sot::stillontime
