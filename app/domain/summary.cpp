// Why: see summary.h. Every value coming from a call sheet is escaped before it reaches HTML.
#include "domain/summary.h"

#include <cstdio>

namespace sot::domain {

std::string html_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

namespace {
std::string str(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
std::string time_of(const std::string& iso) {
  return iso.size() >= 16 ? iso.substr(11, 5) : iso;
}
}  // namespace

DaySummary render_summary(const nlohmann::json& schedule, const nlohmann::json& route, const nlohmann::json& weather) {
  DaySummary s;
  s.timeline = nlohmann::json::array();
  const bool has_route = route.is_object() && route.contains("wakeUpTime");
  if (has_route) {
    s.timeline.push_back({{"time", time_of(str(route, "wakeUpTime"))}, {"event", "Wake up"}});
    s.timeline.push_back({{"time", time_of(str(route, "departureTime"))}, {"event", "Leave home"}});
    s.timeline.push_back({{"time", time_of(str(route, "arrivalTime"))}, {"event", "Arrive at location"}});
  }
  s.timeline.push_back({{"time", str(schedule, "callTime")}, {"event", "Call time"}});

  const std::string title = str(schedule, "title").empty() ? "Shooting day" : str(schedule, "title");
  std::string text = title + " - " + str(schedule, "shootingDate") + "\n";
  text += "Call time: " + str(schedule, "callTime") + "\n";
  text += "Location: " + str(schedule, "location") + "\n";
  if (!str(schedule, "baseLocation").empty()) text += "Base: " + str(schedule, "baseLocation") + "\n";
  text += "\nTimeline:\n";
  for (const auto& t : s.timeline)
    text += "  " + t["time"].get<std::string>() + "  " + t["event"].get<std::string>() + "\n";
  if (has_route && route.contains("segments")) {
    text += "\nRoute:\n";
    for (const auto& seg : route["segments"]) {
      text +=
          "  " + str(seg, "from") + " -> " + str(seg, "to") + ": " + std::to_string(seg.value("minutes", 0)) + " min\n";
    }
  }
  if (weather.is_object() && weather.contains("description")) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "\nWeather: %s, %.0f °C, wind %.1f m/s\n", str(weather, "description").c_str(),
                  weather.value("temperature", 0.0), weather.value("windSpeed", 0.0));
    text += buf;
    if (weather.contains("warnings") && weather["warnings"].is_array()) {
      for (const auto& w : weather["warnings"]) {
        if (w.is_string()) s.warnings.push_back(w.get<std::string>());
      }
    }
  }
  if (schedule.contains("safetyNotes") && schedule["safetyNotes"].is_array() && !schedule["safetyNotes"].empty()) {
    text += "\nSafety notes:\n";
    for (const auto& n : schedule["safetyNotes"]) {
      if (n.is_string()) text += "  - " + n.get<std::string>() + "\n";
    }
  }
  if (!s.warnings.empty()) {
    text += "\nWarnings:\n";
    for (const auto& w : s.warnings) text += "  ! " + w + "\n";
  }
  s.text = text;

  std::string html =
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" + html_escape(title) + "</title></head><body>";
  html += "<h1>" + html_escape(title) + " &ndash; " + html_escape(str(schedule, "shootingDate")) + "</h1>";
  html += "<p><strong>Call time:</strong> " + html_escape(str(schedule, "callTime")) +
          "<br><strong>Location:</strong> " + html_escape(str(schedule, "location")) + "</p>";
  html += "<h2>Timeline</h2><ul>";
  for (const auto& t : s.timeline) {
    html += "<li>" + html_escape(t["time"].get<std::string>()) + " &ndash; " +
            html_escape(t["event"].get<std::string>()) + "</li>";
  }
  html += "</ul>";
  if (has_route && route.contains("segments")) {
    html += "<h2>Route</h2><ol>";
    for (const auto& seg : route["segments"]) {
      html += "<li>" + html_escape(str(seg, "from")) + " &rarr; " + html_escape(str(seg, "to")) + ": " +
              std::to_string(seg.value("minutes", 0)) + " min</li>";
    }
    html += "</ol>";
  }
  if (weather.is_object() && weather.contains("description")) {
    html += "<h2>Weather</h2><p>" + html_escape(str(weather, "description")) + "</p>";
  }
  if (schedule.contains("safetyNotes") && schedule["safetyNotes"].is_array() && !schedule["safetyNotes"].empty()) {
    html += "<h2>Safety notes</h2><ul>";
    for (const auto& n : schedule["safetyNotes"]) {
      if (n.is_string()) html += "<li>" + html_escape(n.get<std::string>()) + "</li>";
    }
    html += "</ul>";
  }
  if (!s.warnings.empty()) {
    html += "<h2>Warnings</h2><ul>";
    for (const auto& w : s.warnings) html += "<li>" + html_escape(w) + "</li>";
    html += "</ul>";
  }
  html += "</body></html>";
  s.html = html;
  return s;
}

}  // namespace sot::domain
