// Handlespace audit checksum math (shared/spec/checksum.md), pure functions, no state.
//
// Internet-16 (RFC mode, RSPLIB-exact, checksum.md section 3): a PE contributes the sum of the
//   pool handle's 16-bit words read little-endian (odd last byte = low byte of a word), plus
//   the two 16-bit words of the 32-bit PE ID in network order, also read little-endian; the
//   handle and the ID are padded separately. Per owner A = sum of contributions as uint32 with
//   wrap-around; announced F = ~fold16(A), written to the wire raw in host order (a
//   little-endian host writes the low byte first: checksum16_wire_bytes()).
// Internet-32 (next-gen, checksum.md section 4): handle bytes then the 64-bit PE ID big-endian,
//   each zero-padded at its end to a multiple of 4, summed as big-endian 32-bit words into a
//   uint64 (no folding); per owner A = sum in uint64; F32 = ~fold32(A), sent big-endian.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "registrar/common/ids.hpp"

namespace poolreg::handlespace {

// Contribution of the pool handle alone (a pool caches it; a PE adds its ID part).
constexpr std::uint32_t checksum16_handle_part(std::span<const std::uint8_t> handle) noexcept {
  std::uint32_t c = 0;
  std::size_t i = 0;
  for (; i + 1 < handle.size(); i += 2) c += static_cast<std::uint32_t>(handle[i] | (handle[i + 1] << 8));
  if (i < handle.size()) c += handle[i];
  return c;
}

// The PE ID's part: bytes b0 b1 b2 b3 of the 32-bit ID in network order, read as LE words.
constexpr std::uint32_t checksum16_id_part(PoolElementId id) noexcept {
  const std::uint32_t v = short_id(id);
  const std::uint32_t b0 = (v >> 24) & 0xff, b1 = (v >> 16) & 0xff, b2 = (v >> 8) & 0xff, b3 = v & 0xff;
  return (b0 | (b1 << 8)) + (b2 | (b3 << 8));
}

constexpr std::uint32_t checksum16_contribution(std::span<const std::uint8_t> handle, PoolElementId id) noexcept {
  return checksum16_handle_part(handle) + checksum16_id_part(id);
}

// F = ~fold16(A): the 16-bit value in host order (what RSPLIB computes on x86).
constexpr std::uint16_t checksum16_finish(std::uint32_t accumulator) noexcept {
  std::uint32_t x = accumulator;
  while ((x >> 16) != 0) x = (x & 0xffff) + (x >> 16);
  return static_cast<std::uint16_t>(~x);
}

// The two bytes RSPLIB on x86 puts on the wire for F (raw host order: low byte first).
constexpr std::array<std::uint8_t, 2> checksum16_wire_bytes(std::uint16_t f) noexcept {
  return {static_cast<std::uint8_t>(f & 0xff), static_cast<std::uint8_t>(f >> 8)};
}

constexpr std::uint64_t checksum32_handle_part(std::span<const std::uint8_t> handle) noexcept {
  std::uint64_t c = 0;
  for (std::size_t i = 0; i < handle.size(); i += 4) {
    std::uint32_t w = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      w <<= 8;
      if (i + j < handle.size()) w |= handle[i + j];
    }
    c += w;
  }
  return c;
}

constexpr std::uint64_t checksum32_id_part(PoolElementId id) noexcept {
  return (id >> 32) + (id & 0xffffffffULL);
}

constexpr std::uint64_t checksum32_contribution(std::span<const std::uint8_t> handle, PoolElementId id) noexcept {
  return checksum32_handle_part(handle) + checksum32_id_part(id);
}

constexpr std::uint32_t checksum32_finish(std::uint64_t accumulator) noexcept {
  std::uint64_t x = accumulator;
  while ((x >> 32) != 0) x = (x & 0xffffffffULL) + (x >> 32);
  return static_cast<std::uint32_t>(~x);
}

// Per-owner accumulators (one per owner per shard; shards add up with the same arithmetic).
struct ChecksumAccumulator {
  std::uint32_t a16 = 0;  // wraps, as RSPLIB
  std::uint64_t a32 = 0;
  void add(std::uint32_t c16, std::uint64_t c32) noexcept { a16 += c16; a32 += c32; }
  void subtract(std::uint32_t c16, std::uint64_t c32) noexcept { a16 -= c16; a32 -= c32; }
  void add(const ChecksumAccumulator& o) noexcept { a16 += o.a16; a32 += o.a32; }
  std::uint16_t checksum16() const noexcept { return checksum16_finish(a16); }
  std::uint32_t checksum32() const noexcept { return checksum32_finish(a32); }
  friend bool operator==(const ChecksumAccumulator&, const ChecksumAccumulator&) = default;
};

}  // namespace poolreg::handlespace
