// Crc32c: the CRC-32C (Castagnoli) checksum that SCTP carries in its common header (RFC 4960
// appendix B, test values in RFC 3720 B.4). Table-driven, portable, thread-safe (no state).
#pragma once

#include <cstdint>
#include <span>

namespace poolreg::capture {

// Incremental form: start with kCrc32cInit, feed every piece through crc32c_update, then
// crc32c_finish. crc32c() does all three for one buffer.
inline constexpr std::uint32_t kCrc32cInit = 0xffffffffu;

std::uint32_t crc32c_update(std::uint32_t state, std::span<const std::uint8_t> data) noexcept;

constexpr std::uint32_t crc32c_finish(std::uint32_t state) noexcept { return ~state; }

// CRC-32C of `data` as a number, e.g. 0x8a9136aa for 32 zero bytes. SCTP puts this value in
// the checksum field least significant byte first (see sctp_checksum_bytes in pcap_writer.cpp).
inline std::uint32_t crc32c(std::span<const std::uint8_t> data) noexcept {
  return crc32c_finish(crc32c_update(kCrc32cInit, data));
}

}  // namespace poolreg::capture
