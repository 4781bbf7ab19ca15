// SHA-256 and lowercase hex. The operator names backup Jobs and stamps checksum
// annotations with it; the server hashes refresh tokens, uploads and migrations.
// Both take it from OpenSSL through here, so there is one place to audit.
#pragma once

#include <string>
#include <string_view>

namespace sot::common {

std::string sha256(std::string_view data);      // the raw 32 bytes
std::string sha256_hex(std::string_view data);  // 64 lowercase hex digits
std::string hex(std::string_view data);         // two lowercase hex digits a byte

}  // namespace sot::common
