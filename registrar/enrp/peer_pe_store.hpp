// Storing a PE another registrar owns (Handle Update ADD, Handle Table Response): it is kept for
// its registration life unless refreshed (enrp.md 4.4), never bound to an association.
//
// Contract: called on the control thread, the writer of every handlespace shard (the same
// thread EnrpServer runs on).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>

#include "registrar/common/clock.hpp"
#include "registrar/common/pool_element.hpp"
#include "registrar/common/pool_element_addresses.hpp"
#include "registrar/common/pool_handle.hpp"
#include "registrar/common/registrar_event.hpp"
#include "registrar/handlespace/handlespace.hpp"

namespace poolreg::enrp {

// A PE's registration life in ns (at least 1 ms: a 0 would expire it before anyone used it).
inline TimeNs registration_life_ns(const PoolElement& pe) noexcept {
  return static_cast<TimeNs>(std::max<std::uint32_t>(pe.registration_life_ms, 1)) * kNsPerMs;
}

// True when `id` in `handle` is a PE this registrar (`own_id`) owns and that is bound to an ASAP
// association, i.e. the PE is registered here right now. A peer's update must not take it
// over: the ENRP twin of ASAP cause 0x4 (a live PE cannot be hijacked; a PE that moved to
// another PR closes its association here, or misses its keep-alive, and is released then).
inline bool owned_over_live_association(const handlespace::Handlespace& hs, RegistrarId own_id,
                                        const PoolHandle& handle, PoolElementId id) {
  bool live = false;
  hs.lookup(handle, id, [&](const handlespace::PoolElementView& v) {
    live = own_id != 0 && v.home() == own_id && v.association() != 0;
  });
  // A held PE (handover hold, issue 14 item 3) has lost its association: a peer's ADD for it
  // means it moved there, and is taken at once (its hold here ends with it).
  return live && !hs.held(handle, id);
}

// Adds or refreshes a peer-owned PE, expiring at now + its registration life; raises its PE and
// pool events on `events` (may be null). False when the handlespace refused it (inconsistent
// policy, limits). `pe` is as decoded from the wire: a retiring address's lifetime is the time
// it has left, made an absolute retire time here (RFC 8653, registrar/wire/README.md).
inline bool store_peer_pe(handlespace::Handlespace& hs, TimeNs now, const PoolHandle& handle,
                          const PoolElement& wire_pe, RegistrarEventSink* events = nullptr) {
  std::optional<PoolElement> converted;
  if (std::any_of(wire_pe.address_types.begin(), wire_pe.address_types.end(),
                  [](const AddressTypeEntry& e) { return e.retiring; })) {
    converted = wire_pe;
    retiring_to_deadline(*converted, now);
  }
  const PoolElement& pe = converted ? *converted : wire_pe;
  handlespace::RegistrationOptions o;
  o.association = 0;
  o.expires_at = now + registration_life_ns(pe);
  std::optional<PoolElement> before;
  if (wants_previous_pe(events))
    hs.lookup(handle, pe.id, [&](const handlespace::PoolElementView& v) { before = v.to_pool_element(); });
  auto written = hs.register_pe(handle, pe, o);
  if (!written) return false;
  publish_pe_written(events, handle, pe, written->pe_created, written->pool_created, written->previous_home,
                     before ? &*before : nullptr);
  return true;
}

// Removes a PE on a peer's word (Handle Update DEL, test-corrupt-view): without a subscriber the
// cheap remove(), else the PE is copied for the events from the removal's view. False when unknown.
inline bool remove_peer_pe(handlespace::Handlespace& hs, const PoolHandle& handle, PoolElementId id,
                           RegistrarEventSink* events, PeRemovalCause cause) {
  if (events == nullptr || events->interest() == 0) return hs.remove(handle, id);
  return hs.deregister(handle, id, [&](const handlespace::RemovedPeView& r) {
    publish_pe_removed(events, r.handle, r.pe.to_pool_element(), r.pool_removed, cause);
  });
}

}  // namespace poolreg::enrp
