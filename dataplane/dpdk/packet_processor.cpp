#include "dataplane/dpdk/packet_processor.hpp"

#include <rte_cycles.h>
#include <rte_prefetch.h>

#include <cstring>
#include <span>

#include "dataplane/sctp/native_sctp_packet.hpp"

namespace poolreg::dpdk {

PacketProcessor::PacketProcessor(const InterfaceConfig& config, LcoreCounters& counters, rte_mempool* pool,
                                 sctp::SctpPacketSink* sink, std::size_t tx_capacity, std::uint8_t port_index)
    : config_(config),
      counters_(counters),
      pool_(pool),
      sink_(sink),
      request_limiter_(rte_get_tsc_hz()),  // Linux's ARP/ND retransmission interval: 1 s
      tx_(tx_capacity, nullptr),
      port_index_(port_index) {}

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
    FrameVerdict v = parse_frame(data, m->data_len, config_, rx_crc_of(m->ol_flags, crc_offload_.rx));
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
      case FrameAction::kNeighborLearn:
        neighbors_.learn(v.src_ip, true, v.src_mac);
        share_neighbor(m);
        rte_pktmbuf_free(m);
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
  // usrsctp does not check what its engine gets (crc32c_offload): SCTP over UDP is checked here
  // (native SCTP was, by the port or frame_parser).
  if (!native && engine_leaves_crc_ &&
      !sctp::sctp_crc_ok(std::span<const std::uint8_t>(frame + v.payload_offset, v.payload_length))) {
    counters_.drop(DropReason::kSctpBadChecksum);
    return;
  }
  counters_.sctp_packets_in.add();
  // An on-link peer's MAC: replies to it are framed from the neighbour table (the engine knows
  // only IP + UDP port). An off-link peer's frames carry its router's MAC: replies go through the
  // route table to the gateway instead, and the table does not fill with one entry per remote peer.
  if (config_.on_link(v.src_ip, v.ipv6)) neighbors_.learn(v.src_ip, v.ipv6, v.src_mac);
  sctp::SctpPacketFrom from;
  from.ipv6 = v.ipv6;
  std::memcpy(from.src_ip, v.src_ip, v.ipv6 ? 16 : 4);
  std::memcpy(from.dst_ip, v.dst_ip, v.ipv6 ? 16 : 4);
  from.src_port = native ? 0 : v.src_port;  // a native peer is (IP, UDP port 0)
  from.path_index = port_index_;
  // Native: by the port or frame_parser; over UDP: above, when the engine leaves it to us.
  from.crc32c_checked = native || engine_leaves_crc_;
  sink_->on_sctp_packet(from, frame + v.payload_offset, v.payload_length);
}

unsigned PacketProcessor::alias_owner(const FrameVerdict& v) const {
  const bool native = v.action == FrameAction::kSctpNative;
  const unsigned holder = steering_.aliases->lookup(v.src_ip, v.ipv6, v.src_port, native);
  if (holder == runtime::AliasOwnerTable::kNoLane || holder == steering_.self || holder >= steering_.lanes)
    return steering_.self;
  // A peer of this lane's own at that address keeps its frames (the engine's rule: an address
  // with an endpoint of its own is no alias). A native peer's endpoint has UDP port 0.
  if (sink_ != nullptr && sink_->knows_peer(v.src_ip, v.ipv6, native ? 0 : v.src_port)) return steering_.self;
  return holder;
}

void PacketProcessor::hand_over(rte_mbuf* m, unsigned owner) {
  if (rte_ring_mp_enqueue(steering_.inboxes[owner], m) != 0) {
    counters_.drop(DropReason::kSteerFull);
    rte_pktmbuf_free(m);
  } else {
    counters_.sctp_steered_out.add();
  }
}

