// NativeListenFilter: which local addresses native SCTP packets (IP protocol 132, read from a raw
// socket) may be addressed to, per SCTP listener port. A raw socket takes protocol-132 packets for
// every local address of the host, while the lanes' UDP sockets and the TCP listeners are bound to
// asap.listen / enrp.listen: this keeps native SCTP to the same addresses.
//
// - A port with addresses (restrict()): packets to it are admitted only when their destination
//   address is one of them.
// - A port without a restriction (a wildcard listen, or a port that is no listener: the source
//   ports of the engine's own outgoing associations, whose answers come to whatever source
//   address the kernel picked) is admitted for any destination; SctpEngine::native_port_ours
//   still decides whether the port is ours at all.
// - A packet whose destination address is unknown (all zero: an IPv6 packet read without its
//   IPV6_PKTINFO) is not admitted to a restricted port.
//
// Threading: built before the lanes start; admits() is const and read by the reading lane only.
#pragma once

#include <cstdint>
#include <vector>

#include "dataplane/sctp/sctp_packet_path.hpp"
#include "registrar/common/ip_address.hpp"

namespace poolreg::kernel {

struct NativeListener {
  std::uint16_t port = 0;
  std::vector<IpAddress> addresses;  // empty: any local address (a wildcard listen)
};

class NativeListenFilter {
 public:
  NativeListenFilter() = default;
  // Several entries for one port: the addresses add up, and one wildcard entry lifts the
  // restriction of that port.
  explicit NativeListenFilter(const std::vector<NativeListener>& listeners);

  // True when a packet to SCTP port `dst_port` and our address `to` (to.ipv6, to.dst_ip) passes.
  bool admits(std::uint16_t dst_port, const sctp::SctpPacketFrom& to) const noexcept;
  // True when some port is restricted (the IPv6 socket then needs IPV6_RECVPKTINFO).
  bool restricts() const noexcept { return !ports_.empty(); }

 private:
  struct Restricted {
    std::uint16_t port = 0;
    std::vector<IpAddress> addresses;
  };
  std::vector<Restricted> ports_;  // two entries at most in poolregd (ASAP, ENRP): a scan is fine
};

}  // namespace poolreg::kernel
