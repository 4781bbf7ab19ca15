// Why: every cryptographic primitive the server uses (HMAC for JWTs, hashes for refresh tokens and
// content dedupe, random tokens, constant-time comparison) comes from OpenSSL through these few
// functions, so there is exactly one place to audit.
#pragma once

#include <string>
#include <string_view>

namespace sot::crypto {

std::string sha256(std::string_view data);                           // raw 32 bytes
std::string sha256_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw 32 bytes
bool constant_time_equal(std::string_view a, std::string_view b);
std::string random_bytes(std::size_t count);
std::string random_token(std::size_t bytes = 32);  // base64url of random bytes
std::string random_hex(std::size_t bytes);
std::string base64url_encode(std::string_view data);
bool base64url_decode(std::string_view text, std::string& out);
std::string base64_encode(std::string_view data);
bool base64_decode(std::string_view text, std::string& out);
std::string hex(std::string_view data);

}  // namespace sot::crypto
