// Why: the day summary (what the old system e-mailed the night before) as text and HTML, built
// purely from the schedule, its route plan and its weather, in the API's JSON shapes.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace sot::domain {

struct DaySummary {
  std::string text;
  std::string html;
  nlohmann::json timeline;  // [{time, event}]
  std::vector<std::string> warnings;
};

DaySummary render_summary(const nlohmann::json& schedule, const nlohmann::json& route, const nlohmann::json& weather);
std::string html_escape(std::string_view text);

}  // namespace sot::domain
