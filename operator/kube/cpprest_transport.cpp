// The cpprestsdk adapter: the only file of the client that includes cpprest.
// Every exception cpprestsdk or Boost can throw is caught here and turned into
// an Error; none crosses this file.
//
// Two facts this relies on (cpprestsdk 2.10, asio backend): http_client::request
// completes when the response headers arrive while the body stream keeps filling
// as the server writes, so a watch is read event by event; and cancelling the
// request's token closes the connection, which ends a blocked body read.
#include <algorithm>
#include <cctype>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <system_error>
#include <utility>  // Boost 1.74 asio uses std::exchange without including it (C++20)

#include <boost/asio/ssl.hpp>
#include <cpprest/http_client.h>
#include <cpprest/rawptrstream.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pplx/threadpool.h>

#include "kube/transport.h"

namespace sot::kube {
namespace {

namespace http = web::http;

constexpr std::size_t kIoThreads = 6;
namespace client = web::http::client;

bool contains_ci(std::string_view hay, std::string_view needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
  return it != hay.end();
}

Error transport_error(const std::string& server, const std::string& what, std::error_code ec = {}) {
  if (contains_ci(what, "ssl") || contains_ci(what, "handshake") || contains_ci(what, "certificate")) {
    return make_error(Code::kTls,
                      "TLS handshake with " + server + " failed (is the certificate authority right?): " + what);
  }
  if (ec == std::errc::timed_out || contains_ci(what, "timed out") || contains_ci(what, "timeout")) {
    return make_error(Code::kTimeout, "request to " + server + " timed out: " + what);
  }
  return make_error(Code::kUnavailable, "cannot reach " + server + ": " + what);
}

class CpprestTransport final : public HttpTransport {
 public:
  explicit CpprestTransport(const ClientConfig& cfg)
      : server_(cfg.server), ca_pem_(cfg.ca_pem), cert_pem_(cfg.client_cert_pem), key_pem_(cfg.client_key_pem) {
    web::uri uri(server_);
    host_ = uri.host() + ":" + std::to_string(uri.port() > 0 ? uri.port() : 443);
    client_ = std::make_shared<client::http_client>(server_, make_config(kDefaultTimeout));
  }

  std::string host() const override { return host_; }

  // The request's timeout is a hard bound on the whole exchange (connect, TLS
  // handshake, headers and body). cpprestsdk's own timeout restarts per phase
  // (a hung TLS handshake was seen to take twice the timeout), so the answer is
  // awaited here with the deadline and the request cancelled when it passes.
  Result<HttpResponse> send(const HttpRequest& request) override {
    using Answer = Result<HttpResponse>;
    auto answer = std::make_shared<std::promise<Answer>>();
    std::future<Answer> future = answer->get_future();
    pplx::cancellation_token_source cts;
    try {
      std::shared_ptr<client::http_client> c = client_for(request.timeout);
      c->request(to_cpprest(request), cts.get_token())
          .then([](const http::http_response& resp) {
            return resp.extract_vector().then([status = resp.status_code()](const std::vector<unsigned char>& bytes) {
              HttpResponse out;
              out.status = status;
              out.body.assign(bytes.begin(), bytes.end());
              return out;
            });
          })
          .then([answer, server = server_, timeout = rounded(request.timeout),
                 start = std::chrono::steady_clock::now()](pplx::task<HttpResponse> done) {
            try {
              answer->set_value(done.get());
            } catch (const http::http_exception& e) {
              // cpprestsdk reports a handshake its timer cut short as a TLS
              // failure; it was a server that did not answer.
              if (std::chrono::steady_clock::now() - start >= timeout - std::chrono::milliseconds(100)) {
                answer->set_value(make_error(Code::kTimeout, "request to " + server + " timed out after " +
                                                                 std::to_string(timeout.count()) + " ms: " + e.what()));
                return;
              }
              answer->set_value(transport_error(server, e.what(), e.error_code()));
            } catch (const pplx::task_canceled&) {
              answer->set_value(make_error(Code::kTimeout, "request to " + server + " cancelled at its deadline"));
            } catch (const std::exception& e) {
              answer->set_value(transport_error(server, e.what()));
            }
          });
    } catch (const http::http_exception& e) {
      return transport_error(server_, e.what(), e.error_code());
    } catch (const std::exception& e) {
      return transport_error(server_, e.what());
    }
    if (future.wait_for(request.timeout) == std::future_status::timeout) {
      cts.cancel();  // the exchange finishes in the background; `answer` outlives it
      return make_error(Code::kTimeout, "request to " + server_ + " timed out after " +
                                            std::to_string(request.timeout.count()) + " ms");
    }
    return future.get();
  }

