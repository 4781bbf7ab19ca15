// The server's JWT verifier (app/auth/jwt): every request to an authenticated
// route hands it an attacker-chosen bearer token. Three ways in, chosen by the
// first byte: the token as sent; "header.payload" signed here with the
// server's key (so the claim checks behind the signature are reached); and a
// raw JSON payload under the one accepted header, signed here. Whatever
// verify() accepts must be a usable identity.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "auth/jwt.h"
#include "common/base64.h"
#include "core/crypto.h"

using namespace sot;

namespace {
constexpr const char* kSecret = "0123456789abcdef0123456789abcdef";

class FixedClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  }
};

std::string signed_token(const std::string& signing_input) {
  return signing_input + "." + common::base64url_encode(crypto::hmac_sha256(kSecret, signing_input));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const FixedClock clock;
  static const auth::JwtSigner signer(kSecret, clock);
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);

  std::string token;
  switch (data[0] % 3) {
    case 0:
      token = rest;
      break;
    case 1:
      token = signed_token(rest);
      break;
    default:
      token = signed_token(common::base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                           common::base64url_encode(rest));
      break;
  }
  auto claims = signer.verify(token);
  if (claims.ok()) {
    if (claims->subject.empty() || claims->jti.empty()) std::abort();
    if (claims->expires_at <= clock.unix_seconds()) std::abort();
  } else if (token.size() >= 16 && claims.error().message.find(token) != std::string::npos) {
    std::abort();  // the token never appears in a message (a short one may be any word)
  }
  return 0;
}
