// FenwickIndex: per-slot u32 values with prefix sums (binary indexed tree), readable while one
// writer changes it: the cumulative-weight tree behind WRR and the random policies.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "registrar/common/reclaimer.hpp"
#include "registrar/policy/slot.hpp"

namespace poolreg::policy {

// Writer (one thread): set(), destructor. Readers (any thread, lock-free): view() and the View.
// A set() changes O(log capacity) tree nodes one relaxed atomic store at a time, so a reader
// may see some nodes updated and others not: every answer of find() is therefore checked
// against the slot's own value (value(slot) > 0) by the caller, and searches never step
// outside the array. Capacity is a power of two >= highest slot + 1; growth copies the tree
// into a new block, publishes it (release) and retires the old block through the Reclaimer.
// Memory: 12 bytes per slot of capacity (u64 tree node + u32 value).
class FenwickIndex {
 public:
  static constexpr Slot kNoSlot = 0xFFFFFFFFu;

  explicit FenwickIndex(Reclaimer& reclaimer) noexcept : reclaimer_(reclaimer) {}
  ~FenwickIndex();
  FenwickIndex(const FenwickIndex&) = delete;
  FenwickIndex& operator=(const FenwickIndex&) = delete;

  // --- writer ---
  void set(Slot slot, std::uint32_t value);
  std::uint32_t value(Slot slot) const noexcept;  // writer's view; 0 for slots never set
  std::size_t memory_bytes() const noexcept;

  struct Block;
  // --- readers ---
  class View {
   public:
    explicit View(const Block* block) noexcept : block_(block) {}
    bool empty() const noexcept { return block_ == nullptr; }
    std::uint64_t total() const noexcept;
    std::uint32_t value(Slot slot) const noexcept;  // 0 outside the array
    // Sum of the values of slots 0..slot (inclusive).
    std::uint64_t prefix_through(Slot slot) const noexcept;
    // Slot whose cumulative range contains r, i.e. the smallest s with prefix_through(s) > r;
    // kNoSlot if r >= total (or the reads were inconsistent).
    Slot find(std::uint64_t r) const noexcept;
    // As find() over the values with the `n` slots in `excluded` (values `excluded_values`,
    // as read when they were drawn) counted as 0. O(n log capacity).
    Slot find_excluding(std::uint64_t r, const Slot* excluded, const std::uint32_t* excluded_values,
                        std::size_t n) const noexcept;

   private:
    const Block* block_;
  };
  View view() const noexcept { return View(block_.load(std::memory_order_acquire)); }

 private:
  void grow(Slot slot);

  Reclaimer& reclaimer_;
  std::atomic<Block*> block_{nullptr};
};

}  // namespace poolreg::policy
