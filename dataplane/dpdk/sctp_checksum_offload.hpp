// SCTP CRC32c offload on a DPDK port (RFC 9260 appendix A checksum of native SCTP, IP protocol
// 132), used where the port's capabilities list it and computed in software otherwise:
//
// - choose_sctp_checksum_offload(): from rte_eth_dev_info's tx_offload_capa / rx_offload_capa,
//   TX when RTE_ETH_TX_OFFLOAD_SCTP_CKSUM is offered, RX when RTE_ETH_RX_OFFLOAD_SCTP_CKSUM is;
//   each independently. DpdkPort::open() asks for what was chosen in rte_eth_conf.
// - TX: mark_tx_sctp_checksum() sets RTE_MBUF_F_TX_SCTP_CKSUM (+ RTE_MBUF_F_TX_IPV4/IPV6) and the
//   mbuf's l2_len / l3_len, and the NIC writes the CRC32c. The lane's usrsctp leaves the
//   checksum to us (SctpEngineConfig::crc32c_offload, the engine's default; the backend forces it
//   on for such a port): the engine computes it in software for every packet whose path does not
//   offload it (UDP-encapsulated peers, ports without it).
// - RX: rx_crc_of() reads RTE_MBUF_F_RX_L4_CKSUM_GOOD / _BAD of a port with RX offload on: GOOD
//   skips the software check of frame_parser, BAD drops the frame (sctp_bad_checksum), anything
//   else (unknown, none, offload off) is checked in software as before.
//
// Threading: pure functions (start-up and the poll lcores).
#pragma once

#include <rte_mbuf.h>

#include <cstdint>
#include <string>

namespace poolreg::dpdk {

struct SctpChecksumOffload {
  bool tx = false;  // the port writes the CRC32c of native SCTP frames we send
  bool rx = false;  // the port checks the CRC32c of native SCTP frames it receives
  friend bool operator==(const SctpChecksumOffload&, const SctpChecksumOffload&) = default;
};

SctpChecksumOffload choose_sctp_checksum_offload(std::uint64_t tx_offload_capa,
                                                 std::uint64_t rx_offload_capa) noexcept;

// For the start-up line: "CRC32c offloaded (TX, RX)", "CRC32c offloaded (RX), software TX", or
// "CRC32c in software (the port offers no SCTP checksum offload)".
std::string describe(const SctpChecksumOffload& offload);

// What the port said about a received frame's SCTP checksum.
enum class RxCrc : std::uint8_t {
  kUnchecked,  // no RX offload, or the port did not check it: software check
  kGood,
  kBad,
};

RxCrc rx_crc_of(std::uint64_t ol_flags, bool rx_offload) noexcept;

// Asks the NIC for the CRC32c of the native SCTP frame in m: its Ethernet (+VLAN) header is
// l2_len bytes, its IP header l3_len.
void mark_tx_sctp_checksum(rte_mbuf* m, bool ipv6, std::uint16_t l2_len, std::uint16_t l3_len) noexcept;

}  // namespace poolreg::dpdk
