#include "dataplane/dpdk/frame_parser.hpp"

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include <cstring>

#include "dataplane/sctp/native_sctp_packet.hpp"

namespace poolreg::dpdk {
namespace {

constexpr std::uint16_t kSctpCommonHeader = 12;
constexpr std::uint8_t kIcmpv6EchoRequest = 128;
constexpr std::uint8_t kIcmpv6NeighborSolicit = 135;
constexpr std::uint8_t kIcmpv6NeighborAdvert = 136;
constexpr std::uint8_t kIcmpv6 = 58;

FrameVerdict drop(FrameVerdict v, DropReason r) noexcept {
  v.action = FrameAction::kDrop;
  v.reason = r;
  return v;
}

bool is_broadcast(const std::uint8_t* mac) noexcept {
  static constexpr std::uint8_t kAll[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  return std::memcmp(mac, kAll, 6) == 0;
}

FrameVerdict parse_arp(FrameVerdict v, const std::uint8_t* frame, std::uint32_t length,
                       const InterfaceConfig& config) noexcept {
  if (length < v.l3_offset + sizeof(rte_arp_hdr)) return drop(v, DropReason::kArpMalformed);
  const auto* arp = reinterpret_cast<const rte_arp_hdr*>(frame + v.l3_offset);
  if (arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
      arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || arp->arp_hlen != RTE_ETHER_ADDR_LEN ||
      arp->arp_plen != 4) {
    return drop(v, DropReason::kArpMalformed);
  }
  std::memcpy(v.src_ip, &arp->arp_data.arp_sip, 4);
  std::memcpy(v.dst_ip, &arp->arp_data.arp_tip, 4);
  std::memcpy(v.src_mac, arp->arp_data.arp_sha.addr_bytes, 6);
  const bool for_us = config.owns_ipv4(arp->arp_data.arp_tip);
  if (arp->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST)) {
    if (!for_us) return drop(v, DropReason::kArpIgnored);
    v.action = FrameAction::kArpReply;
    return v;
  }
  if (arp->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REPLY)) {
    if (!for_us) return drop(v, DropReason::kArpIgnored);
    v.action = FrameAction::kArpLearn;
    return v;
  }
  return drop(v, DropReason::kArpMalformed);
}

// UDP after an IPv4/IPv6 header: l4_offset and the L4 length (from the IP header) are set.
FrameVerdict parse_udp(FrameVerdict v, const std::uint8_t* frame, std::uint16_t l4_length,
                       const void* ip_header, const InterfaceConfig& config) noexcept {
  if (l4_length < sizeof(rte_udp_hdr)) return drop(v, DropReason::kUdpBadLength);
  const auto* udp = reinterpret_cast<const rte_udp_hdr*>(frame + v.l4_offset);
  // The UDP length must equal what the IP header says (the checksum helpers rely on it).
  if (rte_be_to_cpu_16(udp->dgram_len) != l4_length) return drop(v, DropReason::kUdpBadLength);
  if (rte_be_to_cpu_16(udp->dst_port) != config.sctp_udp_port) return drop(v, DropReason::kUdpWrongPort);
  if (v.ipv6) {
    // RFC 8200 8.1: a zero UDP checksum is invalid over IPv6.
    if (udp->dgram_cksum == 0 ||
        rte_ipv6_udptcp_cksum_verify(static_cast<const rte_ipv6_hdr*>(ip_header), udp) != 0) {
      return drop(v, DropReason::kUdpBadChecksum);
    }
  } else if (udp->dgram_cksum != 0 &&
             rte_ipv4_udptcp_cksum_verify(static_cast<const rte_ipv4_hdr*>(ip_header), udp) != 0) {
    return drop(v, DropReason::kUdpBadChecksum);
  }
  v.src_port = rte_be_to_cpu_16(udp->src_port);
  v.payload_offset = static_cast<std::uint16_t>(v.l4_offset + sizeof(rte_udp_hdr));
  v.payload_length = static_cast<std::uint16_t>(l4_length - sizeof(rte_udp_hdr));
  if (v.payload_length < kSctpCommonHeader) return drop(v, DropReason::kSctpTooShort);
  v.action = FrameAction::kSctp;
  return v;
}

// Native SCTP (IP protocol 132) after an IPv4/IPv6 header: l4_offset and the L4 length are set.
// The framing checks are the kernel raw socket's (native_sctp_packet.hpp).
FrameVerdict parse_sctp_native(FrameVerdict v, const std::uint8_t* frame, std::uint16_t l4_length,
                               const InterfaceConfig& config) noexcept {
  if (!config.sctp_native) return drop(v, DropReason::kUnsupportedProtocol);
  if (v.rx_crc == RxCrc::kBad) return drop(v, DropReason::kSctpBadChecksum);  // the port checked it
  const sctp::NativePacket p =
      sctp::parse_native_sctp(std::span<const std::uint8_t>(frame + v.l4_offset, l4_length), v.ipv6, v.src_ip,
                              v.dst_ip, v.rx_crc != RxCrc::kGood);
  switch (p.drop) {
    case sctp::NativeDrop::kNone:
      break;
    case sctp::NativeDrop::kBadCrc:
      return drop(v, DropReason::kSctpBadChecksum);
    case sctp::NativeDrop::kTruncated:
    case sctp::NativeDrop::kMalformed:
      return drop(v, DropReason::kSctpTooShort);
  }
  v.src_port = p.src_port;
  v.dst_port = p.dst_port;
  v.payload_offset = v.l4_offset;
  v.payload_length = l4_length;
  v.action = FrameAction::kSctpNative;
  return v;
}

FrameVerdict parse_ipv4(FrameVerdict v, const std::uint8_t* frame, std::uint32_t length,
                        const InterfaceConfig& config) noexcept {
  if (length < v.l3_offset + sizeof(rte_ipv4_hdr)) return drop(v, DropReason::kTruncated);
  const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(frame + v.l3_offset);
  const std::uint32_t ihl = (ip->version_ihl & 0x0f) * 4u;
  if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(rte_ipv4_hdr)) return drop(v, DropReason::kIpv4BadHeader);
  const std::uint32_t total = rte_be_to_cpu_16(ip->total_length);
  if (length < v.l3_offset + ihl || total < ihl || v.l3_offset + total > length) {
    return drop(v, DropReason::kIpv4BadLength);
  }
  if (rte_raw_cksum(ip, ihl) != 0xffff) return drop(v, DropReason::kIpv4BadChecksum);
  std::memcpy(v.src_ip, &ip->src_addr, 4);
  std::memcpy(v.dst_ip, &ip->dst_addr, 4);
  if (!config.owns_ipv4(ip->dst_addr)) return drop(v, DropReason::kNotForUs);
  const std::uint16_t frag = rte_be_to_cpu_16(ip->fragment_offset);
  if ((frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0)
    return drop(v, DropReason::kIpv4Fragment);
  v.l4_offset = static_cast<std::uint16_t>(v.l3_offset + ihl);
  const auto l4_length = static_cast<std::uint16_t>(total - ihl);
  switch (ip->next_proto_id) {
    case IPPROTO_ICMP: {
      if (l4_length < sizeof(rte_icmp_hdr)) return drop(v, DropReason::kTruncated);
      const auto* icmp = reinterpret_cast<const rte_icmp_hdr*>(frame + v.l4_offset);
      if (rte_raw_cksum(icmp, l4_length) != 0xffff) return drop(v, DropReason::kIcmpBadChecksum);
      if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0)
        return drop(v, DropReason::kIcmpIgnored);
      v.payload_offset = v.l4_offset;
      v.payload_length = l4_length;
      v.action = FrameAction::kIcmpEchoReply;
      return v;
    }
    case IPPROTO_UDP:
      return parse_udp(v, frame, l4_length, ip, config);
    case sctp::kIpProtocolSctp:
      return parse_sctp_native(v, frame, l4_length, config);
    default:
      return drop(v, DropReason::kUnsupportedProtocol);
  }
}

