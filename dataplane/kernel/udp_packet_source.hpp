// UdpPacketSource: SCTP over UDP (RFC 6951) on one kernel UDP socket, the packet source of one
// kernel lane. Every lane opens its own socket on the same port with SO_REUSEPORT (in lane order:
// the group's index of a socket is its lane), and the group's cBPF program
// (reuseport_steering.hpp) puts each peer on its owner lane's socket; without it the kernel's
// 4-tuple hash spreads the peers, and the lane hands the packets of peers that belong to another
// lane (runtime::steer_lane) to that lane.
//
// - receive(): up to kBurst datagrams with one recvmmsg (non-blocking); each is reported with the
//   peer's address and UDP port (IPv4 peers of a dual-stack socket as IPv4).
// - send_sctp() (sctp::SctpPacketPath): queues one datagram; flush() sends the batch with
//   sendmmsg (also done when the batch is full). The source address is the kernel's choice (the
//   socket is bound to the wildcard, or to the one listen address).
// - Bad input never crashes: truncated datagrams (larger than kMaxDatagram) and datagrams shorter
//   than an SCTP common header are dropped and counted.
//
// Threading: one lane's thread only (open() on the control thread before the lane starts). Owns
// its socket.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/kernel/kernel_lane_counters.hpp"
#include "dataplane/sctp/sctp_packet_path.hpp"
#include "registrar/common/expected.hpp"
#include "registrar/common/ip_address.hpp"

namespace poolreg::kernel {

class UdpPacketSource final : public sctp::SctpPacketPath {
 public:
  static constexpr unsigned kBurst = 32;
  static constexpr std::size_t kMaxDatagram = 9216;  // jumbo frame; SCTP packets are kept below it

  // A non-blocking UDP socket on `port` (0: a free port; the group's later sockets then use
  // the port the first one got) with SO_REUSEPORT, bound to `address` (none: the IPv6 wildcard,
  // dual-stack, or the IPv4 one where the host has no IPv6).
  static Expected<std::unique_ptr<UdpPacketSource>, std::string> open(const std::optional<IpAddress>& address,
                                                                      std::uint16_t port, KernelLaneCounters& counters);
  // Fails when `port` is taken by a socket outside the group about to be opened: SO_REUSEPORT
  // would otherwise let a second process of the same user share the port silently. A bind
  // without SO_REUSEPORT, closed at once.
  static Expected<void, std::string> check_port_free(const std::optional<IpAddress>& address, std::uint16_t port);
  ~UdpPacketSource() override;
  UdpPacketSource(const UdpPacketSource&) = delete;
  UdpPacketSource& operator=(const UdpPacketSource&) = delete;

  int fd() const noexcept { return fd_; }
  std::uint16_t port() const noexcept { return port_; }

  // Reads one batch and calls deliver(const sctp::SctpPacketFrom&, const std::uint8_t*, std::uint16_t)
  // for every usable datagram; returns the number of datagrams read (0: nothing waiting).
  template <typename Deliver>
  unsigned receive(Deliver&& deliver);

  bool send_sctp(const sctp::SctpPeer& to, const std::uint8_t* packet, std::uint16_t length) override;
  // Every peer but a native one (UDP port 0: raw_sctp_source.hpp).
  bool reaches(const sctp::SctpPeer& to) const override { return to.udp_port != 0; }
  std::uint8_t path_index() const noexcept override { return 0; }
  // Sends what send_sctp() queued.
  void flush();

 private:
  UdpPacketSource(int fd, std::uint16_t port, bool ipv6_socket, KernelLaneCounters& counters);
  unsigned read_batch();
  bool parse(unsigned i, sctp::SctpPacketFrom& from) const;

  int fd_ = -1;
  std::uint16_t port_ = 0;
  bool ipv6_socket_ = false;
  KernelLaneCounters& counters_;
  // Receive batch.
  std::vector<std::uint8_t> rx_buffers_;  // kBurst * kMaxDatagram
  std::array<mmsghdr, kBurst> rx_msgs_{};
  std::array<iovec, kBurst> rx_iov_{};
  std::array<sockaddr_storage, kBurst> rx_from_{};
  // Transmit batch.
  std::vector<std::uint8_t> tx_buffers_;  // kBurst * kMaxDatagram
  std::array<mmsghdr, kBurst> tx_msgs_{};
  std::array<iovec, kBurst> tx_iov_{};
  std::array<sockaddr_storage, kBurst> tx_to_{};
  unsigned tx_count_ = 0;
};

template <typename Deliver>
unsigned UdpPacketSource::receive(Deliver&& deliver) {
  const unsigned n = read_batch();
  for (unsigned i = 0; i < n; ++i) {
    sctp::SctpPacketFrom from;
    if (!parse(i, from)) continue;
    deliver(from, rx_buffers_.data() + i * kMaxDatagram, static_cast<std::uint16_t>(rx_msgs_[i].msg_len));
  }
  return n;
}

}  // namespace poolreg::kernel
