// Why: the one interface between the application and whatever accepts HTTP connections.
// Handlers may block (they call Postgres and Redis synchronously), so the adapter runs them on a
// worker pool and keeps its event loops free; cheap probe paths can be declared inline.
// docs/server.md explains why the production adapter is Boost.Beast and not cpprestsdk's
// http_listener (measured: the listener tops out well below the required throughput).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "http/http_types.h"

namespace sot::http {

using Handler = std::function<Response(Request&)>;

struct ServerOptions {
  int threads = 2;          // I/O threads, each with its own event loop
  int worker_threads = 16;  // run handlers that may block (database, Redis, outbound HTTP)
  // Requests whose path this returns true for run on the I/O thread (cheap, never blocking:
  // health probes); all others go to the worker pool.
  std::function<bool(std::string_view path)> run_inline;
  std::size_t max_body_bytes = 10 * 1024 * 1024;
  // Time to receive the next whole request on a connection. When it passes with nothing received
  // the connection is closed silently; with part of a request received the client gets a 408.
  std::chrono::seconds idle_timeout{65};
  std::chrono::seconds read_timeout{30};  // to write a response
  // Called (on the accept loop) each time accepting a connection fails, e.g. out of file
  // descriptors; the loop then backs off instead of spinning.
  std::function<void()> on_accept_error;
};

class Server {
 public:
  virtual ~Server() = default;
  // Binds and starts serving; returns the bound port (useful with port 0).
  [[nodiscard]] virtual Result<std::uint16_t> start(const std::string& address, std::uint16_t port,
                                                    Handler handler) = 0;
  // Closes the listening socket; responses written from now on carry "Connection: close" and idle
  // keep-alive connections are closed, while requests already being handled complete.
  virtual void stop_accepting() = 0;
  // Waits until no request is being handled; false when the timeout passed first.
  virtual bool wait_idle(std::chrono::milliseconds timeout) = 0;
  // Closes every connection and joins the worker threads. Idempotent.
  virtual void stop() = 0;
  virtual std::size_t in_flight() const = 0;
};

std::unique_ptr<Server> make_beast_server(const ServerOptions& options);

}  // namespace sot::http
