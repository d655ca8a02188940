// LcoreCounters: the packet counters of one poll-mode lcore (rx/tx, replies, SCTP hand-over and
// every drop by reason). One cache-line aligned block per lcore, indexed by lcore id; only the
// owning lcore writes its block, any thread (telemetry, control lcore) may read it.
//
// Memory ordering: each counter is a std::atomic<uint64_t> updated with a relaxed load + store by
// its single writer (a plain add on x86-64, no locked instruction) and read with a relaxed load,
// so readers see monotonic, possibly slightly stale values and the packet path takes no lock.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

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

// A single-writer counter (see the header comment).
class Counter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

// ASAP message types 1..14 (RFC 5352 2.2); index 0 counts anything else.
inline constexpr std::size_t kAsapTypeSlots = 15;
const char* asap_type_name(std::size_t type) noexcept;  // "registration", ... ; "other" for 0
inline std::size_t asap_type_slot(std::uint8_t type) noexcept { return type >= 1 && type <= 14 ? type : 0; }

// Handle Resolution latency as seen by the poll lcore: from the SCTP packet that completed the
// request to usrsctp taking (or queueing) the response. Answered on the poll lcore
// (dpdk.resolve_on_poll_lcore): decode, resolve, encode and send there. Forwarded: both ring
// hops and the control lcore included; sampled per association while at most
// SctpConnEngine::kMaxPendingResolutions are in flight; a malformed request answered with an
// ASAP Error leaves its sample open (pairs shift by one).
// Bucket k counts latencies below 2^k microseconds (the last one: everything longer).
inline constexpr std::size_t kLatencyBuckets = 21;

struct alignas(64) LcoreCounters {
  Counter rx_packets;
  Counter rx_bytes;
  Counter tx_packets;
  Counter tx_bytes;
  Counter arp_replies;
  Counter arp_requests_sent;
  Counter icmp_echo_replies;
  Counter icmpv6_echo_replies;
  Counter neighbor_advertisements;
  Counter sctp_packets_in;   // handed to usrsctp
  Counter sctp_packets_out;  // built from usrsctp output
  Counter sctp_steered_out;  // SCTP frames read here and handed to their owning lane
  Counter steered_in;        // frames taken from this lane's inbox (SCTP + shared neighbours)
  Counter neighbors_shared;  // ARP/NS frames copied to the other lanes
  Counter asap_messages_in;  // whole ASAP messages received on associations of this lcore
  Counter enrp_messages_in;
  Counter messages_out;  // ASAP/ENRP messages handed to usrsctp
  Counter loop_iterations;
  // Handle Resolutions answered on this lcore (PollResolver), by outcome; the others went to the
  // control lcore (asap_in_handle_resolution counts both).
  Counter resolutions_answered;      // pool known
  Counter resolutions_unknown_pool;  // answered 0x9
  Counter resolutions_rate_limited;  // answered 0x9 by asap.hr_rate_limit
  Counter resolutions_truncated;     // fewer PEs so that the answer fits one message
  Counter resolution_pes_returned;
  Counter resolutions_forwarded;     // decode errors / unknown parameters: AsapServer answers
  std::array<Counter, kDropReasonCount> drops;
  std::array<Counter, kAsapTypeSlots> asap_in_by_type;
  std::array<Counter, kAsapTypeSlots> asap_out_by_type;
  std::array<Counter, kLatencyBuckets> resolution_latency_us;  // log2 buckets, see above
  Counter resolution_latency_total_us;

  void record_resolution_latency(std::uint64_t us) noexcept {
    std::size_t k = 0;
    while (k + 1 < kLatencyBuckets && (std::uint64_t{1} << k) <= us) ++k;
    resolution_latency_us[k].add();
    resolution_latency_total_us.add(us);
  }

  void drop(DropReason r, std::uint64_t n = 1) noexcept { drops[static_cast<std::size_t>(r)].add(n); }
  std::uint64_t dropped(DropReason r) const noexcept { return drops[static_cast<std::size_t>(r)].get(); }
  std::uint64_t dropped_total() const noexcept;

  // Every single counter (not the per-reason / per-type / histogram arrays) by its telemetry
  // name, then "dropped_total": visit(const char* name, std::uint64_t value).
  template <typename Visit>
  void for_each_counter(Visit&& visit) const {
    visit("rx_packets", rx_packets.get());
    visit("rx_bytes", rx_bytes.get());
    visit("tx_packets", tx_packets.get());
    visit("tx_bytes", tx_bytes.get());
    visit("arp_replies", arp_replies.get());
    visit("arp_requests_sent", arp_requests_sent.get());
    visit("icmp_echo_replies", icmp_echo_replies.get());
    visit("icmpv6_echo_replies", icmpv6_echo_replies.get());
    visit("neighbor_advertisements", neighbor_advertisements.get());
    visit("sctp_packets_in", sctp_packets_in.get());
    visit("sctp_steered_out", sctp_steered_out.get());
    visit("steered_in", steered_in.get());
    visit("neighbors_shared", neighbors_shared.get());
    visit("sctp_packets_out", sctp_packets_out.get());
    visit("asap_messages_in", asap_messages_in.get());
    visit("enrp_messages_in", enrp_messages_in.get());
    visit("messages_out", messages_out.get());
    visit("loop_iterations", loop_iterations.get());
    visit("resolutions_answered", resolutions_answered.get());
    visit("resolutions_unknown_pool", resolutions_unknown_pool.get());
    visit("resolutions_rate_limited", resolutions_rate_limited.get());
    visit("resolutions_truncated", resolutions_truncated.get());
    visit("resolution_pes_returned", resolution_pes_returned.get());
    visit("resolutions_forwarded", resolutions_forwarded.get());
    visit("dropped_total", dropped_total());
  }
};

}  // namespace poolreg::dpdk
