#include "dataplane/dpdk/sctp_checksum_offload.hpp"

#include <rte_ethdev.h>

namespace poolreg::dpdk {

SctpChecksumOffload choose_sctp_checksum_offload(std::uint64_t tx_offload_capa,
                                                 std::uint64_t rx_offload_capa) noexcept {
  return SctpChecksumOffload{(tx_offload_capa & RTE_ETH_TX_OFFLOAD_SCTP_CKSUM) != 0,
                             (rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCTP_CKSUM) != 0};
}

std::string describe(const SctpChecksumOffload& offload) {
  if (offload.tx && offload.rx) return "CRC32c offloaded (TX, RX)";
  if (offload.tx) return "CRC32c offloaded (TX), software RX";
  if (offload.rx) return "CRC32c offloaded (RX), software TX";
  return "CRC32c in software (the port offers no SCTP checksum offload)";
}

RxCrc rx_crc_of(std::uint64_t ol_flags, bool rx_offload) noexcept {
  if (!rx_offload) return RxCrc::kUnchecked;
  switch (ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
    case RTE_MBUF_F_RX_L4_CKSUM_GOOD:
      return RxCrc::kGood;
    case RTE_MBUF_F_RX_L4_CKSUM_BAD:
      return RxCrc::kBad;
    default:  // UNKNOWN, or NONE (the port did not look at it; the data may still be right)
      return RxCrc::kUnchecked;
  }
}

void mark_tx_sctp_checksum(rte_mbuf* m, bool ipv6, std::uint16_t l2_len, std::uint16_t l3_len) noexcept {
  m->ol_flags |= RTE_MBUF_F_TX_SCTP_CKSUM | (ipv6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4);
  m->l2_len = l2_len;
  m->l3_len = l3_len;
}

}  // namespace poolreg::dpdk
