// Stage "credentials" (see credentials.h).
#include "controller/stages/credentials.h"

#include <chrono>
#include <cstdlib>

#include <openssl/rand.h>

#include "common/base64.h"
#include "controller/common.h"
#include "controller/stages/status.h"
#include "kube/config.h"
#include "stillontime/builders/common.h"
#include "stillontime/drift.h"

namespace sot::stillontime {

std::string secure_random(std::size_t length) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  out.reserve(length);
  while (out.size() < length) {
    unsigned char buf[64];
    if (RAND_bytes(buf, sizeof buf) != 1) std::abort();  // no entropy: nothing safe to do
    for (unsigned char b : buf) {
      if (b < 248 && out.size() < length) out.push_back(kAlphabet[b % 62]);  // 248 = 4*62: no bias
    }
  }
  return out;
}

}  // namespace sot::stillontime

namespace sot::stillontime::stages {
namespace {

using Json = nlohmann::json;

// One decoded value of a Secret in the cache, "" when absent.
std::string secret_value(const Json* secret, const char* key) {
  if (secret == nullptr) return {};
  const Json& data = secret->value("data", Json::object());
  auto it = data.find(key);
  if (it == data.end() || !it->is_string()) return {};
  return common::base64_decode_lenient(it->get<std::string>()).value_or(std::string{});
}

}  // namespace

CredentialsOutput read_credentials(const CredentialsInput& in, runtime::Context& ctx) {
  CredentialsOutput out;
  const StillOnTime& resource = in.resource;
  const std::string target = resource.target_namespace();
  const auto* secrets = ctx.cache(resource_ref("v1", "Secret"));
  // The snapshots stay alive while we read them.
  auto pg = secrets ? secrets->get({target, postgres_secret_name(resource)}) : nullptr;
  auto rd = secrets ? secrets->get({target, redis_secret_name(resource)}) : nullptr;
  auto app = secrets ? secrets->get({target, app_secret_name(resource)}) : nullptr;
  // Grafana's password exists only with the embedded stack: no cache read and
  // no random draw on every pass of every other resource.
  const bool embedded = embedded_monitoring(resource);
  auto grafana = secrets && embedded ? secrets->get({target, grafana_secret_name(resource)}) : nullptr;
  GeneratedCredentials& c = out.credentials;
  c.postgres_password = secret_value(pg.get(), "POSTGRES_PASSWORD");
  c.redis_password = secret_value(rd.get(), "REDIS_PASSWORD");
  c.jwt_secret = secret_value(app.get(), "JWT_SECRET");
  c.grafana_admin_password = secret_value(grafana.get(), "admin-password");
  if (c.postgres_password.empty()) c.postgres_password = in.random(32);
  if (c.redis_password.empty()) c.redis_password = in.random(32);
  if (c.jwt_secret.empty()) c.jwt_secret = in.random(64);
  if (embedded && c.grafana_admin_password.empty()) c.grafana_admin_password = in.random(32);
  if (resource.spec.backend.secret_ref) {
    // Its fingerprint goes only into the backend's checksum, which also hashes
    // the generated credentials: whoever can read the Deployment but not the
    // Secrets cannot test guesses of the Secret's contents against it.
    const std::string& name = resource.spec.backend.secret_ref->name;
    auto user_secret = ctx.client().get(resource_ref("v1", "Secret"), {target, name});
    if (user_secret.code() == kube::Code::kNotFound) {
      out.stop = stall({in.cr, "SecretMissing",
                        "spec.backend.secretRef.name: secret " + name + " not found in " + target, kRecheckMissing},
                       ctx);
      return out;
    }
    if (!user_secret.ok()) {
      out.stop = runtime::ReconcileResult::failed(user_secret.error());
      return out;
    }
    out.user_secret_fingerprint = content_hash(user_secret->value("data", Json::object()));
  }
  return out;
}

}  // namespace sot::stillontime::stages
