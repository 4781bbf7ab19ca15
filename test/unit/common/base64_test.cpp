// base64 in its three readings: strict standard (Secret data, uploads), strict
// URL-safe (JWTs) and lenient (kubeconfig *-data, Secret values read back).
#include "common/base64.h"

#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

namespace sot::common {
namespace {

using Decoded = std::optional<std::string>;

TEST_CASE("RFC 4648 test vectors") {
  const std::vector<std::pair<std::string, std::string>> vectors = {{"", ""},
                                                                    {"f", "Zg=="},
                                                                    {"fo", "Zm8="},
                                                                    {"foo", "Zm9v"},
                                                                    {"foob", "Zm9vYg=="},
                                                                    {"fooba", "Zm9vYmE="},
                                                                    {"foobar", "Zm9vYmFy"}};
  for (const auto& v : vectors) {
    CAPTURE(v.first);
    CHECK(base64_encode(v.first) == v.second);
    CHECK(base64_decode(v.second) == Decoded(v.first));
    CHECK(base64_decode_lenient(v.second) == Decoded(v.first));
    std::string unpadded = v.second;
    while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
    CHECK(base64url_encode(v.first) == unpadded);
    CHECK(base64url_decode(unpadded) == Decoded(v.first));
  }
}

TEST_CASE("the two alphabets differ in 62 and 63") {
  const std::string bytes("\xfb\xff\xbf", 3);
  CHECK(base64_encode(bytes) == "+/+/");
  CHECK(base64url_encode(bytes) == "-_-_");
  CHECK(base64_decode("+/+/") == Decoded(bytes));
  CHECK(base64url_decode("-_-_") == Decoded(bytes));
  CHECK_FALSE(base64_decode("-_-_"));
  CHECK_FALSE(base64url_decode("+/+/"));
  CHECK(base64_decode_lenient("-/+_") == Decoded(bytes));
}

TEST_CASE("round trip of every byte value") {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t n = 0; n <= all.size(); ++n) {
    const std::string s = all.substr(all.size() - n);
    CHECK(base64_decode(base64_encode(s)) == Decoded(s));
    CHECK(base64url_decode(base64url_encode(s)) == Decoded(s));
    CHECK(base64_decode_lenient(base64url_encode(s)) == Decoded(s));
  }
}

TEST_CASE("strict decoders give each value one spelling") {
  CHECK_FALSE(base64_decode("Zh=="));  // "f" with a stray low bit
  CHECK_FALSE(base64url_decode("Zh"));
  CHECK_FALSE(base64_decode("Zm9v\nYmFy"));  // whitespace
  CHECK_FALSE(base64_decode("Zg==Zg=="));    // data after padding
  CHECK_FALSE(base64_decode("Z"));           // a lone character holds no byte
  CHECK_FALSE(base64_decode("Zm9*"));
  CHECK_FALSE(base64url_decode("Zg=="));  // the URL-safe form has no padding
  CHECK_FALSE(base64url_decode("ab+c"));
  CHECK(base64_decode("Zg") == Decoded("f"));  // padding is optional
}

TEST_CASE("the lenient decoder takes what people paste") {
  CHECK(base64_decode_lenient("aGVsbG8=") == Decoded("hello"));
  CHECK(base64_decode_lenient("aGVs\nbG8=\n") == Decoded("hello"));
  CHECK(base64_decode_lenient(" aGVs\tbG8\r\n") == Decoded("hello"));
  CHECK(base64_decode_lenient("aGVsbA") == Decoded("hell"));
  CHECK(base64_decode_lenient("Zh==") == Decoded("f"));  // stray low bits tolerated
  CHECK_FALSE(base64_decode_lenient("a"));
  CHECK_FALSE(base64_decode_lenient("aGV*"));
  CHECK_FALSE(base64_decode_lenient("aA==aA"));
}

}  // namespace
}  // namespace sot::common
