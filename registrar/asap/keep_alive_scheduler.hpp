// KeepAliveScheduler: a hashed timer wheel for the endpoint keep-alive timers of (potentially
// millions of) owned PEs. Timers are named by dense uint32 ids chosen by the caller (the
// OwnedPeTable slot index); each id has at most one pending deadline.
//
// Costs: arm / disarm / re-arm O(1); run_due O(ticks elapsed (capped at one rotation) + timers
// in the visited slots); next_due O(slots / 64) via an occupancy bitmap. Memory: 24 bytes per id
// plus 4 bytes per slot.
//
// Precision: a timer fires in the first run_due(now) with now >= deadline. next_due() may
// return a time up to one tick later than a deadline inside the current tick and may be early
// (a slot whose timers belong to a later rotation): the caller just calls run_due again.
//
// Single-threaded (the registrar event loop). Not copyable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "registrar/common/clock.hpp"
#include "registrar/common/function_ref.hpp"

namespace poolreg::asap {

class KeepAliveScheduler {
 public:
  using TimerId = std::uint32_t;

  // tick: wheel resolution (> 0); slots: rounded up to a power of two (>= 64).
  // start: time of construction (the wheel never looks before it).
  KeepAliveScheduler(TimeNs tick, std::size_t slots, TimeNs start);
  KeepAliveScheduler(const KeepAliveScheduler&) = delete;
  KeepAliveScheduler& operator=(const KeepAliveScheduler&) = delete;

  // Sets (or moves) the deadline of `id`. Grows the id table when needed (allocation only then).
  void arm(TimerId id, TimeNs deadline);
  // Cancels the timer of `id`; no-op when not armed.
  void disarm(TimerId id) noexcept;
  bool armed(TimerId id) const noexcept;
  // Deadline of an armed timer (unspecified when not armed).
  TimeNs deadline(TimerId id) const noexcept;

  // Fires every timer with deadline <= now, in no particular order. A fired timer is disarmed
  // before `fire(id)` runs; the callback may arm/disarm any timer (a timer disarmed or re-armed
  // by an earlier callback of the same run does not fire). Returns the number fired.
  std::size_t run_due(TimeNs now, FunctionRef<void(TimerId)> fire);

  // When run_due should be called next; nullopt when no timer is armed.
  std::optional<TimeNs> next_due() const noexcept;

  std::size_t size() const noexcept { return armed_count_; }
  TimeNs tick() const noexcept { return tick_; }

 private:
  static constexpr std::uint32_t kNone = 0xffffffffu;
  struct Node {
    TimeNs deadline = 0;
    std::uint32_t prev = kNone;
    std::uint32_t next = kNone;
    std::uint32_t slot = kNone;  // kNone: not armed
    std::uint32_t generation = 0;
  };
  struct Due {
    TimerId id;
    std::uint32_t generation;
  };

  std::uint64_t tick_of(TimeNs t) const noexcept { return t / tick_; }
  void link(TimerId id, std::uint32_t slot) noexcept;
  void unlink(TimerId id) noexcept;
  void collect_slot(std::uint32_t slot, TimeNs now);

  TimeNs tick_;
  std::uint32_t mask_;
  std::uint64_t cursor_;  // first tick not fully processed
  std::vector<std::uint32_t> heads_;
  std::vector<std::uint64_t> occupied_;  // bit per slot
  std::vector<Node> nodes_;
  std::vector<Due> due_;  // scratch reused by run_due
  std::size_t armed_count_ = 0;
};

}  // namespace poolreg::asap
