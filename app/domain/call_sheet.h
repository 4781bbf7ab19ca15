// Why: call sheets arrive as PDFs or pasted text in loosely labelled "Label: value" form, in English
// or Polish. The parser is pure (text in, fields out) and reports which required fields it could
// not find, so the API can answer 422 with a message a person can act on.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "domain/civil_time.h"

namespace sot::domain {

struct Contact {
  std::string name;
  std::string role;
  std::string phone;
  bool operator==(const Contact&) const = default;
};

struct CallSheet {
  std::optional<Date> shooting_date;
  std::optional<int> call_time;  // minutes of day
  std::string title;
  std::string location;
  std::string base_location;
  std::string scene_type;
  std::vector<std::string> scenes;
  std::vector<std::string> equipment;
  std::vector<Contact> contacts;
  std::vector<std::string> safety_notes;
  std::string notes;
};

struct ParsedCallSheet {
  CallSheet sheet;
  std::vector<std::string> missing;  // required fields not found: shootingDate, callTime, location
};

ParsedCallSheet parse_call_sheet(std::string_view text);

std::optional<Date> parse_date_loose(std::string_view text);
std::optional<int> parse_time_loose(std::string_view text);
nlohmann::json to_json(const Contact& c);

}  // namespace sot::domain
