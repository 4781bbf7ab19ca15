// Call-sheet text extraction (app/domain/call_sheet): pasted text or what
// poppler pulls out of an uploaded PDF, in any language and encoding. The
// parser must return fields or name what is missing, never crash, and its
// JSON must serialise.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "domain/call_sheet.h"

using namespace sot::domain;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_call_sheet(text);
  nlohmann::json contacts = nlohmann::json::array();
  for (const auto& c : parsed.sheet.contacts) contacts.push_back(to_json(c));
  (void)contacts.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  (void)parse_date_loose(text);
  (void)parse_time_loose(text);
  return 0;
}
