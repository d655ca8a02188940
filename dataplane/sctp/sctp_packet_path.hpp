// The edge between the SctpEngine and whatever carries its packets (SCTP over UDP, RFC 6951): a
// DPDK port queue (dpdk::PacketProcessor) or a kernel UDP socket (kernel::UdpPacketSource, or a
// client's one socket). Below this edge the engine knows nothing of Ethernet, MACs, neighbour
// tables or sockets; above it the packet source knows nothing of associations.
//
//   inbound:  packet source -> SctpPacketSink::on_sctp_packet(from, bytes)   (the engine)
//   outbound: engine -> SctpPacketPath::send_sctp(to, bytes)                 (the source)
//
// A lane may be reached through several paths (the DPDK lane has one per port); each has its
// index (path_index()), and a peer remembers the index its packets came in on, so replies leave
// the way the peer reached us.
//
// Threading: every call on one lane's thread (the engine and its paths belong to one lane); the
// bytes are valid only during the call; nothing here allocates or locks.
#pragma once

#include <cstdint>

namespace poolreg::sctp {

// Where an inbound SCTP packet came from, as the packet source saw it (ports host order,
// addresses network order, IPv4 in the first 4 bytes).
struct SctpPacketFrom {
  bool ipv6 = false;
  std::uint8_t src_ip[16] = {};  // the peer
  std::uint8_t dst_ip[16] = {};  // our address the peer used
  std::uint16_t src_port = 0;    // the peer's UDP port
  std::uint8_t path_index = 0;   // which of the lane's paths it came in on
  // The source checked the packet's SCTP CRC32c (native framing, a port's RX offload): an engine
  // that checks it itself (SctpEngineConfig::crc32c_offload) does not check it again.
  bool crc32c_checked = false;
};

// A peer as the engine addresses its outgoing packets (the AF_CONN address of an association).
struct SctpPeer {
  bool ipv6 = false;
  std::uint8_t ip[16] = {};
  std::uint16_t udp_port = 0;
  // The lane's path the peer is reached through; unknown until the peer sent a packet or one
  // path said it reaches() the peer.
  bool path_known = false;
  std::uint8_t path_index = 0;
  // Our address the peer reached us at (replies leave from it); else the path picks one.
  bool local_known = false;
  std::uint8_t local_ip[16] = {};
};

// Where SCTP packets go in (the engine in the daemon, a recorder in tests).
class SctpPacketSink {
 public:
  virtual ~SctpPacketSink() = default;
  virtual void on_sctp_packet(const SctpPacketFrom& from, const std::uint8_t* packet, std::uint16_t length) = 0;
  // Native SCTP (IP protocol 132): true when packets to SCTP port `port` are this sink's. A
  // packet source that sees other local SCTP users' packets (a raw socket, a DPDK port) drops the
  // rest instead of letting usrsctp answer them with an ABORT. A sink that takes no native
  // packets keeps the default.
  virtual bool native_port_ours(std::uint16_t /*port*/) const noexcept { return false; }
  // Several lanes: true when the peer (IP, UDP port; 0 for native SCTP) is known to this sink
  // under its own address (not as an alias of another peer). The lane steering gives the peer
  // to keeps its packets then, even when another lane published the address as an alias
  // (runtime/alias_owner_table.hpp). Lane thread only.
  virtual bool knows_peer(const std::uint8_t* /*ip*/, bool /*ipv6*/, std::uint16_t /*udp_port*/) const {
    return false;
  }
};

// Where SCTP packets go out.
class SctpPacketPath {
 public:
  virtual ~SctpPacketPath() = default;
  // Queues or sends one SCTP packet to `to`; false (counted by the path) when it cannot now. A
  // lost packet is a lost packet for SCTP: it retransmits.
  virtual bool send_sctp(const SctpPeer& to, const std::uint8_t* packet, std::uint16_t length) = 0;
  // True when this path can address `to` right now (DPDK: its neighbour table knows the peer's
  // MAC). Asked only for a peer with no known path among several.
  virtual bool reaches(const SctpPeer& to) const = 0;
  virtual std::uint8_t path_index() const noexcept = 0;
  // True when the path has the SCTP CRC32c of packets to `to` written below it (a DPDK port's
  // TX offload, native peers): an engine with SctpEngineConfig::crc32c_offload then leaves the
  // checksum field to it instead of computing it.
  virtual bool offloads_crc32c(const SctpPeer& /*to*/) const noexcept { return false; }
};

}  // namespace poolreg::sctp
