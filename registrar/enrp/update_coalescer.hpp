// UpdateCoalescer: damping of ENRP Handle Updates per PE (issue 14 item 4). The first update of
// a PE goes out at once; for `window` after a send, further updates of that PE are held and
// only the latest is sent when the window ends (which opens the next window). A PE that moves
// or ping-pongs many times a second costs one Handle Update per window instead of one per
// registration, and an isolated move is not delayed at all.
//
// Contract: single-threaded (the registrar event loop that drives EnrpServer); time comes in as
// arguments. Memory: one slot per PE updated within the last window.
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
  // Held updates whose window ended, in window order; each sent one opens a new window.
  void take_due(TimeNs now, TimeNs window, std::vector<Update>& out);
  // Every held update at once (before a Presence announces our checksum, at shutdown); the
  // windows stay, so what follows is still damped.
  void take_all(std::vector<Update>& out);
  std::optional<TimeNs> next_due() const;
  std::size_t held() const noexcept { return held_; }
  std::uint64_t coalesced() const noexcept { return coalesced_; }

 private:
  using Key = PeKey;
  using KeyHash = PeKeyHash;
  struct Slot {
    TimeNs window_end = 0;
    std::optional<Update> held;
  };

  std::unordered_map<Key, Slot, KeyHash> slots_;
  // Window ends in the order they were opened (the window is fixed per call, so they are
  // sorted; a changed window only shifts when a slot is looked at, never loses it).
  std::deque<std::pair<TimeNs, Key>> order_;
  std::size_t held_ = 0;
  std::uint64_t coalesced_ = 0;
};

}  // namespace poolreg::enrp
