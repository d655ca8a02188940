// UdpMulticastSocket: sends and receives UDP datagrams on an IPv4/IPv6 multicast group, for ASAP
// Server Announce (239.0.0.50:3863) and ENRP multicast Presence (239.0.0.51:9901), parameters.md §1.
// Off unless the daemon enables it. One datagram = one message (no framing).
//
// Threading: open(), send*() and the receive callback all run on the EventLoop thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "dataplane/runtime/event_loop.hpp"
#include "registrar/common/expected.hpp"
#include "registrar/common/ip_address.hpp"

namespace poolreg::kernel {

struct UdpMulticastConfig {
  IpAddress group = IpAddress::v4({239, 0, 0, 50});
  std::uint16_t port = 3863;
  // IPv4: address of the interface to send on / join on (0.0.0.0 = kernel's choice; 127.0.0.1 for
  // loopback tests). IPv6: interface_index selects the interface (0 = default).
  IpAddress interface_address = IpAddress::v4({0, 0, 0, 0});
  unsigned interface_index = 0;
  int ttl = 30;                // 1..255 (RSPLIB default 30)
  bool loopback = true;        // receive our own datagrams (IP_MULTICAST_LOOP)
  // true: join the group and bind group:port. false: send only, bound to an ephemeral port (a
  // receive callback still gets unicast datagrams sent to that port).
  bool receive = true;
  std::size_t max_datagram = 65535;
};

class UdpMulticastSocket {
 public:
  // payload is valid only during the call; from/from_port: the sender.
  using ReceiveCallback =
      std::function<void(std::span<const std::uint8_t> payload, const IpAddress& from, std::uint16_t from_port)>;

  // The socket, or the reason it cannot be opened (e.g. no multicast route). loop must outlive
  // the socket. on_receive may be empty (never polled then).
  static Expected<std::unique_ptr<UdpMulticastSocket>, std::string> open(runtime::EventLoop& loop,
                                                                         const UdpMulticastConfig& config,
                                                                         ReceiveCallback on_receive);
  ~UdpMulticastSocket();
  UdpMulticastSocket(const UdpMulticastSocket&) = delete;
  UdpMulticastSocket& operator=(const UdpMulticastSocket&) = delete;

  // To the group and port. false on error (datagram dropped; counted).
  bool send(std::span<const std::uint8_t> datagram);
  // Unicast through the same socket (e.g. replying to a sender, or tests without multicast).
  bool send_to(const IpAddress& address, std::uint16_t port, std::span<const std::uint8_t> datagram);

  std::uint16_t local_port() const noexcept { return local_port_; }
  std::uint64_t received() const noexcept { return received_; }
  std::uint64_t sent() const noexcept { return sent_; }
  std::uint64_t send_errors() const noexcept { return send_errors_; }

 private:
  UdpMulticastSocket(runtime::EventLoop& loop, int fd, const UdpMulticastConfig& config, ReceiveCallback on_receive);
  void on_readable();

  runtime::EventLoop& loop_;
  int fd_;
  UdpMulticastConfig config_;
  ReceiveCallback on_receive_;
  std::uint16_t local_port_ = 0;
  std::uint64_t received_ = 0;
  std::uint64_t sent_ = 0;
  std::uint64_t send_errors_ = 0;
};

}  // namespace poolreg::kernel
