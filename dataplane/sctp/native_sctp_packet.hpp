// Native SCTP framing (IP protocol 132): what a raw IP socket or a DPDK frame holds around an
// SCTP packet, read into the engine's vocabulary (SctpPacketFrom + the SCTP bytes). Pure code:
// no sockets, no state, bounded by the input length.
//
// - parse_native_ipv4(): a whole IPv4 packet as an IPv4 raw socket delivers it (header
//   included, options allowed: the header length is IHL * 4). Checks version, IHL, total length,
//   protocol 132 and that the SCTP common header is there; fragments are refused (the kernel
//   reassembles before a raw socket sees them; a fragment here is malformed input).
// - parse_native_sctp(): the SCTP bytes alone (IPv6 raw sockets deliver no IP header): checks
//   the common header length.
// - Both check the CRC32c (RFC 9260 appendix A) when asked: one pass over the packet with the
//   CPU's crc32 instruction, done here so a bad packet is counted by reason and usrsctp never
//   sees it.
//
// A native peer is known by its IP address with UDP port 0 (SctpPacketFrom::src_port,
// SctpPeer::udp_port): no UDP datagram has source port 0, so the RemoteEndpointTable keys native
// and UDP-encapsulated peers of one address apart without a second field.
//
// Threading: any thread (no state).
#pragma once

#include <cstdint>
#include <span>

#include "dataplane/sctp/sctp_packet_path.hpp"

namespace poolreg::sctp {

inline constexpr std::uint8_t kIpProtocolSctp = 132;
inline constexpr std::size_t kSctpCommonHeader = 12;

enum class NativeDrop : std::uint8_t {
  kNone,
  kTruncated,  // shorter than its headers say, or than an SCTP common header
  kMalformed,  // not IPv4, IHL below 5, not protocol 132, a fragment
  kBadCrc,     // CRC32c does not match
};

struct NativePacket {
  NativeDrop drop = NativeDrop::kNone;
  SctpPacketFrom from;                 // src_port 0: native (see above)
  std::span<const std::uint8_t> sctp;  // common header + chunks
  std::uint16_t src_port = 0;          // the peer's SCTP port (steering key)
  std::uint16_t dst_port = 0;          // our SCTP port it is meant for
};

// `packet`: an IPv4 header (with options) and what follows.
NativePacket parse_native_ipv4(std::span<const std::uint8_t> packet, bool check_crc) noexcept;
// `sctp`: the SCTP packet of an IPv6 raw socket; src/dst: the peer's and our addresses (dst may be
// all zero: unknown).
NativePacket parse_native_sctp(std::span<const std::uint8_t> sctp, bool ipv6, const std::uint8_t* src_ip,
                               const std::uint8_t* dst_ip, bool check_crc) noexcept;

// True when the CRC32c field of `sctp` (common header + chunks) matches its contents.
bool sctp_crc_ok(std::span<const std::uint8_t> sctp) noexcept;
// Writes the CRC32c of `sctp` into its checksum field (for tests and synthetic packets).
void set_sctp_crc(std::span<std::uint8_t> sctp) noexcept;

}  // namespace poolreg::sctp
