#include "dataplane/dpdk/lcore_counters.hpp"

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

}  // namespace poolreg::dpdk
