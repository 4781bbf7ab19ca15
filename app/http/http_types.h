// Why: the application sees HTTP only through these plain structs, never through cpprestsdk or
// Beast types, so the server and client adapters can be swapped without touching handlers.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sot::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;  // names lower-case

struct Request {
  std::string method;
  std::string target;        // as sent: path plus query
  std::string path;          // percent-decoded path without the query
  std::string query_string;  // raw, without '?'
  HeaderList headers;
  std::string body;
  std::string remote_address;
  bool body_too_large = false;  // the adapter stopped reading at the configured limit

  std::string_view header(std::string_view lower_name) const;
  std::optional<std::string> query(std::string_view key) const;
};

struct Response {
  int status = 200;
  HeaderList headers;
  std::string body;

  void set_header(std::string name, std::string value);
  std::string_view header(std::string_view lower_name) const;
};

std::string url_decode(std::string_view text, bool plus_as_space);
std::string url_encode(std::string_view text);
std::string to_lower(std::string_view text);
const char* reason_phrase(int status);

}  // namespace sot::http
