// LcoreCounters: the counters of one poll-mode lcore: the lane's (runtime::LaneCounters: messages
// by type, resolutions answered there, latency) plus the DPDK packet path's (rx/tx, replies, SCTP
// hand-over and every drop by reason). One cache-line aligned block per lcore, indexed by lcore
// id; only the owning lcore writes its block, any thread (telemetry, control lcore) may read it.
//
// Memory ordering: as runtime::LaneCounters (single-writer relaxed atomics, no lock).
// Every counter has a descriptor (lcore_counters.cpp): the packet path's as poolreg_dpdk_*_total,
// the drops as one family poolreg_dpdk_dropped_frames_total{reason} (reason = to_string()).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/runtime/lane_counters.hpp"
#include "registrar/common/counter_descriptor.hpp"

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
  kUnsupportedProtocol,  // IP protocol other than ICMP/UDP/SCTP (TCP: kernel side), or native SCTP when off
  kSctpTooShort,         // UDP payload or native SCTP packet shorter than an SCTP common header
  kTxFull,               // TX ring full: the frame was freed
  kNoNeighbor,           // no MAC known for the next hop yet (ARP request / neighbour solicitation sent)
  kMbufAllocFailed,
  kOutputTooBig,  // SCTP packet + headers above the MTU
  kSteerFull,     // the owning lane's inbox was full (steering.hpp)
  kSctpBadChecksum,  // CRC32c mismatch: native SCTP (software or the port said BAD), or SCTP over UDP
                     // where the engine leaves the check to the packet path (crc32c_offload)
  kSctpNotOurPort,   // native SCTP to a port none of the owning lane's engine's sockets uses
  kNoRoute,          // no connected prefix, route or gateway of the port covers the destination
  kCount
};
inline constexpr std::size_t kDropReasonCount = static_cast<std::size_t>(DropReason::kCount);
const char* to_string(DropReason reason) noexcept;

using runtime::Counter;

struct LcoreCounters;
// The packet path's single counters with their descriptors, in declaration order.
std::span<const DescribedField<LcoreCounters, Counter>> lcore_counter_fields() noexcept;
// The descriptor of drops[reason]: stats/telemetry key drop_<reason>, family
// poolreg_dpdk_dropped_frames_total, label reason.
const CounterDescriptor& drop_descriptor(DropReason reason) noexcept;

struct alignas(64) LcoreCounters : runtime::LaneCounters {
  Counter arp_replies;
  Counter arp_requests_sent;
  Counter neighbor_solicitations_sent;
  Counter neighbor_requests_suppressed;  // ARP/NS not sent: the same next hop was asked < 1 s ago
  Counter icmp_echo_replies;
  Counter icmpv6_echo_replies;
  Counter neighbor_advertisements;
  Counter sctp_packets_out;  // built from the engine's output
  Counter neighbors_shared;  // ARP/NS frames copied to the other lanes (steered_in counts them too)
  std::array<Counter, kDropReasonCount> drops;

  void drop(DropReason r, std::uint64_t n = 1) noexcept { drops[static_cast<std::size_t>(r)].add(n); }
  std::uint64_t dropped(DropReason r) const noexcept { return drops[static_cast<std::size_t>(r)].get(); }
  std::uint64_t dropped_total() const noexcept;

  // Every single counter with its descriptor: the lane's, the packet path's, then the drops by
  // reason (not the per-type / histogram arrays): visit(const CounterDescriptor& d,
  // std::uint64_t value); d.key is the telemetry / `poolctl stats` name.
  template <typename Visit>
  void for_each_counter(Visit&& visit) const {
    for_each_lane_counter(visit);
    for (const auto& f : lcore_counter_fields()) visit(f.describe, (this->*f.field).get());
    for (std::size_t r = 0; r < kDropReasonCount; ++r) visit(drop_descriptor(static_cast<DropReason>(r)), drops[r].get());
  }
};

}  // namespace poolreg::dpdk
