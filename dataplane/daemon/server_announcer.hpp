// ServerAnnouncer: ASAP Server Announce (0x0a) over UDP multicast (asap.md 4.8, ASAP-ANN-01):
// every announce interval, uniformly randomised in [0.875, 1.125] x interval per cycle (RSPLIB),
// to [asap].announce_address with [asap].announce_ttl. The message (PR ID + SCTP transport TLV of
// the ASAP endpoint, + a TCP transport TLV in next-gen mode) is encoded once.
//
// Threading: event-loop thread only. start() is called by the Application once ENRP start-up has
// ended (or at once without ENRP); the first announce goes out immediately.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dataplane/runtime/event_loop.hpp"
#include "dataplane/kernel/udp_multicast_socket.hpp"
#include "registrar/common/expected.hpp"

namespace poolreg::daemon {

struct ServerAnnounceSettings {
  IpAddress group;
  std::uint16_t port = 3863;
  IpAddress interface_address = IpAddress::v4(0u);
  int ttl = 30;
  TimeNs interval = kNsPerSec;
};

class ServerAnnouncer {
 public:
  // The announcer, or why not: the socket cannot be opened or the message is empty.
  static Expected<std::unique_ptr<ServerAnnouncer>, std::string> create(
      runtime::EventLoop& loop, const ServerAnnounceSettings& settings, std::vector<std::uint8_t> message);
  ~ServerAnnouncer();
  ServerAnnouncer(const ServerAnnouncer&) = delete;
  ServerAnnouncer& operator=(const ServerAnnouncer&) = delete;

  void start();
  bool started() const noexcept { return timer_ != runtime::EventLoop::kNoTimer; }
  std::uint64_t sent() const noexcept { return socket_->sent(); }
  std::uint64_t send_errors() const noexcept { return socket_->send_errors(); }

 private:
  ServerAnnouncer(runtime::EventLoop& loop, const ServerAnnounceSettings& settings,
                  std::unique_ptr<kernel::UdpMulticastSocket> socket, std::vector<std::uint8_t> message);
  void announce();

  runtime::EventLoop& loop_;
  ServerAnnounceSettings settings_;
  std::unique_ptr<kernel::UdpMulticastSocket> socket_;
  std::vector<std::uint8_t> message_;
  std::mt19937_64 random_;
  runtime::EventLoop::TimerId timer_ = runtime::EventLoop::kNoTimer;
};

}  // namespace poolreg::daemon