bool PacketProcessor::steer_away(rte_mbuf* m, const FrameVerdict& v) {
  if (steering_.lanes <= 1) return false;
  unsigned owner = owner_lane(steering_.rss, steering_.lanes, v.src_ip, v.ipv6, v.src_port,
                              v.action == FrameAction::kSctpNative);
  if (owner == steering_.self && steering_.aliases != nullptr && !steering_.aliases->empty()) {
    owner = alias_owner(v);
    if (owner != steering_.self) counters_.sctp_alias_steered.add();
  }
  if (owner == steering_.self) return false;
  hand_over(m, owner);
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
    FrameVerdict v = parse_frame(data, m->data_len, config_, rx_crc_of(m->ol_flags, crc_offload_.rx));
    switch (v.action) {
      case FrameAction::kArpReply:
      case FrameAction::kArpLearn:
        neighbors_.learn(v.src_ip, false, v.src_mac);
        break;
      case FrameAction::kNeighborAdvert:
      case FrameAction::kNeighborLearn:
        neighbors_.learn(v.src_ip, true, v.src_mac);
        break;
      case FrameAction::kSctp:
      case FrameAction::kSctpNative:
        // From the lane RSS (or the NIC) put it on, to this one, its source's owner_lane(): that
        // source may be another lane's alias. (Sent here by the alias lookup instead: this lane is
        // not its owner_lane(), and the frame stays.)
        if (steering_.aliases != nullptr && !steering_.aliases->empty() &&
            owner_lane(steering_.rss, steering_.lanes, v.src_ip, v.ipv6, v.src_port,
                       v.action == FrameAction::kSctpNative) == steering_.self) {
          if (const unsigned owner = alias_owner(v); owner != steering_.self) {
            counters_.sctp_alias_steered.add();
            hand_over(m, owner);
            continue;
          }
        }
        to_sink(v, data);
        break;
      default:
        break;  // cannot come from another lane
    }
    rte_pktmbuf_free(m);
  }
}

void PacketProcessor::request_neighbor(const NextHop& hop, bool ipv6) {
  if (!request_limiter_.allow(hop.ip.data(), ipv6, rte_get_tsc_cycles())) {
    counters_.neighbor_requests_suppressed.add();
    return;
  }
  if (ipv6) {
    rte_mbuf* m = build_neighbor_solicitation(pool_, config_, hop.ip.data(), hop.source.data());
    if (m == nullptr) {
      counters_.drop(DropReason::kMbufAllocFailed);
      return;
    }
    if (queue_tx(m)) counters_.neighbor_solicitations_sent.add();
    return;
  }
  std::uint32_t target;
  std::uint32_t sender;
  std::memcpy(&target, hop.ip.data(), 4);
  std::memcpy(&sender, hop.source.data(), 4);
  rte_mbuf* m = build_arp_request(pool_, config_, target, sender);
  if (m == nullptr) {
    counters_.drop(DropReason::kMbufAllocFailed);
    return;
  }
  if (queue_tx(m)) counters_.arp_requests_sent.add();
}

bool PacketProcessor::reaches(const sctp::SctpPeer& to) const {
  const std::optional<NextHop> hop = config_.next_hop(to.ip, to.ipv6);
  return hop && neighbors_.find(hop->ip.data(), to.ipv6).has_value();
}

bool PacketProcessor::send_sctp(const sctp::SctpPeer& to, const std::uint8_t* packet, std::uint16_t length) {
  // Route, then the next hop's MAC: the peer's own when on-link, else its gateway's. Not known
  // yet: the frame is dropped (counted no_neighbor; SCTP retransmits it) and the next hop is
  // asked by ARP / neighbour solicitation, so the retransmission finds it.
  const std::optional<NextHop> hop = config_.next_hop(to.ip, to.ipv6);
  if (!hop) {
    counters_.drop(DropReason::kNoRoute);
    return false;
  }
  UdpRoute route;
  if (auto mac = neighbors_.find(hop->ip.data(), to.ipv6)) {
    route.dst_mac = *mac;
  } else {
    counters_.drop(DropReason::kNoNeighbor);
    request_neighbor(*hop, to.ipv6);
    return false;
  }
  const bool native = to.udp_port == 0;  // IP + SCTP, no UDP header
  if (static_cast<std::uint32_t>(length) + (to.ipv6 ? 40u : 20u) + (native ? 0u : 8u) > config_.mtu) {
    counters_.drop(DropReason::kOutputTooBig);
    return false;
  }
  route.src_mac = config_.mac;
  route.ipv6 = to.ipv6;
  const std::size_t size = to.ipv6 ? 16 : 4;
  // From the address the peer used, else our address on the next hop's subnet.
  std::memcpy(route.src_ip, to.local_known ? to.local_ip : hop->source.data(), size);
  std::memcpy(route.dst_ip, to.ip, size);
  route.src_port = config_.sctp_udp_port;
  route.dst_port = to.udp_port;
  route.vlan_id = config_.vlan_id;
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) {
    counters_.drop(DropReason::kMbufAllocFailed);
    return false;
  }
  if (!(native ? write_sctp_frame(m, route, packet, length, crc_offload_.tx)
               : write_udp_frame(m, route, packet, length))) {
    counters_.drop(DropReason::kOutputTooBig);
    rte_pktmbuf_free(m);
    return false;
  }
  if (!queue_tx(m)) return false;
  counters_.sctp_packets_out.add();
  return true;
}

}  // namespace poolreg::dpdk
