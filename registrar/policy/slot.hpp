// Slot: the handlespace's index of a PE inside its pool; the unit every selector works on.
#pragma once

#include <cstddef>
#include <cstdint>

namespace poolreg::policy {

// Index of a PE in its pool's slot table. Stable while the PE lives; the handlespace reuses a
// freed slot only after a QSBR grace period. Selectors size their tables by the highest slot
// seen, so slots must be small dense per-pool indices (not global ids).
using Slot = std::uint32_t;

// Most slots one select() call returns (ASAP "Max items hard cap", spec asap.md).
inline constexpr std::size_t kMaxSelectItems = 128;

}  // namespace poolreg::policy
