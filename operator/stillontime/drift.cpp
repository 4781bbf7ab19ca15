#include "stillontime/drift.h"

#include <openssl/evp.h>

#include <array>
#include <cmath>
#include <optional>
#include <regex>
#include <vector>

namespace sot::stillontime {
namespace {

bool is_zero(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null: return true;
    case nlohmann::json::value_t::string: return v.get_ref<const std::string&>().empty();
    case nlohmann::json::value_t::boolean: return !v.get<bool>();
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float: return v.get<double>() == 0.0;
    case nlohmann::json::value_t::object:
    case nlohmann::json::value_t::array: return v.empty();
    default: return false;
  }
}

// The value of a Kubernetes quantity ("250m", "1Gi", "1e3", "0.5"), or nullopt
// when the string is not one.
std::optional<long double> quantity_value(const std::string& s) {
  static const std::regex kQuantity(R"(^([+-]?[0-9]*\.?[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$)");
  std::smatch m;
  if (s.empty() || !std::regex_match(s, m, kQuantity)) return std::nullopt;
  long double v = std::stold(m[1].str());
  const std::string suffix = m[2].str();
  if (suffix.empty()) return v;
  if (suffix[0] == 'e' || suffix[0] == 'E') return v * std::pow(10.0L, std::stoi(suffix.substr(1)));
  static const std::array<std::pair<const char*, long double>, 13> kFactors = {{
      {"Ki", 1024.0L}, {"Mi", 1024.0L * 1024}, {"Gi", 1024.0L * 1024 * 1024}, {"Ti", std::pow(1024.0L, 4)},
      {"Pi", std::pow(1024.0L, 5)}, {"Ei", std::pow(1024.0L, 6)}, {"n", 1e-9L}, {"u", 1e-6L}, {"m", 1e-3L},
      {"k", 1e3L}, {"M", 1e6L}, {"G", 1e9L}, {"T", 1e12L},
  }};
  for (const auto& [name, factor] : kFactors) {
    if (suffix == name) return v * factor;
  }
  if (suffix == "P") return v * 1e15L;
  if (suffix == "E") return v * 1e18L;
  return std::nullopt;
}

bool scalar_equal(const nlohmann::json& live, const nlohmann::json& desired) {
  if (live == desired) return true;
  if (live.is_number() && desired.is_number()) return live.get<double>() == desired.get<double>();
  if (live.is_string() && desired.is_string()) {
    auto a = quantity_value(live.get_ref<const std::string&>());
    auto b = quantity_value(desired.get_ref<const std::string&>());
    if (a && b) return std::fabs(static_cast<double>(*a - *b)) <= 1e-9 * std::max(1.0, std::fabs(static_cast<double>(*b)));
  }
  // int-or-string fields (targetPort, maxUnavailable) may come back as the other form.
  if (live.is_number() && desired.is_string()) return live.dump() == desired.get_ref<const std::string&>();
  if (live.is_string() && desired.is_number()) return live.get_ref<const std::string&>() == desired.dump();
  return false;
}

}  // namespace

std::string content_hash(const nlohmann::json& object) {
  const std::string text = object.dump();
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

nlohmann::json stamp_applied_hash(nlohmann::json desired) {
  if (desired.contains("metadata") && desired["metadata"].contains("annotations")) {
    desired["metadata"]["annotations"].erase(kAppliedHashAnnotation);
    if (desired["metadata"]["annotations"].empty()) desired["metadata"].erase("annotations");
  }
  const std::string hash = content_hash(desired);
  desired["metadata"]["annotations"][kAppliedHashAnnotation] = hash;
  return desired;
}

bool contains_desired(const nlohmann::json& live, const nlohmann::json& desired) {
  if (desired.is_object()) {
    if (!live.is_object()) return is_zero(desired) && (live.is_null() || is_zero(live));
    for (const auto& [key, value] : desired.items()) {
      auto it = live.find(key);
      if (it == live.end()) {
        if (!is_zero(value)) return false;
        continue;
      }
      if (!contains_desired(*it, value)) return false;
    }
    return true;
  }
  if (desired.is_array()) {
    if (!live.is_array()) return desired.empty() && live.is_null();
    if (live.size() != desired.size()) return false;
    bool in_order = true;
    for (std::size_t i = 0; i < desired.size() && in_order; ++i) in_order = contains_desired(live[i], desired[i]);
    if (in_order) return true;
    // The same elements in another order: the 1.20 server hands autoscaling/v2beta2
    // metrics back in a different order than they were applied (its storage
    // form is autoscaling/v1 plus an annotation).
    std::vector<bool> used(live.size(), false);
    for (const auto& want : desired) {
      bool found = false;
      for (std::size_t j = 0; j < live.size() && !found; ++j) {
        if (!used[j] && contains_desired(live[j], want)) used[j] = found = true;
      }
      if (!found) return false;
    }
    return true;
  }
  if (desired.is_null()) return true;
  return scalar_equal(live, desired);
}

bool up_to_date(const nlohmann::json* live, const nlohmann::json& stamped_desired) {
  if (live == nullptr) return false;
  const auto& meta = live->value("metadata", nlohmann::json::object());
  const auto& annotations = meta.value("annotations", nlohmann::json::object());
  const std::string want = stamped_desired["metadata"]["annotations"].value(kAppliedHashAnnotation, "");
  if (annotations.value(kAppliedHashAnnotation, "") != want) return false;
  return contains_desired(*live, stamped_desired);
}

}  // namespace sot::stillontime