  Result<HttpResponse> stream(const HttpRequest& request, const DataHandler& on_data, Cancellation& cancel) override {
    pplx::cancellation_token_source cts;
    // cts is a shared handle: the copy in the callback stays valid if cancel()
    // runs while this function returns.
    const std::size_t reg = cancel.on_cancel([cts]() mutable { cts.cancel(); });
    struct Unregister {
      Cancellation& c;
      std::size_t id;
      ~Unregister() { c.remove(id); }
    } unregister{cancel, reg};

    try {
      client::http_client c(server_, make_config(request.timeout));
      http::http_response resp = c.request(to_cpprest(request), cts.get_token()).get();
      HttpResponse out;
      out.status = resp.status_code();
      if (out.status < 200 || out.status >= 300) {
        auto bytes = resp.extract_vector().get();
        out.body.assign(bytes.begin(), bytes.end());
        return out;
      }
      auto buf = resp.body().streambuf();
      // 16 KiB: most watch events fit, larger ones span reads (the decoder
      // joins lines), and an operator holds one of these per watch.
      std::vector<uint8_t> chunk(16 * 1024);
      for (;;) {
        // Ask for one byte (completes as soon as anything arrived), then take
        // whatever else is already buffered without waiting for more.
        std::size_t n = buf.getn(chunk.data(), 1).get();
        if (n == 0) break;  // end of stream
        const std::size_t avail = std::min<std::size_t>(buf.in_avail(), chunk.size() - 1);
        if (avail > 0) n += buf.getn(chunk.data() + 1, avail).get();
        if (!on_data(std::string_view(reinterpret_cast<const char*>(chunk.data()), n))) {
          cts.cancel();
          break;
        }
      }
      return out;
    } catch (const http::http_exception& e) {
      if (cancel.cancelled()) return make_error(Code::kCancelled, "watch cancelled");
      return transport_error(server_, e.what(), e.error_code());
    } catch (const pplx::task_canceled&) {
      return make_error(Code::kCancelled, "watch cancelled");
    } catch (const std::exception& e) {
      if (cancel.cancelled()) return make_error(Code::kCancelled, "watch cancelled");
      return transport_error(server_, e.what());
    }
  }

 private:
  static constexpr std::chrono::milliseconds kDefaultTimeout{std::chrono::seconds(30)};

  // A cpprestsdk client has one timeout for all its requests, and each client
  // keeps its own connections. Shorter timeouts (requests under a deadline,
  // see kube/deadline.h) are rounded down to whole seconds (100 ms steps below
  // one second) so that the few values in use each keep a warm connection
  // instead of a TLS handshake per request.
  std::shared_ptr<client::http_client> client_for(std::chrono::milliseconds timeout) {
    if (timeout == kDefaultTimeout) return client_;
    const std::chrono::milliseconds key = rounded(timeout);
    std::lock_guard lock(clients_mu_);
    auto& slot = clients_[key];
    if (!slot) {
      if (clients_.size() > kMaxClients) {  // bounded: start over (users hold their own references)
        clients_.clear();
        return clients_[key] = std::make_shared<client::http_client>(server_, make_config(key));
      }
      slot = std::make_shared<client::http_client>(server_, make_config(key));
    }
    return slot;
  }
  static constexpr std::size_t kMaxClients = 16;
  static std::chrono::milliseconds rounded(std::chrono::milliseconds timeout) {
    if (timeout == kDefaultTimeout) return timeout;
    const auto ms = timeout.count();
    return std::chrono::milliseconds{ms >= 1000 ? ms / 1000 * 1000 : std::max<long long>(50, ms / 100 * 100)};
  }

  client::http_client_config make_config(std::chrono::milliseconds timeout) const {
    client::http_client_config cfg;
    cfg.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
    cfg.set_validate_certificates(true);
    const std::string ca = ca_pem_;
    const std::string cert = cert_pem_;
    const std::string key = key_pem_;
    cfg.set_ssl_context_callback([ca, cert, key](boost::asio::ssl::context& ctx) {
      if (!ca.empty()) {
        // Trust exactly the configured authority, not the system store as well.
        SSL_CTX_set_cert_store(ctx.native_handle(), X509_STORE_new());
        ctx.add_certificate_authority(boost::asio::buffer(ca.data(), ca.size()));
      }
      if (!cert.empty()) {
        ctx.use_certificate_chain(boost::asio::buffer(cert.data(), cert.size()));
        ctx.use_private_key(boost::asio::buffer(key.data(), key.size()), boost::asio::ssl::context::pem);
      }
    });
    return cfg;
  }

  static http::http_request to_cpprest(const HttpRequest& request) {
    http::http_request req(request.method);
    req.set_request_uri(web::uri(request.path_and_query));
    std::string content_type;
    for (const auto& [k, v] : request.headers) {
      if (k == "Content-Type") {
        content_type = v;
      } else {
        req.headers().add(k, v);
      }
    }
    if (!request.body.empty() || !content_type.empty()) {
      std::vector<unsigned char> bytes(request.body.begin(), request.body.end());
      const auto size = bytes.size();
      req.set_body(concurrency::streams::bytestream::open_istream(std::move(bytes)), size,
                   content_type.empty() ? std::string("application/json") : content_type);
    }
    return req;
  }

  std::string server_;
  std::string host_;
  std::string ca_pem_;
  std::string cert_pem_;
  std::string key_pem_;
  std::shared_ptr<client::http_client> client_;
  std::mutex clients_mu_;
  std::map<std::chrono::milliseconds, std::shared_ptr<client::http_client>> clients_;
};

}  // namespace

std::unique_ptr<HttpTransport> make_cpprest_transport(const ClientConfig& config) {
  // cpprestsdk's shared pool starts 40 threads by default. Our callers block in
  // their own threads and the pool only drives asio's non-blocking I/O, so a
  // few threads carry every watch and request; each thread costs stack and
  // allocator state. Sized once, before the pool's first use.
  static std::once_flag pool_sized;
  std::call_once(pool_sized, [] {
    try {
      crossplat::threadpool::initialize_with_threads(kIoThreads);
    } catch (const std::exception&) {
      // Already started by someone else in this process: keep its size.
    }
  });
  return std::make_unique<CpprestTransport>(config);
}

}  // namespace sot::kube
