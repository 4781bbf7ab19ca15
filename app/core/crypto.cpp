// Why: thin wrappers over OpenSSL; CRYPTO_memcmp gives the constant-time comparison JWT
// verification needs, RAND_bytes the CSPRNG for tokens.
#include "core/crypto.h"

#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/base64.h"
#include "common/digest.h"

namespace sot::crypto {

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::string out(EVP_MAX_MD_SIZE, '\0');
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), reinterpret_cast<unsigned char*>(out.data()), &len);
  out.resize(len);
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_bytes(std::size_t count) {
  std::string out(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(count)) != 1) {
    // Without a CSPRNG no token we issue is safe; this is a broken host, not an expected failure.
    throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

std::string random_token(std::size_t bytes) {
  return common::base64url_encode(random_bytes(bytes));
}
std::string random_hex(std::size_t bytes) {
  return common::hex(random_bytes(bytes));
}

}  // namespace sot::crypto
