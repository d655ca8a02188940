// UpdateCoalescer: damping of ENRP Handle Updates per PE (issue 14 item 4). The first update of
// a PE goes out at once; for `window` after a send, further updates of that PE are held and
// only the latest is sent when the window ends (which opens the next window). A PE that moves
// or ping-pongs many times a second costs one Handle Update per window instead of one per
// registration, and an isolated move is not delayed at all.
//
// Transport-only updates (offer_transport_only: the PE's ASAP transport changed by SCTP ADD-IP /
// DELETE-IP / SET-PRIMARY of its association, nothing a PU sees) neither go out at once nor open
// a window: they wait up to `delay` for the PE's next ordinary update to carry them (a mobile PE
// re-registers with its new address right after adding it), so a make-before-break move costs
// one Handle Update instead of three. They are never needed for a Presence (the checksum covers
// handles and PE identifiers only), so take_all() leaves them held.
//
// Contract: single-threaded (the registrar event loop that drives EnrpServer); time comes in as
// arguments. Memory: one slot per PE updated within the last window, or with a transport-only
// update waiting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "registrar/common/clock.hpp"
#include "registrar/common/pool_element.hpp"
#include "registrar/common/pe_key.hpp"
#include "registrar/common/pool_handle.hpp"
#include "registrar/wire/enrp_messages.hpp"

namespace poolreg::enrp {

class UpdateCoalescer {
 public:
  struct Update {
    PoolHandle handle;
    PoolElement pe;
    wire::UpdateAction action = wire::UpdateAction::kAddPe;
  };

  // An update of the PE: true = send it now (nothing was sent for it within the window; a
  // window starts); false = held (it replaces what was held before, counted in coalesced()).
  bool offer(const PoolHandle& handle, const PoolElement& pe, wire::UpdateAction action, TimeNs now, TimeNs window);
  // A Handle Update ADD that changes only the PE's ASAP transport: held until the PE's next
  // update replaces it, or sent (opening a window) at now + delay. Within an open window it is
  // held like any update and goes out when the window ends only if something else is held too.
  void offer_transport_only(const PoolHandle& handle, const PoolElement& pe, TimeNs now, TimeNs delay);
  // Damping off: an update of the PE is about to be sent directly; anything held for it is stale.
  void supersede(const PoolHandle& handle, PoolElementId id);
  // Held updates whose window ended, in window order; each sent one opens a new window.
  void take_due(TimeNs now, TimeNs window, std::vector<Update>& out);
  // Transport-only updates whose delay ended are sent too (each opens a window).
  // Every held ordinary update at once (before a Presence announces our checksum); the windows
  // stay, so what follows is still damped. Transport-only ones stay held (see above).
  void take_all(std::vector<Update>& out);
  std::optional<TimeNs> next_due() const;
  // True when take_due has something to do at `now` (a window or a transport delay ended);
  // it also forgets quiet PEs, so it must run even when nothing is held.
  bool pass_due(TimeNs now) const noexcept;
  std::size_t held() const noexcept { return held_; }
  std::size_t held_transport_only() const noexcept { return held_transport_only_; }
  std::uint64_t coalesced() const noexcept { return coalesced_; }

 private:
  using Key = PeKey;
  using KeyHash = PeKeyHash;
  struct Slot {
    TimeNs window_end = 0;
    std::optional<Update> held;
    bool transport_only = false;  // `held` changes only the ASAP transport
    TimeNs transport_due = 0;     // when a transport-only `held` goes out by itself
  };
  void hold(Slot& slot, Update u, bool transport_only);
  void release(Slot& slot);
  void open_window(Slot& slot, const Key& key, TimeNs now, TimeNs window);

  std::unordered_map<Key, Slot, KeyHash> slots_;
  // Window ends in the order they were opened (the window is fixed per call, so they are
  // sorted; a changed window only shifts when a slot is looked at, never loses it).
  std::deque<std::pair<TimeNs, Key>> order_;
  // Transport-only due times in the order they were set (the delay is fixed per call).
  std::deque<std::pair<TimeNs, Key>> transport_order_;
  std::size_t held_ = 0;
  std::size_t held_transport_only_ = 0;
  std::uint64_t coalesced_ = 0;
};

}  // namespace poolreg::enrp
