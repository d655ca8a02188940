// Identifiers of pool elements (PEs) and pool registrars (PRs).
#pragma once

#include <cstdint>

namespace poolreg {

// Both identifiers are 64-bit values internally. In RFC wire mode only the low 32 bits travel
// (the "short form"); in next-gen mode the full value travels in extension TLVs beside the
// short form (shared/spec/nextgen.md section 2). 0 means "undefined" in both forms.
using PoolElementId = std::uint64_t;
using RegistrarId = std::uint64_t;

inline constexpr std::uint32_t short_id(std::uint64_t id) noexcept {
  return static_cast<std::uint32_t>(id);
}

}  // namespace poolreg
