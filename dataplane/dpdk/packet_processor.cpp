#include "dataplane/dpdk/packet_processor.hpp"

#include <rte_prefetch.h>

#include <cstring>

namespace poolreg::dpdk {
namespace {

// Leading bits two addresses (network order, `bytes` long) have in common.
unsigned common_prefix_bits(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes) {
  unsigned bits = 0;
  for (std::size_t i = 0; i < bytes; ++i) {
    const unsigned diff = a[i] ^ b[i];
    if (diff == 0) {
      bits += 8;
      continue;
    }
    return bits + static_cast<unsigned>(__builtin_clz(diff)) - 24;  // leading zeros in the byte
  }
  return bits;
}

}  // namespace

PacketProcessor::PacketProcessor(const InterfaceConfig& config, LcoreCounters& counters, rte_mempool* pool,
                                 sctp::SctpPacketSink* sink, std::size_t tx_capacity, std::uint8_t port_index)
    : config_(config), counters_(counters), pool_(pool), sink_(sink), tx_(tx_capacity, nullptr), port_index_(port_index) {}

PacketProcessor::~PacketProcessor() {
  for (std::size_t i = 0; i < tx_count_; ++i) rte_pktmbuf_free(tx_[i]);
}

bool PacketProcessor::queue_tx(rte_mbuf* m) {
  if (tx_count_ == tx_.size()) {
    counters_.drop(DropReason::kTxFull);
    rte_pktmbuf_free(m);
    return false;
  }
  tx_[tx_count_++] = m;
  return true;
}

void PacketProcessor::tx_sent(std::uint16_t sent) {
  for (std::size_t i = 0; i < tx_count_; ++i) {
    if (i < sent) {
      counters_.tx_packets.add();
      counters_.tx_bytes.add(tx_[i]->pkt_len);
    } else {
      counters_.drop(DropReason::kTxFull);
      rte_pktmbuf_free(tx_[i]);
    }
  }
  tx_count_ = 0;
}

void PacketProcessor::answer(rte_mbuf* m, bool ok) {
  if (!ok) {
    counters_.drop(DropReason::kTruncated);
    rte_pktmbuf_free(m);
    return;
  }
  queue_tx(m);
}

void PacketProcessor::process_burst(rte_mbuf* const* packets, std::uint16_t n) {
  for (std::uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = packets[i];
    if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(packets[i + 1], void*));
    counters_.rx_packets.add();
    counters_.rx_bytes.add(m->pkt_len);
    if (m->nb_segs != 1) {
      counters_.drop(DropReason::kMultiSegment);
      rte_pktmbuf_free(m);
      continue;
    }
    const auto* data = rte_pktmbuf_mtod(m, const std::uint8_t*);
    FrameVerdict v = parse_frame(data, m->data_len, config_);
    switch (v.action) {
      case FrameAction::kDrop:
        counters_.drop(v.reason);
        rte_pktmbuf_free(m);
        break;
      case FrameAction::kArpReply:
        neighbors_.learn(v.src_ip, false, v.src_mac);
        share_neighbor(m);
        counters_.arp_replies.add();
        answer(m, make_arp_reply(m, v, config_));
        break;
      case FrameAction::kArpLearn:
        neighbors_.learn(v.src_ip, false, v.src_mac);
        share_neighbor(m);
        rte_pktmbuf_free(m);
        break;
      case FrameAction::kIcmpEchoReply:
        counters_.icmp_echo_replies.add();
        answer(m, make_icmp_echo_reply(m, v, config_));
        break;
      case FrameAction::kIcmpv6EchoReply:
        counters_.icmpv6_echo_replies.add();
        answer(m, make_icmpv6_echo_reply(m, v, config_));
        break;
      case FrameAction::kNeighborAdvert:
        neighbors_.learn(v.src_ip, true, v.src_mac);
        share_neighbor(m);
        counters_.neighbor_advertisements.add();
        answer(m, make_neighbor_advert(m, v, config_));
        break;
      case FrameAction::kSctp:
      case FrameAction::kSctpNative:
        if (steer_away(m, v)) break;
        to_sink(v, data);
        rte_pktmbuf_free(m);
        break;
    }
  }
}

void PacketProcessor::to_sink(const FrameVerdict& v, const std::uint8_t* frame) {
  if (sink_ == nullptr) {
    counters_.drop(DropReason::kUnsupportedProtocol);
    return;
  }
  // Native: only the SCTP ports of this lane's engine (its native listeners and the ports its own
  // associations left from); asked here, on the owning lane, after steering.
  const bool native = v.action == FrameAction::kSctpNative;
  if (native && !sink_->native_port_ours(v.dst_port)) {
    counters_.drop(DropReason::kSctpNotOurPort);
    return;
  }
  counters_.sctp_packets_in.add();
  // The peer's MAC: replies to it are framed from the neighbour table (the engine knows only
  // IP + UDP port).
  neighbors_.learn(v.src_ip, v.ipv6, v.src_mac);
  sctp::SctpPacketFrom from;
  from.ipv6 = v.ipv6;
  std::memcpy(from.src_ip, v.src_ip, v.ipv6 ? 16 : 4);
  std::memcpy(from.dst_ip, v.dst_ip, v.ipv6 ? 16 : 4);
  from.src_port = native ? 0 : v.src_port;  // a native peer is (IP, UDP port 0)
  from.path_index = port_index_;
  sink_->on_sctp_packet(from, frame + v.payload_offset, v.payload_length);
}

