// Frame builders for the poll loop: answers built in place in the received mbuf (ARP reply, ICMP
// and ICMPv6 echo reply, neighbour advertisement), an ARP request for an unknown neighbour, and the
// Ethernet/IP/UDP (or, for native peers, Ethernet/IP) frame around an SCTP packet that usrsctp
// hands to its output callback.
// All IP, ICMP and UDP checksums are computed in software (virtual devices offer no offload); the
// SCTP CRC32c is usrsctp's, or the engine's, or the port's where it offers SCTP checksum offload.
// Each function returns false (the caller frees the mbuf and counts a drop) when the frame does
// not fit the mbuf; none allocates except build_arp_request and build_neighbor_solicitation (from
// the given pool).
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/dpdk/frame_parser.hpp"
#include "dataplane/dpdk/interface_config.hpp"

namespace poolreg::dpdk {

// The addresses of one UDP datagram to send (ports in host order; IPv4 in the first 4 bytes).
struct UdpRoute {
  MacAddress src_mac{};
  MacAddress dst_mac{};
  bool ipv6 = false;
  std::uint8_t src_ip[16] = {};
  std::uint8_t dst_ip[16] = {};
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint16_t vlan_id = 0;  // 0 = untagged
};

// In place, from a frame parse_frame() classified with the matching action.
bool make_arp_reply(rte_mbuf* m, const FrameVerdict& v, const InterfaceConfig& config) noexcept;
bool make_icmp_echo_reply(rte_mbuf* m, const FrameVerdict& v, const InterfaceConfig& config) noexcept;
bool make_icmpv6_echo_reply(rte_mbuf* m, const FrameVerdict& v, const InterfaceConfig& config) noexcept;
bool make_neighbor_advert(rte_mbuf* m, const FrameVerdict& v, const InterfaceConfig& config) noexcept;

// A broadcast "who has target_ip" from sender_ip (both network order: our address on the
// target's subnet, NextHop::source); nullptr when the pool is empty.
rte_mbuf* build_arp_request(rte_mempool* pool, const InterfaceConfig& config, std::uint32_t target_ip,
                            std::uint32_t sender_ip) noexcept;

// RFC 4861 7.2.2: a neighbour solicitation for `target` (16 bytes) from `source` (our address on
// its subnet) to target's solicited-node multicast address (ff02::1:ffXX:XXXX, Ethernet
// 33:33:ff:XX:XX:XX), hop limit 255, with our MAC as source link-layer address option; nullptr
// when the pool is empty.
rte_mbuf* build_neighbor_solicitation(rte_mempool* pool, const InterfaceConfig& config, const std::uint8_t* target,
                                      const std::uint8_t* source) noexcept;

// Writes Ethernet (+VLAN) / IPv4 or IPv6 / UDP headers and copies the payload into the empty
// mbuf m. false when it does not fit the mbuf's data room.
bool write_udp_frame(rte_mbuf* m, const UdpRoute& route, const std::uint8_t* payload,
                     std::uint16_t length) noexcept;

// Native SCTP (IP protocol 132): writes Ethernet (+VLAN) / IPv4 (header checksum set) or IPv6
// headers and copies the SCTP packet (common header + chunks, its CRC32c already set by usrsctp)
// into the empty mbuf m; route's ports are not used (they are in the SCTP header). false when it
// does not fit the mbuf's data room. offload_crc: the port writes the CRC32c (its TX offload,
// sctp_checksum_offload.hpp): the mbuf is marked for it and the packet's checksum field zeroed.
bool write_sctp_frame(rte_mbuf* m, const UdpRoute& route, const std::uint8_t* sctp_packet,
                      std::uint16_t length, bool offload_crc = false) noexcept;

// Bytes of headers write_udp_frame() puts before the payload.
inline std::uint16_t udp_frame_overhead(bool ipv6, bool vlan) noexcept {
  return static_cast<std::uint16_t>(14 + (vlan ? 4 : 0) + (ipv6 ? 40 : 20) + 8);
}

}  // namespace poolreg::dpdk
