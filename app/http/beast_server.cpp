// Why: the production HTTP server adapter, on Boost.Beast. One event loop per I/O thread (no
// strands, no cross-thread wake-ups on the hot path; connections are spread round-robin), and a
// separate worker pool for handlers that block on Postgres or Redis, so a slow query never stalls
// a loop. The adapter owns the HTTP mechanics only: parsing, the body limit, keep-alive, timeouts
// and graceful draining. docs/server.md has the measurements behind this shape.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <list>
#include <mutex>
#include <random>
#include <thread>
#include <utility>  // boost 1.74 asio/awaitable.hpp uses std::exchange without including it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/log.h"
#include "http/http_server.h"

namespace sot::http {
namespace {

// A request the parser refused never reaches the application, which assigns request ids; it
// still gets one, so every error a client sees has the same {error, message, requestId} shape.
std::string malformed_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(24, '0');
  for (auto& c : id) c = kHex[rng() & 15];
  return id;
}

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

class BeastServer;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, BeastServer& server);
  void run();
  void close_if_idle();

 private:
  void do_read();
  void on_read(beast::error_code ec, std::size_t bytes);
  void write(Response out, unsigned version, bool keep_alive);
  void on_write(bool keep_alive, beast::error_code ec, std::size_t bytes);
  void do_close();
  void arm_deadline();

  beast::tcp_stream stream_;
  asio::steady_timer deadline_;  // the idle/request deadline (ours, so a timeout can still answer 408)
  bool timed_out_ = false;
  std::uint64_t read_generation_ = 0;  // a deadline only counts for the read it was armed for
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
  BeastServer& server_;
  bool busy_ = false;  // only touched on this connection's event loop
  std::string remote_;
};

class BeastServer final : public Server {
 public:
  explicit BeastServer(const ServerOptions& options)
      : options_(options), workers_(std::max(1, options.worker_threads)) {
    const int loops = std::max(1, options_.threads);
    for (int i = 0; i < loops; ++i) {
      contexts_.push_back(std::make_unique<asio::io_context>(1));
      guards_.emplace_back(contexts_.back()->get_executor());
    }
    acceptor_.emplace(*contexts_[0]);
    accept_backoff_.emplace(*contexts_[0]);
  }
  ~BeastServer() override { stop(); }

  Result<std::uint16_t> start(const std::string& address, std::uint16_t port, Handler handler) override {
    handler_ = std::move(handler);
    beast::error_code ec;
    const auto ip = asio::ip::make_address(address, ec);
    if (ec) return make_error(ErrorCode::kInvalid, "bad bind address \"" + address + "\": " + ec.message());
    const tcp::endpoint endpoint(ip, port);
    acceptor_->open(endpoint.protocol(), ec);
    if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(endpoint, ec);
    if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return make_error(ErrorCode::kUnavailable,
                        "cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
    }
    const auto bound = acceptor_->local_endpoint().port();
    do_accept();
    for (auto& ctx : contexts_) {
      threads_.emplace_back([c = ctx.get()] { c->run(); });
    }
    return static_cast<std::uint16_t>(bound);
  }

  void stop_accepting() override {
    if (draining_.exchange(true)) return;
    asio::post(*contexts_[0], [this] {
      beast::error_code ignored;
      acceptor_->close(ignored);
      accept_backoff_->cancel();
    });
    for (auto& session : live_sessions()) session->close_if_idle();
  }

  bool wait_idle(std::chrono::milliseconds timeout) override {
    std::unique_lock<std::mutex> lock(idle_mutex_);
    return idle_cv_.wait_for(lock, timeout, [this] { return in_flight_.load() == 0; });
  }

  void stop() override {
    if (stopped_.exchange(true)) return;
    draining_ = true;
    workers_.join();
    guards_.clear();
    for (auto& ctx : contexts_) ctx->stop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    threads_.clear();
  }

  std::size_t in_flight() const override { return in_flight_.load(); }

