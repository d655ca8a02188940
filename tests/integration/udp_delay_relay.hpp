// UdpDelayRelay: a far network path for SCTP over UDP (RFC 6951) on loopback, in user space (no
// netem on the test hosts): a UDP socket on 127.0.0.1 that forwards every datagram from a client
// to `target` (the registrar's UDP encapsulation port) and every datagram from `target` back to
// the client it heard last, each `delay` later. A PE pointed at port() instead of the registrar
// runs its association over a path with an RTT of 2 x delay plus loopback.
//
// One thread of its own (a poll loop, 5 ms at most per wait), stopped and joined by the
// destructor; the queue is bounded (kMaxQueued datagrams in flight, more are dropped and counted).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <thread>
#include <vector>

namespace poolreg::integration {

class UdpDelayRelay {
 public:
  static constexpr std::size_t kMaxQueued = 4096;

  UdpDelayRelay(std::uint16_t target_port, std::chrono::milliseconds delay) : delay_(delay) {
    target_.sin_family = AF_INET;
    target_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    target_.sin_port = htons(target_port);
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof local;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len) != 0)
      return;
    port_ = ntohs(local.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~UdpDelayRelay() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  UdpDelayRelay(const UdpDelayRelay&) = delete;
  UdpDelayRelay& operator=(const UdpDelayRelay&) = delete;

  // 0 when the socket could not be opened.
  std::uint16_t port() const noexcept { return port_; }
  std::uint64_t forwarded() const noexcept { return forwarded_.load(); }
  std::uint64_t dropped() const noexcept { return dropped_.load(); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Datagram {
    Clock::time_point due;
    sockaddr_in to{};
    std::vector<std::uint8_t> bytes;
  };

  void run() {
    std::deque<Datagram> queue;  // constant delay: due times are in arrival order
    std::vector<std::uint8_t> buf(65536);
    sockaddr_in client{};
    bool have_client = false;
    while (!stop_.load()) {
      int wait_ms = 5;
      if (!queue.empty()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(queue.front().due - Clock::now());
        wait_ms = static_cast<int>(std::clamp<long long>(left.count(), 0, 5));
      }
      pollfd p{fd_, POLLIN, 0};
      ::poll(&p, 1, wait_ms);
      for (int burst = 0; burst < 64; ++burst) {
        sockaddr_in from{};
        socklen_t len = sizeof from;
        const ssize_t n = ::recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 0) break;
        const bool from_target = from.sin_addr.s_addr == target_.sin_addr.s_addr && from.sin_port == target_.sin_port;
        if (!from_target) {
          client = from;
          have_client = true;
        }
        if (from_target && !have_client) continue;
        if (queue.size() >= kMaxQueued) {
          dropped_.fetch_add(1);
          continue;
        }
        queue.push_back(Datagram{Clock::now() + delay_, from_target ? client : target_,
                                 std::vector<std::uint8_t>(buf.begin(), buf.begin() + n)});
      }
      const auto now = Clock::now();
      while (!queue.empty() && queue.front().due <= now) {
        const Datagram& d = queue.front();
        ::sendto(fd_, d.bytes.data(), d.bytes.size(), 0, reinterpret_cast<const sockaddr*>(&d.to), sizeof d.to);
        forwarded_.fetch_add(1);
        queue.pop_front();
      }
    }
  }

  std::chrono::milliseconds delay_;
  sockaddr_in target_{};
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> forwarded_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::thread thread_;
};

}  // namespace poolreg::integration
