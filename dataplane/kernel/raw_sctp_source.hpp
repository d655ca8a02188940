// RawSctpSource: native SCTP (IP protocol 132) on raw kernel sockets, the second packet source of
// a kernel lane and of the client side's SctpStack, beside UdpPacketSource (SCTP over UDP). One
// IPv4 socket (socket(AF_INET, SOCK_RAW, IPPROTO_SCTP)) and, where the host has IPv6, one IPv6
// socket; the kernel builds the IP header on the way out, usrsctp (AF_CONN) has already written
// the SCTP common header with its CRC32c.
//
// - receive(): what both sockets hold (a burst each, non-blocking). IPv4 raw sockets deliver the
//   IP header (options included), IPv6 ones do not; sctp::native_sctp_packet.hpp reads either,
//   checks lengths and the CRC32c, and reports the peer with UDP port 0 (native). Bad input is
//   counted (native_drop_truncated / _malformed / _bad_crc) and never reaches the engine.
// - Raw sockets get a copy of every protocol-132 packet of the host, also those of other local
//   SCTP users and, on loopback, the ones we sent ourselves: the caller drops what is not for its
//   engine (SctpEngine::native_port_ours, counted as native_drop_not_our_port) so usrsctp never
//   answers another user's packets with an out-of-the-blue ABORT.
// - send_sctp(): one sendto per packet on the socket of the peer's family (MSG_DONTWAIT; a
//   refused packet is counted and left to SCTP's retransmission). reaches(): native peers only
//   (SctpPeer::udp_port 0); UdpPacketSource takes the others.
// - A send-only source (open(..., receive = false): the lanes after the first, see
//   kernel_lanes.hpp) carries a classic BPF filter that accepts nothing, so its socket never
//   queues the host's SCTP traffic.
// - The IPv6 socket of a receiving source asks for IPV6_PKTINFO, so an IPv6 packet's destination
//   address (SctpPacketFrom::dst_ip) is known as an IPv4 one's is from its header: the lane
//   checks it against the listen addresses (native_listen_filter.hpp).
// - Opening needs CAP_NET_RAW (root, or the capability); poolregd opens its sockets before it
//   drops privileges, so nothing is kept afterwards.
//
// Threading: one thread (the lane's, or the client's event loop); open() on any thread before.
// Owns its sockets.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/kernel/kernel_lane_counters.hpp"
#include "dataplane/kernel/receive_batch.hpp"
#include "dataplane/sctp/native_sctp_packet.hpp"
#include "dataplane/sctp/sctp_packet_path.hpp"
#include "registrar/common/expected.hpp"

namespace poolreg::kernel {

class RawSctpSource final : public sctp::SctpPacketPath {
 public:
  static constexpr unsigned kBurst = 32;
  static constexpr std::size_t kMaxPacket = 9216;  // as UdpPacketSource: SCTP packets stay below it

  // path_index: this path's index among the engine's paths. Fails (the reason, e.g. "Operation
  // not permitted" without CAP_NET_RAW) when the IPv4 socket cannot be opened; a missing IPv6
  // socket is not an error (has_ipv6() false).
  static Expected<std::unique_ptr<RawSctpSource>, std::string> open(std::uint8_t path_index, bool receive,
                                                                    KernelLaneCounters& counters);
  ~RawSctpSource() override;
  RawSctpSource(const RawSctpSource&) = delete;
  RawSctpSource& operator=(const RawSctpSource&) = delete;

  int fd4() const noexcept { return fd4_; }
  int fd6() const noexcept { return fd6_; }
  bool has_ipv6() const noexcept { return fd6_ >= 0; }

  // Reads one burst of each socket and calls deliver(const sctp::NativePacket&) for every
  // packet that passed native_sctp_packet.hpp's checks; returns the packets read (0: nothing).
  template <typename Deliver>
  unsigned receive(Deliver&& deliver);

  bool send_sctp(const sctp::SctpPeer& to, const std::uint8_t* packet, std::uint16_t length) override;
  bool reaches(const sctp::SctpPeer& to) const override { return to.udp_port == 0; }
  std::uint8_t path_index() const noexcept override { return path_index_; }

 private:
  RawSctpSource(int fd4, int fd6, std::uint8_t path_index, KernelLaneCounters& counters);
  // Counts a packet native_sctp_packet.hpp refused; true when it is usable.
  bool usable(const sctp::NativePacket& p);

  int fd4_ = -1;
  int fd6_ = -1;
  std::uint8_t path_index_ = 0;
  KernelLaneCounters& counters_;
  std::vector<std::uint8_t> rx_buffers_;  // kBurst * kMaxPacket
  std::array<mmsghdr, kBurst> rx_msgs_{};
  std::array<iovec, kBurst> rx_iov_{};
  std::array<sockaddr_in6, kBurst> rx_from_{};
  std::array<std::array<std::uint8_t, CMSG_SPACE(sizeof(in6_pktinfo))>, kBurst> rx_control_{};  // IPv6 only
};

// The destination address of an IPv6 packet read with IPV6_RECVPKTINFO on; nullptr when absent.
inline const std::uint8_t* pktinfo_destination(const msghdr& h) noexcept {
  for (const cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&h), const_cast<cmsghdr*>(c)))
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO)
      return reinterpret_cast<const in6_pktinfo*>(CMSG_DATA(c))->ipi6_addr.s6_addr;
  return nullptr;
}

// True when the host kernel has its own SCTP module loaded (/sys/module/sctp or /proc/net/sctp):
// it then answers native SCTP packets for ports it has no socket on with ABORT, racing our
// answers, so poolregd warns at start.
bool host_kernel_sctp_loaded();

template <typename Deliver>
unsigned RawSctpSource::receive(Deliver&& deliver) {
  // IPv4 raw sockets deliver the IP header, IPv6 ones only the SCTP packet (the peer in msg_name).
  auto drain = [&](int fd, bool ipv6) {
    const unsigned n = fd < 0 ? 0
                       : ipv6 ? receive_batch(fd, rx_msgs_, rx_iov_, rx_from_, rx_control_)
                              : receive_batch(fd, rx_msgs_, rx_iov_, rx_from_);
    for (unsigned i = 0; i < n; ++i) {
      if ((rx_msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) {
        counters_.native_drop_truncated.add();
        continue;
      }
      const std::span<const std::uint8_t> bytes(rx_buffers_.data() + i * kMaxPacket, rx_msgs_[i].msg_len);
      const auto* src = reinterpret_cast<const std::uint8_t*>(&rx_from_[i].sin6_addr);
      sctp::NativePacket p =
          ipv6 ? sctp::parse_native_sctp(bytes, true, src, pktinfo_destination(rx_msgs_[i].msg_hdr), true)
               : sctp::parse_native_ipv4(bytes, true);
      p.from.path_index = path_index_;
      if (usable(p)) deliver(p);
    }
    return n;
  };
  const unsigned n4 = drain(fd4_, false);
  return n4 + drain(fd6_, true);
}

}  // namespace poolreg::kernel
