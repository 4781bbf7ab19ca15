// The probe and metrics endpoints need only "GET a path, answer a small body".
// HttpServer is that seam; the one implementation (asio_http_server.cpp) uses
// Boost.Asio on a single thread, so the HTTP library can be swapped without
// touching the manager. Exceptions from Asio never leave the adapter.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "kube/result.h"
#include "runtime/logger.h"

namespace sot::runtime {

struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Called on the server thread for a GET/HEAD of an exact path (query ignored).
using HttpRoute = std::function<HttpReply()>;

class HttpServer {
 public:
  virtual ~HttpServer() = default;
  // Binds and starts serving; an Error names the address when it cannot bind.
  virtual kube::Status start() = 0;
  virtual void stop() = 0;
  // The bound port (useful with port 0); 0 before start().
  virtual int port() const = 0;
};

struct BindAddress {
  std::string host;  // "0.0.0.0" when the flag gave only ":port"
  int port = 0;
};

// ":8080", "127.0.0.1:0", "[::1]:9090", "localhost:8081". Errors name `flag`.
kube::Result<BindAddress> parse_bind_address(std::string_view text, std::string_view flag);

std::unique_ptr<HttpServer> make_http_server(BindAddress address, std::map<std::string, HttpRoute> routes,
                                             Logger logger = Logger());

}  // namespace sot::runtime
