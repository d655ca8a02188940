// Storing a PE another registrar owns (Handle Update ADD, Handle Table Response): it is kept for
// its registration life unless refreshed (enrp.md 4.4), never bound to an association.
//
// Contract: called on the control thread, the writer of every handlespace shard (the same
// thread EnrpServer runs on).
#pragma once

#include <algorithm>
#include <cstdint>

#include "registrar/common/clock.hpp"
#include "registrar/common/pool_element.hpp"
#include "registrar/common/pool_handle.hpp"
#include "registrar/handlespace/handlespace.hpp"

namespace poolreg::enrp {

// A PE's registration life in ns (at least 1 ms: a 0 would expire it before anyone used it).
inline TimeNs registration_life_ns(const PoolElement& pe) noexcept {
  return static_cast<TimeNs>(std::max<std::uint32_t>(pe.registration_life_ms, 1)) * kNsPerMs;
}

// Adds or refreshes a peer-owned PE, expiring at now + its registration life. False when the
// handlespace refused it (inconsistent policy, limits).
inline bool store_peer_pe(handlespace::Handlespace& hs, TimeNs now, const PoolHandle& handle,
                          const PoolElement& pe) {
  handlespace::RegistrationOptions o;
  o.association = 0;
  o.expires_at = now + registration_life_ns(pe);
  return hs.register_pe(handle, pe, o).has_value();
}

}  // namespace poolreg::enrp
