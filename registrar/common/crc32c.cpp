// CRC-32C: the crc32 instruction where the CPU has it, the reflected table otherwise.
#include "registrar/common/crc32c.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define POOLREG_CRC32C_X86 1
#endif

namespace poolreg {
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

#ifdef POOLREG_CRC32C_X86
__attribute__((target("sse4.2"))) std::uint32_t crc32c_update_sse42(
    std::uint32_t state, std::span<const std::uint8_t> data) noexcept {
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  std::uint64_t s = state;
  for (; n >= 8; n -= 8, p += 8) {
    std::uint64_t word;
    std::memcpy(&word, p, sizeof word);
    s = _mm_crc32_u64(s, word);
  }
  auto s32 = static_cast<std::uint32_t>(s);
  // The tail in as few dependent steps as its length allows (each crc32 step waits for the last).
  if (n >= 4) {
    std::uint32_t word;
    std::memcpy(&word, p, sizeof word);
    s32 = _mm_crc32_u32(s32, word);
    n -= 4;
    p += 4;
  }
  if (n >= 2) {
    std::uint16_t half;
    std::memcpy(&half, p, sizeof half);
    s32 = _mm_crc32_u16(s32, half);
    n -= 2;
    p += 2;
  }
  if (n > 0) s32 = _mm_crc32_u8(s32, *p);
  return s32;
}

bool cpu_has_sse42() noexcept {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}
#endif

}  // namespace

std::uint32_t crc32c_update_portable(std::uint32_t state, std::span<const std::uint8_t> data) noexcept {
  for (std::uint8_t b : data) state = kTable[(state ^ b) & 0xffu] ^ (state >> 8);
  return state;
}

std::uint32_t crc32c_update(std::uint32_t state, std::span<const std::uint8_t> data) noexcept {
#ifdef POOLREG_CRC32C_X86
  if (cpu_has_sse42()) return crc32c_update_sse42(state, data);
#endif
  return crc32c_update_portable(state, data);
}

}  // namespace poolreg