FrameVerdict parse_ipv6(FrameVerdict v, const std::uint8_t* frame, std::uint32_t length,
                        const InterfaceConfig& config) noexcept {
  v.ipv6 = true;
  if (length < v.l3_offset + sizeof(rte_ipv6_hdr)) return drop(v, DropReason::kTruncated);
  const auto* ip = reinterpret_cast<const rte_ipv6_hdr*>(frame + v.l3_offset);
  if ((rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6) return drop(v, DropReason::kIpv6BadHeader);
  const std::uint32_t payload = rte_be_to_cpu_16(ip->payload_len);
  if (v.l3_offset + sizeof(rte_ipv6_hdr) + payload > length) return drop(v, DropReason::kIpv6BadLength);
  std::memcpy(v.src_ip, ip->src_addr, 16);
  std::memcpy(v.dst_ip, ip->dst_addr, 16);
  const bool unicast_to_us = config.owns_ipv6(ip->dst_addr);
  if (!unicast_to_us && !config.owns_solicited_node(ip->dst_addr)) return drop(v, DropReason::kNotForUs);
  v.l4_offset = static_cast<std::uint16_t>(v.l3_offset + sizeof(rte_ipv6_hdr));
  const auto l4_length = static_cast<std::uint16_t>(payload);
  if (ip->proto == kIcmpv6) {
    if (l4_length < 8) return drop(v, DropReason::kTruncated);
    const std::uint8_t* icmp = frame + v.l4_offset;
    if (rte_ipv6_udptcp_cksum_verify(ip, icmp) != 0) return drop(v, DropReason::kIcmpBadChecksum);
    v.payload_offset = v.l4_offset;
    v.payload_length = l4_length;
    if (icmp[0] == kIcmpv6EchoRequest && icmp[1] == 0 && unicast_to_us) {
      v.action = FrameAction::kIcmpv6EchoReply;
      return v;
    }
    // RFC 4861 7.1.1: hop limit 255, code 0, at least 24 bytes, target is ours.
    if (icmp[0] == kIcmpv6NeighborSolicit && icmp[1] == 0 && ip->hop_limits == 255 && l4_length >= 24 &&
        config.owns_ipv6(icmp + 8)) {
      v.action = FrameAction::kNeighborAdvert;
      return v;
    }
    // RFC 4861 7.1.2: the answer to our solicitation (unicast to us, or a multicast unsolicited
    // one to all nodes, which the destination check above does not let in).
    if (icmp[0] == kIcmpv6NeighborAdvert && icmp[1] == 0 && ip->hop_limits == 255 && l4_length >= 24 &&
        unicast_to_us && !config.owns_ipv6(icmp + 8)) {
      std::memcpy(v.src_ip, icmp + 8, 16);
      // Options after the 24 bytes: type 2 = target link-layer address (length in 8-byte units).
      for (std::uint32_t at = 24; at + 8 <= l4_length;) {
        const std::uint32_t option_length = icmp[at + 1] * 8u;
        if (option_length == 0) break;  // malformed: stop (the Ethernet source stays)
        if (icmp[at] == 2) {
          std::memcpy(v.src_mac, icmp + at + 2, 6);
          break;
        }
        at += option_length;
      }
      v.action = FrameAction::kNeighborLearn;
      return v;
    }
    return drop(v, DropReason::kIcmpIgnored);
  }
  if (!unicast_to_us) return drop(v, DropReason::kNotForUs);
  if (ip->proto == IPPROTO_UDP) return parse_udp(v, frame, l4_length, ip, config);
  if (ip->proto == sctp::kIpProtocolSctp) return parse_sctp_native(v, frame, l4_length, config);
  switch (ip->proto) {
    case 0:
    case 43:
    case 44:
    case 50:
    case 51:
    case 60:
    case 135:
    case 139:
    case 140:
      return drop(v, DropReason::kIpv6ExtensionHeader);
    default:
      return drop(v, DropReason::kUnsupportedProtocol);
  }
}

}  // namespace

