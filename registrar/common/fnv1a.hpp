// fnv1a(): the 64-bit FNV-1a hash of a byte range, used where a hash must be cheap and the same
// in every process (pool handle -> shard; the DPDK path's address-keyed tables).
#pragma once

#include <cstddef>
#include <cstdint>

namespace poolreg {

inline std::uint64_t fnv1a(const std::uint8_t* bytes, std::size_t size) noexcept {
  std::uint64_t h = 1469598103934665603ULL;
  for (std::size_t i = 0; i < size; ++i) {
    h ^= bytes[i];
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace poolreg
