// Base64 (RFC 4648) in the three flavours the programs meet: the standard
// alphabet with padding (Kubernetes Secret data, PDF uploads), the URL-safe
// alphabet without padding (JWTs, PKCE, random tokens), and the forgiving reading
// Kubernetes clients give kubeconfig `*-data` fields and Secret values.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sot::common {

std::string base64_encode(std::string_view data);     // standard alphabet, '=' padded
std::string base64url_encode(std::string_view data);  // URL-safe alphabet, unpadded

// Strict decoders: one spelling per value. Standard alphabet, trailing '=' optional;
// URL-safe alphabet, no '=' at all. Whitespace, a foreign alphabet's characters and
// stray low bits in the last character are refused.
std::optional<std::string> base64_decode(std::string_view text);
std::optional<std::string> base64url_decode(std::string_view text);

// Forgiving decoder for material users paste (kubeconfig, Secret data): either
// alphabet, padding optional, whitespace ignored, stray low bits tolerated; data
// after padding and a lone trailing character are still refused.
std::optional<std::string> base64_decode_lenient(std::string_view text);

}  // namespace sot::common
