// PeKey: a PE's identity in the handlespace (pool handle + PE ID) as an unordered-map key, for
// the per-PE side tables of ASAP and ENRP (unreachable reports, parked rebinds, update damping).
#pragma once

#include <cstddef>

#include "registrar/common/ids.hpp"
#include "registrar/common/pool_handle.hpp"

namespace poolreg {

struct PeKey {
  PoolHandle handle;
  PoolElementId id = 0;
  friend bool operator==(const PeKey&, const PeKey&) = default;
};

struct PeKeyHash {
  std::size_t operator()(const PeKey& k) const noexcept { return k.handle.hash() ^ (k.id * 0x9e3779b97f4a7c15ULL); }
};

}  // namespace poolreg
