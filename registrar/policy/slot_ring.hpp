// SlotRing: a dense array of slots with a shared rotation cursor: one round-robin group.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "registrar/common/reclaimer.hpp"
#include "registrar/policy/slot.hpp"
#include "registrar/policy/slot_set.hpp"

namespace poolreg::policy {

// Writer (one thread): push / remove_at / destructor. Readers (any thread, lock-free): read.
// Removal moves the last slot into the hole (O(1)); growth and shrinking copy the array into a
// new one (capacities chosen so that the array with its header is a power of two in bytes),
// publish it with a release store and retire the old one through the Reclaimer.
// Readers see an array together with its own count, so every index they read is initialised.
// The first array (one slot) is inline, so a group of one PE (LU with distinct loads) costs a
// single allocation; it is never reused once the ring has moved to a heap array.
class SlotRing {
 public:
  static constexpr std::uint32_t kNoPosition = 0xFFFFFFFFu;

  SlotRing() noexcept;
  ~SlotRing();  // frees the current array directly: call only when no reader can reach the ring
  SlotRing(const SlotRing&) = delete;
  SlotRing& operator=(const SlotRing&) = delete;

  // --- writer ---
  // Appends slot; returns its position.
  std::uint32_t push(Slot slot, Reclaimer& reclaimer);
  // Removes the slot at position; returns the slot that moved into position (its new position
  // is `position`), or kNoSlot when the removed one was last.
  static constexpr Slot kNoSlot = 0xFFFFFFFFu;
  Slot remove_at(std::uint32_t position, Reclaimer& reclaimer);
  // Hint before remove_at(position): the two array lines it reads (the position and the last
  // slot), so that their misses overlap. Never a correctness dependency.
  void prefetch_removal(std::uint32_t position) const noexcept;
  std::uint32_t count() const noexcept;
  std::size_t memory_bytes() const noexcept;

  // --- reader ---
  // Appends up to `limit` slots not yet in `seen` to out, in rotation order from the cursor
  // (skipping slots already in `seen`, reading at most 2 x limit positions);
  // with advance, the cursor moves on by one (one resolution). Returns how many were written.
  std::size_t read(std::size_t limit, bool advance, SlotSet& seen, Slot* out) const noexcept;

 private:
  struct Array;
  static std::uint32_t fitted_capacity(std::uint32_t slots) noexcept;
  static Array* allocate(std::uint32_t capacity);
  static void release(void* array) noexcept;
  void replace(std::uint32_t capacity, Reclaimer& reclaimer);

  Array* inline_array() noexcept;

  std::atomic<Array*> array_;
  // Rotation position; wraps at 2^32 (one irregular step per 4 billion answers).
  mutable std::atomic<std::uint32_t> cursor_{0};
  // The writer's count, beside array_ and cursor_ so that a reader can ask for the line of its
  // first position before the array header (with the real count) arrives: on a large
  // handlespace those are two cache misses that would otherwise come one after the other. Only
  // ever a prefetch address; a stale value costs the prefetch, nothing else.
  std::atomic<std::uint32_t> count_hint_{0};
  // Inline one-slot Array: header (capacity, count) followed by one slot.
  alignas(std::uint32_t) unsigned char inline_storage_[3 * sizeof(std::uint32_t)];
};

}  // namespace poolreg::policy