FrameVerdict parse_frame(const std::uint8_t* frame, std::uint32_t length, const InterfaceConfig& config,
                         RxCrc rx_crc) noexcept {
  FrameVerdict v;
  v.rx_crc = rx_crc;
  if (frame == nullptr || length < sizeof(rte_ether_hdr)) return drop(v, DropReason::kTruncated);
  const auto* eth = reinterpret_cast<const rte_ether_hdr*>(frame);
  std::memcpy(v.src_mac, eth->src_addr.addr_bytes, 6);
  std::uint16_t type = rte_be_to_cpu_16(eth->ether_type);
  v.l3_offset = sizeof(rte_ether_hdr);
  if (type == RTE_ETHER_TYPE_VLAN || type == RTE_ETHER_TYPE_QINQ) {
    if (length < sizeof(rte_ether_hdr) + sizeof(rte_vlan_hdr)) return drop(v, DropReason::kTruncated);
    const auto* vlan = reinterpret_cast<const rte_vlan_hdr*>(frame + sizeof(rte_ether_hdr));
    v.vlan_tci = rte_be_to_cpu_16(vlan->vlan_tci);
    if (type == RTE_ETHER_TYPE_QINQ || config.vlan_id == 0 || (v.vlan_tci & 0x0fff) != config.vlan_id) {
      return drop(v, DropReason::kVlanTagged);
    }
    type = rte_be_to_cpu_16(vlan->eth_proto);
    v.l3_offset = sizeof(rte_ether_hdr) + sizeof(rte_vlan_hdr);
  }
  const bool to_us = std::memcmp(eth->dst_addr.addr_bytes, config.mac.data(), 6) == 0;
  const bool multicast = (eth->dst_addr.addr_bytes[0] & 0x01) != 0;  // includes broadcast
  if (!to_us && !multicast) return drop(v, DropReason::kNotForUs);
  switch (type) {
    case RTE_ETHER_TYPE_ARP:
      return parse_arp(v, frame, length, config);
    case RTE_ETHER_TYPE_IPV4:
      if (!to_us && !is_broadcast(eth->dst_addr.addr_bytes)) return drop(v, DropReason::kNotForUs);
      return parse_ipv4(v, frame, length, config);
    case RTE_ETHER_TYPE_IPV6:
      return parse_ipv6(v, frame, length, config);
    default:
      return drop(v, DropReason::kUnknownEtherType);
  }
}

}  // namespace poolreg::dpdk