bool PacketProcessor::steer_away(rte_mbuf* m, const FrameVerdict& v) {
  if (steering_.lanes <= 1) return false;
  const unsigned owner = steer_lane(v.src_ip, v.ipv6, v.src_port, steering_.lanes);
  if (owner == steering_.self) return false;
  if (rte_ring_mp_enqueue(steering_.inboxes[owner], m) != 0) {
    counters_.drop(DropReason::kSteerFull);
    rte_pktmbuf_free(m);
  } else {
    counters_.sctp_steered_out.add();
  }
  return true;
}

void PacketProcessor::share_neighbor(rte_mbuf* m) {
  if (steering_.lanes <= 1) return;
  for (unsigned lane = 0; lane < steering_.lanes; ++lane) {
    if (lane == steering_.self) continue;
    rte_mbuf* copy = rte_pktmbuf_copy(m, pool_, 0, UINT32_MAX);
    if (copy == nullptr) {
      counters_.drop(DropReason::kMbufAllocFailed);
      continue;
    }
    if (rte_ring_mp_enqueue(steering_.inboxes[lane], copy) != 0) {
      counters_.drop(DropReason::kSteerFull);
      rte_pktmbuf_free(copy);
      continue;
    }
    counters_.neighbors_shared.add();
  }
}

void PacketProcessor::process_steered(rte_mbuf* const* packets, std::uint16_t n) {
  for (std::uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = packets[i];
    counters_.steered_in.add();
    const auto* data = rte_pktmbuf_mtod(m, const std::uint8_t*);
    // Parsed again (cheap, no copy): the sending lane checked it already, so only the action
    // matters here.
    FrameVerdict v = parse_frame(data, m->data_len, config_);
    switch (v.action) {
      case FrameAction::kArpReply:
      case FrameAction::kArpLearn:
        neighbors_.learn(v.src_ip, false, v.src_mac);
        break;
      case FrameAction::kNeighborAdvert:
        neighbors_.learn(v.src_ip, true, v.src_mac);
        break;
      case FrameAction::kSctp:
      case FrameAction::kSctpNative:
        to_sink(v, data);
        break;
      default:
        break;  // cannot come from another lane
    }
    rte_pktmbuf_free(m);
  }
}

void PacketProcessor::request_neighbor(const sctp::SctpPeer& to) {
  if (to.ipv6) return;  // IPv6 peers are learned from their own packets (no solicitation sent)
  std::uint32_t target;
  std::memcpy(&target, to.ip, 4);
  rte_mbuf* m = build_arp_request(pool_, config_, target);
  if (m == nullptr) return;
  if (queue_tx(m)) counters_.arp_requests_sent.add();
}

bool PacketProcessor::send_sctp(const sctp::SctpPeer& to, const std::uint8_t* packet, std::uint16_t length) {
  UdpRoute route;
  if (auto mac = neighbors_.find(to.ip, to.ipv6)) {
    route.dst_mac = *mac;
  } else {
    counters_.drop(DropReason::kNoNeighbor);
    request_neighbor(to);
    return false;
  }
  const bool native = to.udp_port == 0;  // IP + SCTP, no UDP header
  if (static_cast<std::uint32_t>(length) + (to.ipv6 ? 40u : 20u) + (native ? 0u : 8u) > config_.mtu) {
    counters_.drop(DropReason::kOutputTooBig);
    return false;
  }
  route.src_mac = config_.mac;
  route.ipv6 = to.ipv6;
  if (to.local_known) {
    std::memcpy(route.src_ip, to.local_ip, to.ipv6 ? 16 : 4);
    std::memcpy(route.dst_ip, to.ip, to.ipv6 ? 16 : 4);
  } else if (to.ipv6) {
    if (config_.ipv6.empty()) {
      counters_.drop(DropReason::kNoNeighbor);
      return false;
    }
    const Ipv6Bytes* best = &config_.ipv6.front();
    for (const Ipv6Bytes& a : config_.ipv6)
      if (common_prefix_bits(a.data(), to.ip, 16) > common_prefix_bits(best->data(), to.ip, 16)) best = &a;
    std::memcpy(route.src_ip, best->data(), 16);
    std::memcpy(route.dst_ip, to.ip, 16);
  } else {
    if (config_.ipv4.empty()) {
      counters_.drop(DropReason::kNoNeighbor);
      return false;
    }
    // A peer that has not sent us a packet yet: our address closest to it (longest common
    // prefix), the one on its subnet when we have one there (several ports, several subnets).
    std::uint32_t best = config_.ipv4.front();
    for (std::uint32_t a : config_.ipv4)
      if (common_prefix_bits(reinterpret_cast<const std::uint8_t*>(&a), to.ip, 4) >
          common_prefix_bits(reinterpret_cast<const std::uint8_t*>(&best), to.ip, 4))
        best = a;
    std::memcpy(route.src_ip, &best, 4);
    std::memcpy(route.dst_ip, to.ip, 4);
  }
  route.src_port = config_.sctp_udp_port;
  route.dst_port = to.udp_port;
  route.vlan_id = config_.vlan_id;
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) {
    counters_.drop(DropReason::kMbufAllocFailed);
    return false;
  }
  if (!(native ? write_sctp_frame(m, route, packet, length) : write_udp_frame(m, route, packet, length))) {
    counters_.drop(DropReason::kOutputTooBig);
    rte_pktmbuf_free(m);
    return false;
  }
  if (!queue_tx(m)) return false;
  counters_.sctp_packets_out.add();
  return true;
}

}  // namespace poolreg::dpdk
