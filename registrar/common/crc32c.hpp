// Crc32c: the CRC-32C (Castagnoli) checksum that SCTP carries in its common header (RFC 9260
// appendix A, test values in RFC 3720 B.4); the one implementation of the tree (pcap capture,
// the synthetic SCTP source in perf/dataplane). Pure code, no DPDK: on x86-64 CPUs with SSE4.2
// it uses the crc32 instruction (what DPDK's rte_hash_crc uses), elsewhere a portable table.
//
// Thread contract: no mutable state (the table is constexpr, the CPU check a function-local
// static), callable from any thread.
#pragma once

#include <cstdint>
#include <span>

namespace poolreg {

// Incremental form: start with kCrc32cInit, feed every piece through crc32c_update, then
// crc32c_finish. crc32c() does all three for one buffer.
inline constexpr std::uint32_t kCrc32cInit = 0xffffffffu;

std::uint32_t crc32c_update(std::uint32_t state, std::span<const std::uint8_t> data) noexcept;
// The portable table version (crc32c_update uses it where the CPU has no crc32 instruction);
// public so tests can check both give the same results.
std::uint32_t crc32c_update_portable(std::uint32_t state, std::span<const std::uint8_t> data) noexcept;

constexpr std::uint32_t crc32c_finish(std::uint32_t state) noexcept { return ~state; }

// CRC-32C of `data` as a number, e.g. 0x8a9136aa for 32 zero bytes. SCTP puts this value in
// the checksum field least significant byte first, computed with that field zeroed (see
// sctp_checksum_bytes in dataplane/capture/pcap_writer.cpp).
inline std::uint32_t crc32c(std::span<const std::uint8_t> data) noexcept {
  return crc32c_finish(crc32c_update(kCrc32cInit, data));
}

}  // namespace poolreg
