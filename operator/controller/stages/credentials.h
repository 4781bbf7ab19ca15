// Stage "credentials": the generated passwords and the user's Secret.
// Generated credentials are read back from the Secrets that exist (the
// informer's cache) and drawn at random only when missing, so a value is made
// once and never overwritten. The user's spec.backend.secretRef is read now,
// in a namespace the claims stage allowed, only for a fingerprint that rolls
// the backend when it changes; a missing one stalls the resource
// (SecretMissing) and is looked for again shortly.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/controller.h"
#include "stillontime/context.h"
#include "stillontime/spec.h"

namespace sot::stillontime {

// Draws a random credential of `length` URL-safe characters.
using RandomSource = std::function<std::string(std::size_t length)>;
// From OpenSSL's RAND_bytes, without modulo bias.
std::string secure_random(std::size_t length);

}  // namespace sot::stillontime

namespace sot::stillontime::stages {

struct CredentialsInput {
  const nlohmann::json& cr;
  const StillOnTime& resource;  // defaulted, valid, its target permitted
  const RandomSource& random;
};

struct CredentialsOutput {
  GeneratedCredentials credentials;
  std::string user_secret_fingerprint;  // "" without spec.backend.secretRef
  // Set when the pass ends here: the user's Secret is missing (stalled) or could not be read.
  std::optional<runtime::ReconcileResult> stop;
};

CredentialsOutput read_credentials(const CredentialsInput& in, runtime::Context& ctx);

}  // namespace sot::stillontime::stages
