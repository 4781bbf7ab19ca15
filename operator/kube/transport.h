// The HTTP seam of the client. RestClient speaks Kubernetes; an HttpTransport
// only moves bytes. The one real implementation wraps cpprestsdk
// (cpprest_transport.cpp) so the library can be swapped without touching
// anything else; unit tests use a fake.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kube/config.h"
#include "kube/result.h"

namespace sot::kube {

struct HttpRequest {
  std::string method;          // GET, POST, PUT, PATCH, DELETE
  std::string path_and_query;  // already URL-encoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

// Cancels a running stream from another thread. Callbacks registered while the
// stream runs fire once, at cancel(); cancelling before registration fires at once.
class Cancellation {
 public:
  void cancel();
  bool cancelled() const;
  // Returns a handle for remove(). Runs `fn` immediately if already cancelled.
  std::size_t on_cancel(std::function<void()> fn);
  void remove(std::size_t handle);

 private:
  mutable std::mutex mu_;
  bool cancelled_ = false;
  std::size_t next_ = 0;
  std::vector<std::pair<std::size_t, std::function<void()>>> callbacks_;
};

// Receives each piece of a streamed body as it arrives; returns false to stop.
using DataHandler = std::function<bool(std::string_view)>;

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Sends a request and reads the whole answer. Transport failures (refused,
  // TLS, timeout) are Errors; any HTTP status is a response.
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
  // Sends a request and hands a 2xx body to `on_data` piece by piece as the
  // server writes it. For other statuses the body is collected into the response.
  virtual Result<HttpResponse> stream(const HttpRequest& request, const DataHandler& on_data, Cancellation& cancel) = 0;
  // "host:port" of the server, for metrics labels.
  virtual std::string host() const = 0;
};

std::unique_ptr<HttpTransport> make_cpprest_transport(const ClientConfig& config);

}  // namespace sot::kube
