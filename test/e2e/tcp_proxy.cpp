#include "e2e/tcp_proxy.h"

#include <arpa/inet.h>
#include <array>
#include <chrono>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace sot::e2e {

namespace {

sockaddr_in loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// Writes all of `n` bytes; false when the peer is gone.
bool write_all(int fd, const char* data, ssize_t n) {
  while (n > 0) {
    const ssize_t w = write(fd, data, static_cast<std::size_t>(n));
    if (w <= 0) return false;
    data += w;
    n -= w;
  }
  return true;
}

}  // namespace

TcpProxy::TcpProxy(int target_port) : target_port_(target_port) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr = loopback(0);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listen_fd_, 64) != 0) {
    close(listen_fd_);
    throw std::runtime_error("tcp proxy: cannot listen on loopback");
  }
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TcpProxy::~TcpProxy() {
  stopping_ = true;
  shutdown(listen_fd_, SHUT_RDWR);
  close(listen_fd_);
  acceptor_.join();
  std::lock_guard lock(mu_);
  for (auto& t : pumps_) t.join();
}

void TcpProxy::accept_loop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const int client = accept(listen_fd_, nullptr, nullptr);
    if (client < 0) continue;
    const int upstream = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in target = loopback(target_port_);
    if (connect(upstream, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0) {
      close(client);
      close(upstream);
      continue;
    }
    std::lock_guard lock(mu_);
    pumps_.emplace_back([this, client, upstream] { pump(client, upstream); });
  }
}

void TcpProxy::pump(int client, int upstream) {
  std::array<pollfd, 2> fds{pollfd{client, POLLIN, 0}, pollfd{upstream, POLLIN, 0}};
  std::array<char, 16384> buf{};
  bool open = true;
  while (open && !stopping_) {
    if (frozen_) {  // hold the bytes where they are; the sockets stay open
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    if (poll(fds.data(), fds.size(), 100) <= 0) continue;
    for (std::size_t i = 0; i < fds.size() && open; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = read(fds[i].fd, buf.data(), buf.size());
      open = n > 0 && write_all(fds[1 - i].fd, buf.data(), n);
    }
  }
  close(client);
  close(upstream);
}

}  // namespace sot::e2e
