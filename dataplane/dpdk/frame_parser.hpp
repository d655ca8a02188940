// parse_frame(): classifies one received Ethernet frame (contiguous bytes) for the poll loop:
// answer it (ARP request, ICMP/ICMPv6 echo request, neighbour solicitation), hand its SCTP packet
// to usrsctp (UDP to the SCTP-over-UDP port, RFC 6951, or native SCTP, IP protocol 132, when
// config.sctp_native), learn a neighbour (ARP reply; neighbour advertisement: src_ip is its
// target, src_mac its target link-layer address option, else the Ethernet source), or drop it with a DropReason. Pure function of the bytes and the InterfaceConfig: no allocation, no
// state, never reads beyond `length`. Checks, in order: Ethernet (VLAN per config), ARP shape,
// IPv4 version/IHL/length/checksum/fragments/destination, IPv6 version/length/destination/no
// extension headers, ICMP checksum, UDP length/checksum/port, SCTP common header present; native
// SCTP: common header present and CRC32c (RFC 9260 appendix A; whether the SCTP port is ours is
// the owning lane's engine's question, PacketProcessor asks it). The CRC32c is checked in software
// unless the port checked it (rx_crc, sctp_checksum_offload.hpp): kGood skips the check, kBad
// drops the frame as sctp_bad_checksum.
// Trailing Ethernet padding after the IP total length is allowed and ignored.
#pragma once

#include <cstdint>

#include "dataplane/dpdk/interface_config.hpp"
#include "dataplane/dpdk/lcore_counters.hpp"
#include "dataplane/dpdk/sctp_checksum_offload.hpp"

namespace poolreg::dpdk {

enum class FrameAction : std::uint8_t {
  kDrop,
  kArpReply,         // ARP request for one of our IPv4 addresses
  kArpLearn,         // ARP reply addressed to us: learn the sender
  kIcmpEchoReply,    // IPv4 ICMP echo request to us
  kIcmpv6EchoReply,  // ICMPv6 echo request to us
  kNeighborAdvert,   // ICMPv6 neighbour solicitation for one of our addresses
  kNeighborLearn,    // ICMPv6 neighbour advertisement to us: learn src_ip (its target) -> src_mac
  kSctp,             // SCTP packet over UDP at [payload_offset, +payload_length)
  kSctpNative,       // native SCTP packet (IP protocol 132) at [payload_offset, +payload_length)
};

struct FrameVerdict {
  FrameAction action = FrameAction::kDrop;
  DropReason reason = DropReason::kTruncated;  // valid when action == kDrop
  bool ipv6 = false;
  std::uint16_t l3_offset = 0;  // after Ethernet (and VLAN) header
  std::uint16_t l4_offset = 0;
  std::uint16_t payload_offset = 0;  // kSctp: SCTP common header; ICMP: ICMP header
  std::uint16_t payload_length = 0;
  std::uint16_t src_port = 0;    // host order: UDP source port; kSctpNative: SCTP source port
  std::uint16_t dst_port = 0;    // host order, kSctpNative only: the SCTP destination port
  std::uint16_t vlan_tci = 0;    // host order, 0 = untagged
  std::uint8_t src_ip[16] = {};  // IPv4 in the first 4 bytes (network order)
  std::uint8_t dst_ip[16] = {};
  std::uint8_t src_mac[6] = {};
  RxCrc rx_crc = RxCrc::kUnchecked;  // what the port said of a native SCTP frame's CRC32c
};

FrameVerdict parse_frame(const std::uint8_t* frame, std::uint32_t length, const InterfaceConfig& config,
                         RxCrc rx_crc = RxCrc::kUnchecked) noexcept;

}  // namespace poolreg::dpdk
