// Reading fields of JSON that came over the wire. nlohmann's value() and get<>()
// throw when a field has an unexpected type; an API server answer (a list
// page, a discovery document, a Status) must never throw out of the client or
// the informer, so these read a missing field, or one of the wrong type, as the
// fallback. Found necessary by fuzzing (test/fuzz/fuzz_kube_list).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sot::kube {

// The member `key` of `object`; nullptr when `object` is not an object or has no such member.
inline const nlohmann::json* json_field(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

inline std::string string_field(const nlohmann::json& object, std::string_view key, std::string fallback = {}) {
  const auto* v = json_field(object, key);
  return v && v->is_string() ? v->get<std::string>() : fallback;
}

inline std::int64_t int_field(const nlohmann::json& object, std::string_view key, std::int64_t fallback = 0) {
  const auto* v = json_field(object, key);
  return v && v->is_number_integer() ? v->get<std::int64_t>() : fallback;
}

inline bool bool_field(const nlohmann::json& object, std::string_view key, bool fallback = false) {
  const auto* v = json_field(object, key);
  return v && v->is_boolean() ? v->get<bool>() : fallback;
}

// The member as an array or an object; an empty one when it is missing or of another type.
inline const nlohmann::json& array_field(const nlohmann::json& object, std::string_view key) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  const auto* v = json_field(object, key);
  return v && v->is_array() ? *v : kEmpty;
}

inline const nlohmann::json& object_field(const nlohmann::json& object, std::string_view key) {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  const auto* v = json_field(object, key);
  return v && v->is_object() ? *v : kEmpty;
}

}  // namespace sot::kube
