// Selector: a pool's member selection index for one policy (RFC 5356 + RSPLIB extensions,
// shared/spec/policies.md), readable by any number of threads while one writer changes it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "registrar/common/policy.hpp"
#include "registrar/common/reclaimer.hpp"
#include "registrar/policy/slot.hpp"
#include "registrar/policy/slot_set.hpp"
#include "registrar/policy/xoshiro256.hpp"

namespace poolreg::policy {

// Per reader thread state: random generator and scratch space. Never shared between threads.
class SelectorContext {
 public:
  explicit SelectorContext(std::uint64_t seed) noexcept : rng_(seed) {}

  Xoshiro256& rng() noexcept { return rng_; }
  SlotSet& seen() noexcept { return seen_; }

 private:
  Xoshiro256 rng_;
  SlotSet seen_;
};

// Threading contract
// - Writer side (insert, update, erase, on_selected, destructor): one thread at a time (the
//   shard owner). Memory readers may still hold is handed to the Reclaimer given at
//   construction, never freed directly; the Reclaimer must outlive the selector.
// - Reader side (select, size, needs_selection_feedback, type): any number of threads,
//   concurrently with the writer, inside the caller's QSBR read-side section. Lock-free, no
//   allocation, no blocking; bounded work: O(log n) or O(1) per returned slot (never a scan).
//
// Guarantee given to readers: select() never returns the same slot twice in one answer, and
// every returned slot had been inserted and was not yet erased at some moment during the call
// as far as this selector could see (values are read with atomic loads, never torn). When the
// writer changes the selector during the call the answer may be shorter than min(k, size())
// or skip a PE once; the handlespace must still revalidate the slot's PE record before use.
// When nothing changes concurrently, select() returns exactly min(k, kMaxSelectItems, number
// of selectable PEs) slots (WRAND / WRAND-DPF PEs with value 0 are not selectable).
//
// Indexes and costs (n PEs, k items; bytes per PE measured at 10^6 PEs):
// - RR (RoundRobinSelector): one round-robin ring inside the selector; select O(k), writer O(1);
//   ~5 bytes/PE of ring plus 4 of position at 100 PEs a pool.
// - PRI, LU, LUD, PLU, PLUD, *-DPF orders (OrderedSelector): groups of equal key, each a
//   round-robin ring, in a key-sorted list; select O(groups touched + k), writer O(log n).
//   ~21 bytes/PE when keys repeat (PRI, quantised loads), ~76 when every load differs.
// - WRR (WeightedRoundRobinSelector): Fenwick tree; select O(k log n); ~13 bytes/PE.
// - RAND, WRAND, WRAND-DPF, RLU, RPLU, RLUD, RPLUD (RandomSelector): Fenwick tree; select
//   O(k log n) expected; ~29 bytes/PE.
// Tables are sized by the highest slot (dense per-pool slots, see slot.hpp).
//
// Policy state (round-robin cursors, degradation) is per selector, i.e. per PR (policies.md §1).
// MaxIncrement is 1 for ordered policies (only the first returned PE's state advances per
// answer) and 0/1 as in policies.md §2 for random ones; clean semantics, no RSPLIB double step.
class Selector {
 public:
  virtual ~Selector() = default;
  Selector(const Selector&) = delete;
  Selector& operator=(const Selector&) = delete;

  // --- writer side: one thread at a time ---
  // Adds a PE. Slots must be unique; inserting a present slot behaves as update().
  // params.type is ignored: the selector's policy was fixed by make_selector().
  virtual void insert(Slot slot, const PolicyParams& params) = 0;
  // Re-registration: new policy values, degradation reset to 0. Absent slot: behaves as insert().
  virtual void update(Slot slot, const PolicyParams& params) = 0;
  // Removes a PE; unknown slots are ignored.
  virtual void erase(Slot slot) = 0;
  // Applies the policy's update step for a PE a reader selected (LUD family: degradation +=
  // load_degradation, clamped). Readers report the first slot of each answer to the writer (the
  // handlespace forwards it); only needed when needs_selection_feedback(). Unknown slots ignored.
  virtual void on_selected(Slot slot) = 0;
  // Hint before erase(slot) or update(slot): loads the writer-side state of the slot into the
  // cache (never a correctness dependency). Lets the handlespace overlap this miss with its own
  // when a PE leaves. Default: nothing.
  virtual void prefetch(Slot slot) const noexcept { (void)slot; }

  // --- reader side: any thread, concurrently with the writer ---
  // True for LUD, PLUD, LUD-DPF, PLUD-DPF, RLUD, RPLUD: their update step lives on the writer.
  // Every other policy advances its state inside select() (atomic cursors) or has none.
  virtual bool needs_selection_feedback() const noexcept = 0;
  // Writes up to k distinct slots into out (out[0] = best / first in policy order), returns how
  // many were written. k is capped at kMaxSelectItems; out must hold min(k, kMaxSelectItems).
  virtual std::size_t select(std::size_t k, SelectorContext& ctx, Slot* out) const = 0;
  // Number of PEs inserted and not erased (exact on the writer, a recent value on readers).
  virtual std::size_t size() const noexcept = 0;
  virtual PolicyType type() const noexcept = 0;

  // --- writer side, diagnostics ---
  // Bytes held by the index (live structures, excluding retired memory awaiting reclamation).
  virtual std::size_t memory_bytes() const noexcept = 0;

 protected:
  Selector() = default;
};

// Creates the index for one policy. The reclaimer must outlive the selector; the selector
// retires replaced memory through it and frees its live memory in its destructor (the caller
// destroys a selector only when no reader can reach it any more, or retires it as a whole).
std::unique_ptr<Selector> make_selector(PolicyType type, Reclaimer& reclaimer);

// Room construct_selector() needs: enough for every selector type (static_assert in the .cpp).
inline constexpr std::size_t kSelectorStorageBytes = 96;
inline constexpr std::size_t kSelectorStorageAlign = 64;
// make_selector() inside `storage` (kSelectorStorageBytes, aligned to kSelectorStorageAlign):
// its owner keeps the selector in its own allocation, so a resolution reaches the selector's
// state (an RR ring's array and cursor) without one more dependent cache miss. The owner ends it
// with std::destroy_at under the same rule as above.
Selector* construct_selector(PolicyType type, Reclaimer& reclaimer, void* storage);

}  // namespace poolreg::policy
