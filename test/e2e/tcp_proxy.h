// A loopback TCP proxy that can stop answering without closing anything: the
// fault of an API server (or a network path to it) that hangs. Frozen, it
// still accepts connections and keeps every socket open, but moves no byte in
// either direction until thawed.
#pragma once

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace sot::e2e {

class TcpProxy {
 public:
  // Listens on 127.0.0.1 (a free port) and forwards to 127.0.0.1:target_port.
  explicit TcpProxy(int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  void freeze() { frozen_ = true; }
  void thaw() { frozen_ = false; }

 private:
  void accept_loop();
  void pump(int client, int upstream);

  int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> frozen_{false};
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> pumps_;
};

}  // namespace sot::e2e
