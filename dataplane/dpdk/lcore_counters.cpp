#include "dataplane/dpdk/lcore_counters.hpp"

#include <array>

namespace poolreg::dpdk {

const char* to_string(DropReason reason) noexcept {
  switch (reason) {
    case DropReason::kTruncated:
      return "truncated";
    case DropReason::kMultiSegment:
      return "multi_segment";
    case DropReason::kVlanTagged:
      return "vlan_tagged";
    case DropReason::kUnknownEtherType:
      return "unknown_ethertype";
    case DropReason::kNotForUs:
      return "not_for_us";
    case DropReason::kArpMalformed:
      return "arp_malformed";
    case DropReason::kArpIgnored:
      return "arp_ignored";
    case DropReason::kIpv4BadHeader:
      return "ipv4_bad_header";
    case DropReason::kIpv4BadChecksum:
      return "ipv4_bad_checksum";
    case DropReason::kIpv4BadLength:
      return "ipv4_bad_length";
    case DropReason::kIpv4Fragment:
      return "ipv4_fragment";
    case DropReason::kIpv6BadHeader:
      return "ipv6_bad_header";
    case DropReason::kIpv6BadLength:
      return "ipv6_bad_length";
    case DropReason::kIpv6ExtensionHeader:
      return "ipv6_extension_header";
    case DropReason::kIcmpBadChecksum:
      return "icmp_bad_checksum";
    case DropReason::kIcmpIgnored:
      return "icmp_ignored";
    case DropReason::kUdpBadLength:
      return "udp_bad_length";
    case DropReason::kUdpBadChecksum:
      return "udp_bad_checksum";
    case DropReason::kUdpWrongPort:
      return "udp_wrong_port";
    case DropReason::kUnsupportedProtocol:
      return "unsupported_protocol";
    case DropReason::kSctpTooShort:
      return "sctp_too_short";
    case DropReason::kTxFull:
      return "tx_full";
    case DropReason::kNoNeighbor:
      return "no_neighbor";
    case DropReason::kMbufAllocFailed:
      return "mbuf_alloc_failed";
    case DropReason::kOutputTooBig:
      return "output_too_big";
    case DropReason::kSteerFull:
      return "steer_full";
    case DropReason::kSctpBadChecksum:
      return "sctp_bad_checksum";
    case DropReason::kSctpNotOurPort:
      return "sctp_not_our_port";
    case DropReason::kNoRoute:
      return "no_route";
    case DropReason::kCount:
      break;
  }
  return "?";
}

std::uint64_t LcoreCounters::dropped_total() const noexcept {
  std::uint64_t sum = 0;
  for (const Counter& c : drops) sum += c.get();
  return sum;
}

namespace {

// Stats key (the field's name), metric, help, in declaration order.
constexpr std::array kLcoreFields = std::to_array<DescribedField<LcoreCounters, Counter>>({
    {{"arp_replies", "poolreg_dpdk_arp_replies_total",
      "ARP requests for the registrar's addresses answered by the poll lcore (the port has no kernel behind it)."},
     &LcoreCounters::arp_replies},
    {{"arp_requests_sent", "poolreg_dpdk_arp_requests_sent_total",
      "ARP requests the poll lcore sent to learn a next hop's MAC (the peer, or its gateway) before sending to it."},
     &LcoreCounters::arp_requests_sent},
    {{"neighbor_solicitations_sent", "poolreg_dpdk_neighbor_solicitations_sent_total",
      "IPv6 neighbour solicitations the poll lcore sent to learn a next hop's MAC (the peer, or its gateway)."},
     &LcoreCounters::neighbor_solicitations_sent},
    {{"neighbor_requests_suppressed", "poolreg_dpdk_neighbor_requests_suppressed_total",
      "ARP requests / neighbour solicitations not sent because the same next hop was asked less than a second ago."},
     &LcoreCounters::neighbor_requests_suppressed},
    {{"icmp_echo_replies", "poolreg_dpdk_icmp_echo_replies_total",
      "ICMP echo requests (ping) to the registrar's IPv4 addresses answered on the poll lcore."},
     &LcoreCounters::icmp_echo_replies},
    {{"icmpv6_echo_replies", "poolreg_dpdk_icmpv6_echo_replies_total",
      "ICMPv6 echo requests to the registrar's IPv6 addresses answered on the poll lcore."},
     &LcoreCounters::icmpv6_echo_replies},
    {{"neighbor_advertisements", "poolreg_dpdk_neighbor_advertisements_total",
      "IPv6 neighbour solicitations for the registrar's addresses answered with an advertisement."},
     &LcoreCounters::neighbor_advertisements},
    {{"sctp_packets_out", "poolreg_dpdk_sctp_packets_out_total",
      "SCTP packets of the lane's engine wrapped in Ethernet/IP/UDP and queued for sending."},
     &LcoreCounters::sctp_packets_out},
    {{"neighbors_shared", "poolreg_dpdk_neighbors_shared_total",
      "ARP/neighbour frames copied to the other poll lcores so every lane learns the neighbour."},
     &LcoreCounters::neighbors_shared},

});

constexpr std::string_view kDropMetric = "poolreg_dpdk_dropped_frames_total";
constexpr std::string_view kDropHelp =
    "Frames a DPDK poll lcore dropped, by reason (to_string(DropReason)): malformed or foreign "
    "traffic (truncated, bad checksums, not_for_us, unsupported_protocol, native SCTP for a port "
    "that is not ours: sctp_not_our_port), or lost to overload "
    "(tx_full, steer_full, mbuf_alloc_failed), missing next-hop neighbours (no_neighbor: an ARP "
    "request or neighbour solicitation went out instead) and destinations the port has no route to (no_route).";
// Indexed by DropReason; the label value is to_string(reason) (the lint test checks both).
constexpr std::array<CounterDescriptor, kDropReasonCount> kDrops = {{
    {"drop_truncated", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "truncated"},
    {"drop_multi_segment", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "multi_segment"},
    {"drop_vlan_tagged", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "vlan_tagged"},
    {"drop_unknown_ethertype", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "unknown_ethertype"},
    {"drop_not_for_us", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "not_for_us"},
    {"drop_arp_malformed", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "arp_malformed"},
    {"drop_arp_ignored", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "arp_ignored"},
    {"drop_ipv4_bad_header", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "ipv4_bad_header"},
    {"drop_ipv4_bad_checksum", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "ipv4_bad_checksum"},
    {"drop_ipv4_bad_length", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "ipv4_bad_length"},
    {"drop_ipv4_fragment", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "ipv4_fragment"},
    {"drop_ipv6_bad_header", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "ipv6_bad_header"},
    {"drop_ipv6_bad_length", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "ipv6_bad_length"},
    {"drop_ipv6_extension_header", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "ipv6_extension_header"},
    {"drop_icmp_bad_checksum", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "icmp_bad_checksum"},
    {"drop_icmp_ignored", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "icmp_ignored"},
    {"drop_udp_bad_length", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "udp_bad_length"},
    {"drop_udp_bad_checksum", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "udp_bad_checksum"},
    {"drop_udp_wrong_port", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "udp_wrong_port"},
    {"drop_unsupported_protocol", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "unsupported_protocol"},
    {"drop_sctp_too_short", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "sctp_too_short"},
    {"drop_tx_full", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "tx_full"},
    {"drop_no_neighbor", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "no_neighbor"},
    {"drop_mbuf_alloc_failed", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "mbuf_alloc_failed"},
    {"drop_output_too_big", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "output_too_big"},
    {"drop_steer_full", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "steer_full"},
    {"drop_sctp_bad_checksum", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "sctp_bad_checksum"},
    {"drop_sctp_not_our_port", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "sctp_not_our_port"},
    {"drop_no_route", kDropMetric, kDropHelp, CounterUnit::kCount, MetricKind::kCounter, "reason", "no_route"},
}};

}  // namespace

std::span<const DescribedField<LcoreCounters, Counter>> lcore_counter_fields() noexcept { return kLcoreFields; }

const CounterDescriptor& drop_descriptor(DropReason reason) noexcept {
  return kDrops[static_cast<std::size_t>(reason) < kDropReasonCount ? static_cast<std::size_t>(reason) : 0];
}

}  // namespace poolreg::dpdk
