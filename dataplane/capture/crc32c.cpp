#include "dataplane/capture/crc32c.hpp"

#include <array>

namespace poolreg::capture {
namespace {

// Reflected polynomial of CRC-32C (0x1EDC6F41 bit-reversed).
constexpr std::uint32_t kPolyReflected = 0x82f63b78u;

constexpr std::array<std::uint32_t, 256> make_table() noexcept {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1u) ? (c >> 1) ^ kPolyReflected : c >> 1;
    table[i] = c;
  }
  return table;
}

constexpr std::array<std::uint32_t, 256> kTable = make_table();

}  // namespace

std::uint32_t crc32c_update(std::uint32_t state, std::span<const std::uint8_t> data) noexcept {
  for (std::uint8_t b : data) state = kTable[(state ^ b) & 0xffu] ^ (state >> 8);
  return state;
}

}  // namespace poolreg::capture