  // Used by sessions.
  const ServerOptions& options() const { return options_; }
  bool draining() const { return draining_.load(std::memory_order_relaxed); }
  bool inline_path(std::string_view path) const { return options_.run_inline && options_.run_inline(path); }
  asio::thread_pool& workers() { return workers_; }
  Response handle(Request& request) {
    try {
      return handler_(request);
    } catch (const std::exception& e) {
      // Handlers return errors as values; reaching here is a bug, but one request must not take
      // the process down.
      log::error("handler threw", {{"error", e.what()}, {"path", request.path}});
      return Response{500,
                      {{"content-type", "application/json"}},
                      R"({"error":"internal_error","message":"internal error","requestId":null})"};
    }
  }
  void begin_request() { in_flight_.fetch_add(1); }
  void end_request() {
    if (in_flight_.fetch_sub(1) == 1) {
      std::lock_guard<std::mutex> lock(idle_mutex_);
      idle_cv_.notify_all();
    }
  }

 private:
  std::vector<std::shared_ptr<Session>> live_sessions() {
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    std::vector<std::shared_ptr<Session>> out;
    for (auto& weak : sessions_) {
      if (auto s = weak.lock()) out.push_back(std::move(s));
    }
    return out;
  }

  void register_session(const std::shared_ptr<Session>& session) {
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    // Prune dead entries as we go so the list stays proportional to open connections.
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if (it->expired())
        it = sessions_.erase(it);
      else
        ++it;
    }
    sessions_.push_back(session);
  }

  void do_accept() {
    auto& loop = *contexts_[next_context_++ % contexts_.size()];
    acceptor_->async_accept(loop, [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor_->is_open()) return;
        on_accept_failed(ec);
        return;
      }
      accept_delay_ = std::chrono::milliseconds(0);
      if (!draining()) {
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        auto session = std::make_shared<Session>(std::move(socket), *this);
        register_session(session);
        session->run();
      }
      if (acceptor_->is_open()) do_accept();
    });
  }

  // Accepting failed (EMFILE, ENFILE, ENOBUFS, ...). Retrying at once would fail again at once, a
  // busy loop writing a log line per turn, so wait, doubling from 10 ms to 1 s, and log one line
  // per 10 s carrying how many failures it stands for.
  void on_accept_failed(const beast::error_code& ec) {
    if (options_.on_accept_error) options_.on_accept_error();
    ++accept_failures_unlogged_;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_accept_log_ >= std::chrono::seconds(10)) {
      log::warn("accept failed; backing off", {{"error", ec.message()}, {"failures", accept_failures_unlogged_}});
      accept_failures_unlogged_ = 0;
      last_accept_log_ = now;
    }
    accept_delay_ = std::clamp(accept_delay_ * 2, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
    accept_backoff_->expires_after(accept_delay_);
    accept_backoff_->async_wait([this](beast::error_code wait_ec) {
      if (wait_ec || !acceptor_->is_open()) return;
      do_accept();
    });
  }

  ServerOptions options_;
  std::chrono::milliseconds accept_delay_{0};
  std::chrono::steady_clock::time_point last_accept_log_{};
  long accept_failures_unlogged_ = 0;
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::optional<tcp::acceptor> acceptor_;
  std::optional<asio::steady_timer> accept_backoff_;  // on contexts_[0] like the acceptor; declared after contexts_
  asio::thread_pool workers_;
  std::size_t next_context_ = 0;
  Handler handler_;
  std::vector<std::thread> threads_;
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<std::size_t> in_flight_{0};
  std::mutex idle_mutex_;
  std::condition_variable idle_cv_;
  std::mutex sessions_mutex_;
  std::list<std::weak_ptr<Session>> sessions_;
};

Session::Session(tcp::socket&& socket, BeastServer& server)
    : stream_(std::move(socket)), deadline_(stream_.get_executor()), server_(server) {
  beast::error_code ec;
  const auto endpoint = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_ = endpoint.address().to_string();
}

void Session::run() {
  asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::do_read, shared_from_this()));
}

void Session::close_if_idle() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    if (!self->busy_) self->do_close();
  });
}

void Session::do_read() {
  if (server_.draining()) {
    do_close();
    return;
  }
  parser_.emplace();
  parser_->body_limit(server_.options().max_body_bytes);
  parser_->header_limit(64 * 1024);
  stream_.expires_never();
  ++read_generation_;
  arm_deadline();
  bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
}

