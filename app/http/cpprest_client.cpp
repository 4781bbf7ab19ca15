// Why: the cpprestsdk adapter for outbound HTTP. cpprestsdk was archived upstream; everything it
// throws is caught here and turned into an Error whose message never includes the query string
// (OpenWeather and Google Maps put API keys there).
#include <cpprest/http_client.h>

#include "http/http_client.h"

namespace sot::http {
namespace {

class CpprestClient final : public Client {
 public:
  Result<ClientResponse> send(const ClientRequest& request) override {
    try {
      web::http::client::http_client_config config;
      config.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(request.timeout));
      web::http::client::http_client client(web::uri(utility::conversions::to_string_t(request.url)), config);
      web::http::http_request out(utility::conversions::to_string_t(request.method));
      std::string content_type;
      for (const auto& [name, value] : request.headers) {
        if (name == "content-type") {
          content_type = value;
          continue;
        }
        out.headers().add(utility::conversions::to_string_t(name), utility::conversions::to_string_t(value));
      }
      if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
        out.set_body(request.body, content_type.empty() ? "application/octet-stream" : content_type);
      }
      web::http::http_response response = client.request(out).get();
      ClientResponse result;
      result.status = response.status_code();
      for (const auto& [name, value] : response.headers()) {
        result.headers.emplace_back(to_lower(utility::conversions::to_utf8string(name)),
                                    utility::conversions::to_utf8string(value));
      }
      const auto bytes = response.extract_vector().get();
      result.body.assign(bytes.begin(), bytes.end());
      return result;
    } catch (const web::http::http_exception& e) {
      const std::string what = e.what();
      const bool timeout = what.find("timed out") != std::string::npos || what.find("timeout") != std::string::npos;
      return make_error(timeout ? ErrorCode::kUnavailable : ErrorCode::kBadGateway,
                        "request to " + url_for_log(request.url) + " failed: " + what);
    } catch (const std::exception& e) {
      return make_error(ErrorCode::kBadGateway, "request to " + url_for_log(request.url) + " failed: " + e.what());
    }
  }
};

}  // namespace

std::unique_ptr<Client> make_cpprest_client() {
  return std::make_unique<CpprestClient>();
}

std::string url_for_log(const std::string& url) {
  const auto q = url.find_first_of("?#");
  return url.substr(0, q);
}

}  // namespace sot::http
