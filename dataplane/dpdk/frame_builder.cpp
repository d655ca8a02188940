#include "dataplane/dpdk/frame_builder.hpp"

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include <cstring>

#include "dataplane/dpdk/sctp_checksum_offload.hpp"
#include "dataplane/sctp/native_sctp_packet.hpp"

namespace poolreg::dpdk {
namespace {

constexpr std::uint8_t kIcmpv6EchoReply = 129;
constexpr std::uint8_t kIcmpv6NeighborSolicit = 135;
constexpr std::uint8_t kIcmpv6NeighborAdvert = 136;
constexpr std::uint8_t kIcmpv6 = 58;

// Sets the mbuf's (single segment) length; false when the data room is too small.
bool set_length(rte_mbuf* m, std::uint32_t length) noexcept {
  if (m->nb_segs != 1 || length > static_cast<std::uint32_t>(m->buf_len - m->data_off)) return false;
  m->data_len = static_cast<std::uint16_t>(length);
  m->pkt_len = length;
  return true;
}

void swap_macs(rte_ether_hdr* eth, const std::uint8_t* our_mac) noexcept {
  std::memcpy(eth->dst_addr.addr_bytes, eth->src_addr.addr_bytes, 6);
  std::memcpy(eth->src_addr.addr_bytes, our_mac, 6);
}

// The body of both neighbour discovery messages we send (RFC 4861 4.3, 4.4): type, flags, the
// target, one link-layer address option (`option`: 1 source, 2 target) with our MAC, and the
// checksum over the IPv6 pseudo-header (`ip` complete but for it).
constexpr std::uint16_t kNeighborMessageLength = 32;  // header 8 + target 16 + option 8
void write_neighbor_message(const rte_ipv6_hdr* ip, std::uint8_t* icmp, std::uint8_t type, std::uint8_t flags,
                            const std::uint8_t* target, std::uint8_t option, const MacAddress& mac) noexcept {
  std::memset(icmp, 0, kNeighborMessageLength);
  icmp[0] = type;
  icmp[4] = flags;
  std::memcpy(icmp + 8, target, 16);
  icmp[24] = option;
  icmp[25] = 1;  // option length in units of 8 bytes
  std::memcpy(icmp + 26, mac.data(), 6);
  const std::uint16_t sum = rte_ipv6_udptcp_cksum(ip, icmp);
  std::memcpy(icmp + 2, &sum, 2);
}

}  // namespace

bool make_arp_reply(rte_mbuf* m, const FrameVerdict& v, const InterfaceConfig& config) noexcept {
  auto* data = rte_pktmbuf_mtod(m, std::uint8_t*);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(data);
  auto* arp = reinterpret_cast<rte_arp_hdr*>(data + v.l3_offset);
  swap_macs(eth, config.mac.data());
  arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
  const std::uint32_t requested = arp->arp_data.arp_tip;
  arp->arp_data.arp_tha = arp->arp_data.arp_sha;
  arp->arp_data.arp_tip = arp->arp_data.arp_sip;
  std::memcpy(arp->arp_data.arp_sha.addr_bytes, config.mac.data(), 6);
  arp->arp_data.arp_sip = requested;
  // Ethernet minimum frame without FCS: 60 bytes (the request may carry padding already).
  const std::uint32_t length = std::max<std::uint32_t>(v.l3_offset + sizeof(rte_arp_hdr), 60);
  if (length > m->data_len) {
    if (!set_length(m, length)) return false;
    std::memset(data + v.l3_offset + sizeof(rte_arp_hdr), 0, length - v.l3_offset - sizeof(rte_arp_hdr));
  }
  return true;
}

bool make_icmp_echo_reply(rte_mbuf* m, const FrameVerdict& v, const InterfaceConfig& config) noexcept {
  auto* data = rte_pktmbuf_mtod(m, std::uint8_t*);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(data);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(data + v.l3_offset);
  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(data + v.l4_offset);
  swap_macs(eth, config.mac.data());
  const rte_be32_t src = ip->src_addr;
  ip->src_addr = ip->dst_addr;
  ip->dst_addr = src;
  ip->time_to_live = 64;
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
  icmp->icmp_cksum = 0;
  icmp->icmp_cksum = static_cast<std::uint16_t>(~rte_raw_cksum(icmp, v.payload_length));
  return set_length(m, v.l4_offset + v.payload_length);  // drops Ethernet padding
}

bool make_icmpv6_echo_reply(rte_mbuf* m, const FrameVerdict& v, const InterfaceConfig& config) noexcept {
  auto* data = rte_pktmbuf_mtod(m, std::uint8_t*);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(data);
  auto* ip = reinterpret_cast<rte_ipv6_hdr*>(data + v.l3_offset);
  std::uint8_t* icmp = data + v.l4_offset;
  swap_macs(eth, config.mac.data());
  std::memcpy(ip->dst_addr, v.src_ip, 16);
  std::memcpy(ip->src_addr, v.dst_ip, 16);
  ip->hop_limits = 64;
  icmp[0] = kIcmpv6EchoReply;
  icmp[2] = icmp[3] = 0;
  const std::uint16_t sum = rte_ipv6_udptcp_cksum(ip, icmp);
  std::memcpy(icmp + 2, &sum, 2);
  return set_length(m, v.l4_offset + v.payload_length);
}

bool make_neighbor_advert(rte_mbuf* m, const FrameVerdict& v, const InterfaceConfig& config) noexcept {
  // RFC 4861 4.4: type 136, flags S|O, target, option 2 (target link-layer address).
  constexpr std::uint16_t kNaLength = kNeighborMessageLength;
  if (!set_length(m, v.l4_offset + kNaLength)) return false;
  auto* data = rte_pktmbuf_mtod(m, std::uint8_t*);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(data);
  auto* ip = reinterpret_cast<rte_ipv6_hdr*>(data + v.l3_offset);
  std::uint8_t* icmp = data + v.l4_offset;
  std::uint8_t target[16];
  std::memcpy(target, icmp + 8, 16);
  swap_macs(eth, config.mac.data());
  std::memcpy(ip->dst_addr, v.src_ip, 16);
  std::memcpy(ip->src_addr, target, 16);
  ip->payload_len = rte_cpu_to_be_16(kNaLength);
  ip->proto = kIcmpv6;
  ip->hop_limits = 255;
  write_neighbor_message(ip, icmp, kIcmpv6NeighborAdvert, 0x60 /* Solicited | Override */, target, 2, config.mac);
  return true;
}

rte_mbuf* build_arp_request(rte_mempool* pool, const InterfaceConfig& config, std::uint32_t target_ip,
                            std::uint32_t sender_ip) noexcept {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  const std::uint16_t l3 = config.vlan_id != 0 ? 18 : 14;
  if (!set_length(m, 60)) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  auto* data = rte_pktmbuf_mtod(m, std::uint8_t*);
  std::memset(data, 0, 60);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(data);
  std::memset(eth->dst_addr.addr_bytes, 0xff, 6);
  std::memcpy(eth->src_addr.addr_bytes, config.mac.data(), 6);
  if (config.vlan_id != 0) {
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
    auto* vlan = reinterpret_cast<rte_vlan_hdr*>(data + 14);
    vlan->vlan_tci = rte_cpu_to_be_16(config.vlan_id);
    vlan->eth_proto = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
  } else {
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
  }
  auto* arp = reinterpret_cast<rte_arp_hdr*>(data + l3);
  arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
  arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  arp->arp_hlen = RTE_ETHER_ADDR_LEN;
  arp->arp_plen = 4;
  arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
  std::memcpy(arp->arp_data.arp_sha.addr_bytes, config.mac.data(), 6);
  arp->arp_data.arp_sip = sender_ip;
  arp->arp_data.arp_tip = target_ip;
  return m;
}

namespace {

// Writes Ethernet (+VLAN) and an IPv4 (header checksum set) or IPv6 header for `l4_length` bytes of
// protocol `proto` into the empty mbuf m; returns where the L4 header goes, nullptr when the
// frame does not fit the mbuf's data room.
std::uint8_t* write_ip_headers(rte_mbuf* m, const UdpRoute& route, std::uint8_t proto,
                               std::uint16_t l4_length) noexcept {
  const bool vlan = route.vlan_id != 0;
  const std::uint16_t l3 = vlan ? 18 : 14;
  const std::uint16_t ip_header = route.ipv6 ? 40 : 20;
  if (!set_length(m, static_cast<std::uint32_t>(l3) + ip_header + l4_length)) return nullptr;
  auto* data = rte_pktmbuf_mtod(m, std::uint8_t*);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(data);
  std::memcpy(eth->dst_addr.addr_bytes, route.dst_mac.data(), 6);
  std::memcpy(eth->src_addr.addr_bytes, route.src_mac.data(), 6);
  const std::uint16_t l3_type = route.ipv6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4;
  if (vlan) {
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
    auto* tag = reinterpret_cast<rte_vlan_hdr*>(data + 14);
    tag->vlan_tci = rte_cpu_to_be_16(route.vlan_id);
    tag->eth_proto = rte_cpu_to_be_16(l3_type);
  } else {
    eth->ether_type = rte_cpu_to_be_16(l3_type);
  }
  if (route.ipv6) {
    auto* ip = reinterpret_cast<rte_ipv6_hdr*>(data + l3);
    ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
    ip->payload_len = rte_cpu_to_be_16(l4_length);
    ip->proto = proto;
    ip->hop_limits = 64;
    std::memcpy(ip->src_addr, route.src_ip, 16);
    std::memcpy(ip->dst_addr, route.dst_ip, 16);
  } else {
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(data + l3);
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->type_of_service = 0;
    ip->total_length = rte_cpu_to_be_16(static_cast<std::uint16_t>(20 + l4_length));
    ip->packet_id = 0;
    ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
    ip->time_to_live = 64;
    ip->next_proto_id = proto;
    std::memcpy(&ip->src_addr, route.src_ip, 4);
    std::memcpy(&ip->dst_addr, route.dst_ip, 4);
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
  }
  return data + l3 + ip_header;
}

}  // namespace

rte_mbuf* build_neighbor_solicitation(rte_mempool* pool, const InterfaceConfig& config, const std::uint8_t* target,
                                      const std::uint8_t* source) noexcept {
  constexpr std::uint16_t kNsLength = kNeighborMessageLength;
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  UdpRoute route;  // only the Ethernet and IP fields are used
  route.src_mac = config.mac;
  route.dst_mac = {0x33, 0x33, 0xff, target[13], target[14], target[15]};
  route.ipv6 = true;
  route.vlan_id = config.vlan_id;
  std::memcpy(route.src_ip, source, 16);
  static constexpr std::uint8_t kSolicitedNode[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
  std::memcpy(route.dst_ip, kSolicitedNode, 13);
  std::memcpy(route.dst_ip + 13, target + 13, 3);
  std::uint8_t* icmp = write_ip_headers(m, route, kIcmpv6, kNsLength);
  if (icmp == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  auto* ip = reinterpret_cast<rte_ipv6_hdr*>(icmp - 40);
  ip->hop_limits = 255;  // RFC 4861 7.1.1: receivers drop neighbour discovery with any other
  write_neighbor_message(ip, icmp, kIcmpv6NeighborSolicit, 0, target, 1, config.mac);
  return m;
}

bool write_udp_frame(rte_mbuf* m, const UdpRoute& route, const std::uint8_t* payload,
                     std::uint16_t length) noexcept {
  const auto udp_length = static_cast<std::uint16_t>(sizeof(rte_udp_hdr) + length);
  std::uint8_t* l4 = write_ip_headers(m, route, IPPROTO_UDP, udp_length);
  if (l4 == nullptr) return false;
  auto* udp = reinterpret_cast<rte_udp_hdr*>(l4);
  udp->src_port = rte_cpu_to_be_16(route.src_port);
  udp->dst_port = rte_cpu_to_be_16(route.dst_port);
  udp->dgram_len = rte_cpu_to_be_16(udp_length);
  udp->dgram_cksum = 0;
  std::memcpy(l4 + sizeof(rte_udp_hdr), payload, length);
  const std::uint8_t* ip = l4 - (route.ipv6 ? 40 : 20);
  udp->dgram_cksum = route.ipv6 ? rte_ipv6_udptcp_cksum(reinterpret_cast<const rte_ipv6_hdr*>(ip), udp)
                                : rte_ipv4_udptcp_cksum(reinterpret_cast<const rte_ipv4_hdr*>(ip), udp);
  return true;
}

bool write_sctp_frame(rte_mbuf* m, const UdpRoute& route, const std::uint8_t* sctp_packet,
                      std::uint16_t length, bool offload_crc) noexcept {
  std::uint8_t* l4 = write_ip_headers(m, route, sctp::kIpProtocolSctp, length);
  if (l4 == nullptr) return false;
  // The CRC32c is in the packet (usrsctp's or the engine's), else the port writes it.
  std::memcpy(l4, sctp_packet, length);
  if (offload_crc && length >= sctp::kSctpCommonHeader) {
    std::memset(l4 + 8, 0, 4);  // the port computes over a zero checksum field (as DPDK's testpmd leaves it)
    const auto l3_len = static_cast<std::uint16_t>(route.ipv6 ? 40 : 20);
    const auto l2_len = static_cast<std::uint16_t>(l4 - rte_pktmbuf_mtod(m, std::uint8_t*) - l3_len);
    mark_tx_sctp_checksum(m, route.ipv6, l2_len, l3_len);
  }
  return true;
}

}  // namespace poolreg::dpdk