void Session::arm_deadline() {
  deadline_.expires_after(server_.options().idle_timeout);
  deadline_.async_wait([self = shared_from_this(), generation = read_generation_](beast::error_code ec) {
    // Cancelled (the request arrived, the connection closed), or fired just as the read completed.
    if (ec || generation != self->read_generation_) return;
    self->timed_out_ = true;
    beast::error_code ignored;
    self->stream_.socket().cancel(ignored);
  });
}

void Session::on_read(beast::error_code ec, std::size_t) {
  ++read_generation_;
  deadline_.cancel();
  if (timed_out_) {
    timed_out_ = false;
    // Part of a request came and the rest did not: say so (RFC 9110 408) before closing. A
    // connection that sent nothing is simply closed, as keep-alive peers expect.
    if (parser_->got_some() || buffer_.size() > 0) {
      busy_ = true;
      server_.begin_request();
      write(
          Response{408,
                   {{"content-type", "application/json"}},
                   R"({"error":"request_timeout","message":"the request was not completed in time","requestId":null})"},
          11, false);
      return;
    }
    do_close();
    return;
  }
  if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted || ec == beast::error::timeout ||
      ec == asio::error::connection_reset || ec == asio::error::eof) {
    do_close();
    return;
  }
  busy_ = true;
  server_.begin_request();
  const bool too_large = ec == bhttp::error::body_limit;
  if (ec && !too_large) {
    // Malformed request: answer 400 and close, as the stream position is now unknown.
    const std::string id = malformed_request_id();
    write(Response{400,
                   {{"content-type", "application/json; charset=utf-8"}, {"x-request-id", id}},
                   R"({"error":"bad_request","message":"malformed HTTP request","requestId":")" + id + "\"}"},
          11, false);
    return;
  }
  auto& in = parser_->get();
  auto request = std::make_shared<Request>();
  request->method = std::string(in.method_string());
  request->target = std::string(in.target());
  const auto q = request->target.find('?');
  request->path = url_decode(std::string_view(request->target).substr(0, q), false);
  if (q != std::string::npos) request->query_string = request->target.substr(q + 1);
  request->headers.reserve(16);
  for (const auto& field : in) {
    request->headers.emplace_back(to_lower(field.name_string()), std::string(field.value()));
  }
  if (!too_large) request->body = std::move(in.body());
  request->remote_address = remote_;
  request->body_too_large = too_large;
  const bool client_keep_alive = in.keep_alive() && !too_large;
  const unsigned version = in.version();

  if (server_.inline_path(request->path)) {
    write(server_.handle(*request), version, client_keep_alive);
    return;
  }
  asio::post(server_.workers(), [self = shared_from_this(), request, version, client_keep_alive]() mutable {
    Response out = self->server_.handle(*request);
    asio::post(self->stream_.get_executor(), [self, out = std::move(out), version, client_keep_alive]() mutable {
      self->write(std::move(out), version, client_keep_alive);
    });
  });
}

void Session::write(Response out, unsigned version, bool client_keep_alive) {
  const bool keep_alive = client_keep_alive && !server_.draining();
  response_ = {};
  response_.version(version);
  response_.result(static_cast<unsigned>(out.status));
  for (auto& [name, value] : out.headers) response_.insert(name, value);
  response_.body() = std::move(out.body);
  response_.keep_alive(keep_alive);
  response_.prepare_payload();
  stream_.expires_after(server_.options().read_timeout);
  bhttp::async_write(stream_, response_, beast::bind_front_handler(&Session::on_write, shared_from_this(), keep_alive));
}

void Session::on_write(bool keep_alive, beast::error_code ec, std::size_t) {
  busy_ = false;
  server_.end_request();
  if (ec || !keep_alive) {
    do_close();
    return;
  }
  do_read();
}

void Session::do_close() {
  deadline_.cancel();
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.socket().close(ignored);
}

}  // namespace

std::unique_ptr<Server> make_beast_server(const ServerOptions& options) {
  return std::make_unique<BeastServer>(options);
}

}  // namespace sot::http
