// The one connection vocabulary of poolreg, used by the protocol logic (registrar/asap,
// registrar/enrp), the transports (dataplane/), the client library and the tools alike:
// a ConnectionId names one SCTP association or one TCP connection, WireProtocol says which of the
// two RSerPool protocols it carries, and ConnectionPeer is what is known about its far end.
#pragma once

#include <cstdint>
#include <vector>

#include "registrar/common/ip_address.hpp"
#include "registrar/common/transport.hpp"

namespace poolreg {

// One SCTP association or TCP connection; 0 is never valid. Assigned by the transport, unique for
// the transport's life, never reused.
using ConnectionId = std::uint64_t;
inline constexpr ConnectionId kNoConnectionId = 0;

enum class WireProtocol : std::uint8_t { kAsap = 0, kEnrp = 1 };

// SCTP payload protocol identifiers (parameters.md §1).
inline constexpr std::uint32_t kAsapPpid = 11;
inline constexpr std::uint32_t kEnrpPpid = 12;
inline constexpr std::uint32_t kAsapLegacyPpid = 0xFAEEB5D1;  // accepted on receive only
inline constexpr std::uint32_t kEnrpLegacyPpid = 0xFAEEB5D2;

constexpr std::uint32_t ppid_of(WireProtocol p) noexcept { return p == WireProtocol::kAsap ? kAsapPpid : kEnrpPpid; }
constexpr const char* to_string(WireProtocol p) noexcept { return p == WireProtocol::kAsap ? "ASAP" : "ENRP"; }

// What is known about the far end of a connection (from the transport).
struct ConnectionPeer {
  TransportProtocol kind = TransportProtocol::kSctp;  // kSctp or kTcp (MPTCP reports kTcp)
  WireProtocol protocol = WireProtocol::kAsap;        // what this connection is expected to carry
  bool outgoing = false;                              // opened by connect on this side
  // SCTP: every peer address of the association (multi-homing), primary path first when known;
  // TCP: exactly one. Port: the peer's SCTP/TCP port. Needed for ASAP-REG-06 / ASAP-REG-07.
  std::vector<IpAddress> addresses;
  std::uint16_t port = 0;
  // SCTP over UDP only: the UDP port the peer's encapsulated packets come from (RFC 6951); 0 otherwise.
  std::uint16_t udp_encapsulation_port = 0;
  // The transport's smoothed round-trip time when this was reported (up, address change), in
  // microseconds; 0 = not measured. SCTP: the SRTT of the association's path (usrsctp
  // SCTP_GET_PEER_ADDR_INFO); TCP: TCP_INFO tcpi_rtt. The DPF policies' distance (pe_distance.hpp).
  std::uint32_t srtt_us = 0;
};

}  // namespace poolreg
