// Boost.Asio adapter for HttpServer: one io_context thread, one short-lived
// connection per request (Connection: close), a 10 s deadline per connection
// and an 8 KiB cap on the request head, which is all probes and Prometheus need.
#include <atomic>
#include <charconv>
#include <thread>
#include <utility>  // Boost 1.74 asio uses std::exchange without including it (C++20)

#include <boost/asio.hpp>

#include "runtime/http_server.h"

namespace sot::runtime {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const std::map<std::string, HttpRoute>& routes)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), routes_(routes) {}

  void start() {
    timer_.expires_after(std::chrono::seconds(10));
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) {
        boost::system::error_code ignored;
        self->socket_.close(ignored);
      }
    });
    asio::async_read_until(
        socket_, asio::dynamic_buffer(buffer_, 8192), "\r\n\r\n",
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) { self->on_read(ec); });
  }

 private:
  void on_read(const boost::system::error_code& ec) {
    if (ec) {
      close();
      return;
    }
    HttpReply reply;
    const auto line_end = buffer_.find("\r\n");
    const std::string line = buffer_.substr(0, line_end);
    const auto sp1 = line.find(' ');
    const auto sp2 = line.find(' ', sp1 == std::string::npos ? 0 : sp1 + 1);
    bool head = false;
    if (sp1 == std::string::npos || sp2 == std::string::npos) {
      reply = {400, "text/plain; charset=utf-8", "bad request\n"};
    } else {
      const std::string method = line.substr(0, sp1);
      std::string path = line.substr(sp1 + 1, sp2 - sp1 - 1);
      if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
      head = method == "HEAD";
      auto it = routes_.find(path);
      if (method != "GET" && !head) {
        reply = {405, "text/plain; charset=utf-8", "method not allowed\n"};
      } else if (it == routes_.end()) {
        reply = {404, "text/plain; charset=utf-8", "404 page not found\n"};
      } else {
        try {
          reply = it->second();
        } catch (const std::exception& e) {
          reply = {500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what() + "\n"};
        }
      }
    }
    out_ = "HTTP/1.1 " + std::to_string(reply.status) + " " + std::string(reason_phrase(reply.status)) +
           "\r\nContent-Type: " + reply.content_type + "\r\nContent-Length: " + std::to_string(reply.body.size()) +
           "\r\nConnection: close\r\n\r\n";
    if (!head) out_ += reply.body;
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](const boost::system::error_code&, std::size_t) { self->close(); });
  }

  void close() {
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  const std::map<std::string, HttpRoute>& routes_;
  std::string buffer_;
  std::string out_;
};

class AsioHttpServer final : public HttpServer {
 public:
  AsioHttpServer(BindAddress address, std::map<std::string, HttpRoute> routes, Logger logger)
      : address_(std::move(address)), routes_(std::move(routes)), logger_(std::move(logger)), acceptor_(io_) {}
  ~AsioHttpServer() override { stop(); }

  kube::Status start() override {
    try {
      tcp::resolver resolver(io_);
      auto endpoints = resolver.resolve(address_.host, std::to_string(address_.port),
                                        tcp::resolver::passive | tcp::resolver::numeric_service);
      const tcp::endpoint ep = endpoints.begin()->endpoint();
      acceptor_.open(ep.protocol());
      acceptor_.set_option(tcp::acceptor::reuse_address(true));
      acceptor_.bind(ep);
      acceptor_.listen();
      port_ = acceptor_.local_endpoint().port();
    } catch (const std::exception& e) {
      return kube::make_error(kube::Code::kUnavailable, "cannot listen on " + address_.host + ":" +
                                                            std::to_string(address_.port) + ": " + e.what());
    }
    accept();
    thread_ = std::thread([this] {
      try {
        io_.run();
      } catch (const std::exception& e) {
        logger_.error("http server stopped", {{"error", e.what()}});
      }
    });
    return kube::ok_status();
  }

  void stop() override {
    if (!thread_.joinable()) return;
    asio::post(io_, [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
    });
    io_.stop();
    thread_.join();
  }

  int port() const override { return port_; }

 private:
  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted) return;
      } else {
        std::make_shared<Session>(std::move(socket), routes_)->start();
      }
      if (acceptor_.is_open()) accept();
    });
  }

  BindAddress address_;
  std::map<std::string, HttpRoute> routes_;
  Logger logger_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<int> port_{0};
};

}  // namespace

kube::Result<BindAddress> parse_bind_address(std::string_view text, std::string_view flag) {
  auto bad = [&](std::string_view why) {
    return kube::make_error(kube::Code::kInvalid,
                            std::string(flag) + ": \"" + std::string(text) + "\" " + std::string(why));
  };
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("is not host:port or :port");
  std::string host(text.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  const std::string_view port_text = text.substr(colon + 1);
  int port = -1;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port < 0 || port > 65535) {
    return bad("has no valid port (0-65535)");
  }
  return BindAddress{host, port};
}

std::unique_ptr<HttpServer> make_http_server(BindAddress address, std::map<std::string, HttpRoute> routes,
                                             Logger logger) {
  return std::make_unique<AsioHttpServer>(std::move(address), std::move(routes), std::move(logger));
}

}  // namespace sot::runtime
