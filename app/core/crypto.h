// Why: every cryptographic primitive the server uses (HMAC for JWTs, random tokens, constant-time
// comparison) comes from OpenSSL through these few functions, so there is exactly one place to
// audit. SHA-256, hex and base64, which the operator needs too, are common/digest.h and
// common/base64.h.
#pragma once

#include <string>
#include <string_view>

namespace sot::crypto {

std::string hmac_sha256(std::string_view key, std::string_view data);  // raw 32 bytes
bool constant_time_equal(std::string_view a, std::string_view b);
std::string random_bytes(std::size_t count);
std::string random_token(std::size_t bytes = 32);  // base64url of random bytes
std::string random_hex(std::size_t bytes);

}  // namespace sot::crypto
