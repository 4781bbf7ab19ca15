// Why: maps (method, path) to a handler and to the route *template* ("/api/schedules/:id"), which
// is what metrics are labelled with, so label cardinality stays bounded whatever paths clients send.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sot::http {

template <typename HandlerT, typename OptionsT>
class Router {
 public:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> parts;
    OptionsT options;
    HandlerT handler;
  };

  struct Match {
    const Route* route = nullptr;
    bool method_not_allowed = false;
    std::string allowed;  // for 405's Allow header
    std::map<std::string, std::string> params;
  };

  void add(std::string method, std::string pattern, OptionsT options, HandlerT handler) {
    Route r{std::move(method), pattern, split(pattern), std::move(options), std::move(handler)};
    routes_.push_back(std::move(r));
  }

  Match match(std::string_view method, std::string_view path) const {
    Match m;
    const auto parts = split(path);
    for (const auto& route : routes_) {
      std::map<std::string, std::string> params;
      if (!matches(route.parts, parts, params)) continue;
      if (route.method == method || (method == "HEAD" && route.method == "GET")) {
        m.route = &route;
        m.params = std::move(params);
        m.method_not_allowed = false;
        return m;
      }
      m.method_not_allowed = true;
      if (m.allowed.find(route.method) == std::string::npos)
        m.allowed += (m.allowed.empty() ? "" : ", ") + route.method;
    }
    return m;
  }

 private:
  static std::vector<std::string> split(std::string_view path) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < path.size()) {
      if (path[start] == '/') {
        ++start;
        continue;
      }
      const auto end = path.find('/', start);
      out.emplace_back(path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
    return out;
  }

  static bool matches(const std::vector<std::string>& pattern, const std::vector<std::string>& parts,
                      std::map<std::string, std::string>& params) {
    if (pattern.size() != parts.size()) return false;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
      if (!pattern[i].empty() && pattern[i][0] == ':')
        params[pattern[i].substr(1)] = parts[i];
      else if (pattern[i] != parts[i])
        return false;
    }
    return true;
  }

  std::vector<Route> routes_;
};

}  // namespace sot::http
