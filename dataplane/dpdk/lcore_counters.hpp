// LcoreCounters: the counters of one poll-mode lcore: the lane's (runtime::LaneCounters: messages
// by type, resolutions answered there, latency) plus the DPDK packet path's (rx/tx, replies, SCTP
// hand-over and every drop by reason). One cache-line aligned block per lcore, indexed by lcore
// id; only the owning lcore writes its block, any thread (telemetry, control lcore) may read it.
//
// Memory ordering: as runtime::LaneCounters (single-writer relaxed atomics, no lock).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "dataplane/runtime/lane_counters.hpp"

namespace poolreg::dpdk {

// Why a frame was dropped. Names (to_string) are what telemetry shows.
enum class DropReason : std::uint8_t {
  kTruncated,         // shorter than a header it claims to carry
  kMultiSegment,      // chained mbuf (the parser handles one contiguous segment)
  kVlanTagged,        // 802.1Q tag while no VLAN (or another VLAN id) is configured
  kUnknownEtherType,  // neither ARP, IPv4 nor IPv6
  kNotForUs,          // destination MAC/IP is not ours
  kArpMalformed,      // not Ethernet/IPv4 ARP, or bad lengths
  kArpIgnored,        // well formed ARP that needs no answer (request for another address)
  kIpv4BadHeader,     // version != 4 or IHL < 5
  kIpv4BadChecksum,
  kIpv4BadLength,  // total length < header or beyond the frame
  kIpv4Fragment,   // MF set or offset != 0 (no reassembly on the packet path)
  kIpv6BadHeader,
  kIpv6BadLength,
  kIpv6ExtensionHeader,  // extension headers are not parsed
  kIcmpBadChecksum,
  kIcmpIgnored,  // ICMP/ICMPv6 type we do not answer
  kUdpBadLength,
  kUdpBadChecksum,
  kUdpWrongPort,         // not the SCTP-over-UDP port
  kUnsupportedProtocol,  // IP protocol other than ICMP/UDP (raw SCTP, TCP: kernel side)
  kSctpTooShort,         // UDP payload shorter than an SCTP common header
  kTxFull,               // TX ring full: the frame was freed
  kNoNeighbor,           // no MAC known for the destination yet (ARP request sent)
  kMbufAllocFailed,
  kOutputTooBig,  // SCTP packet + headers above the MTU
  kSteerFull,     // the owning lane's inbox was full (steering.hpp)
  kCount
};
inline constexpr std::size_t kDropReasonCount = static_cast<std::size_t>(DropReason::kCount);
const char* to_string(DropReason reason) noexcept;

using runtime::Counter;

struct alignas(64) LcoreCounters : runtime::LaneCounters {
  Counter arp_replies;
  Counter arp_requests_sent;
  Counter icmp_echo_replies;
  Counter icmpv6_echo_replies;
  Counter neighbor_advertisements;
  Counter sctp_packets_out;  // built from the engine's output
  Counter neighbors_shared;  // ARP/NS frames copied to the other lanes (steered_in counts them too)
  std::array<Counter, kDropReasonCount> drops;

  void drop(DropReason r, std::uint64_t n = 1) noexcept { drops[static_cast<std::size_t>(r)].add(n); }
  std::uint64_t dropped(DropReason r) const noexcept { return drops[static_cast<std::size_t>(r)].get(); }
  std::uint64_t dropped_total() const noexcept;

  // Every single counter (not the per-reason / per-type / histogram arrays) by its telemetry
  // name: the packet path's, the lane's, then "dropped_total": visit(const char* name, std::uint64_t value).
  template <typename Visit>
  void for_each_counter(Visit&& visit) const {
    for_each_lane_counter(visit);
    visit("arp_replies", arp_replies.get());
    visit("arp_requests_sent", arp_requests_sent.get());
    visit("icmp_echo_replies", icmp_echo_replies.get());
    visit("icmpv6_echo_replies", icmpv6_echo_replies.get());
    visit("neighbor_advertisements", neighbor_advertisements.get());
    visit("neighbors_shared", neighbors_shared.get());
    visit("sctp_packets_out", sctp_packets_out.get());
    visit("dropped_total", dropped_total());
  }
};

}  // namespace poolreg::dpdk
