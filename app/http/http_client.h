// Why: outbound HTTP (OAuth token exchange, OpenWeather, Google Maps) goes through this interface;
// the cpprestsdk adapter is the only file that knows cpprestsdk's client.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/result.h"
#include "http/http_types.h"

namespace sot::http {

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // absolute
  HeaderList headers;
  std::string body;
  std::chrono::milliseconds timeout{5000};
};

struct ClientResponse {
  int status = 0;
  HeaderList headers;  // names lower-case
  std::string body;
  std::string_view header(std::string_view lower_name) const {
    for (const auto& [n, v] : headers) {
      if (n == lower_name) return v;
    }
    return {};
  }
};

class Client {
 public:
  virtual ~Client() = default;
  // Transport failures are kBadGateway (or kUnavailable on timeout); any HTTP status is a value.
  [[nodiscard]] virtual Result<ClientResponse> send(const ClientRequest& request) = 0;
};

std::unique_ptr<Client> make_cpprest_client();

// scheme://host/path without the query, which may carry API keys.
std::string url_for_log(const std::string& url);

}  // namespace sot::http
