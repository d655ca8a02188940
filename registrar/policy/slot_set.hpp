// SlotSet: tiny per-reader scratch set of slots, used to keep one answer free of duplicates.
#pragma once

#include <array>
#include <cstdint>

#include "registrar/policy/slot.hpp"

namespace poolreg::policy {

// Holds at most kMaxSelectItems slots; clear() is O(1) (generation stamp), insert O(1) expected.
// Not thread-safe: lives in a SelectorContext, one per reader thread.
class SlotSet {
 public:
  void clear() noexcept {
    if (++generation_ == 0) {  // wrapped: old stamps could collide, wipe once every 2^32 clears
      stamps_.fill(0);
      generation_ = 1;
    }
  }
  // Returns false when the slot was already present.
  bool insert(Slot slot) noexcept {
    std::uint32_t i = hash(slot);
    for (std::uint32_t probes = 0; probes < kTableSize; ++probes, i = (i + 1) & (kTableSize - 1)) {
      if (stamps_[i] != generation_) {
        stamps_[i] = generation_;
        slots_[i] = slot;
        return true;
      }
      if (slots_[i] == slot) return false;
    }
    return false;  // unreachable while callers respect kMaxSelectItems
  }
  bool contains(Slot slot) const noexcept {
    std::uint32_t i = hash(slot);
    for (std::uint32_t probes = 0; probes < kTableSize; ++probes, i = (i + 1) & (kTableSize - 1)) {
      if (stamps_[i] != generation_) return false;
      if (slots_[i] == slot) return true;
    }
    return false;
  }

 private:
  static constexpr std::uint32_t kTableSize = 2 * kMaxSelectItems;  // power of two, load <= 1/2
  static std::uint32_t hash(Slot slot) noexcept { return (slot * 0x9E3779B1u) >> (32 - kTableBits); }
  static constexpr std::uint32_t kTableBits = 8;
  static_assert((1u << kTableBits) == kTableSize);

  std::uint32_t generation_ = 1;
  std::array<std::uint32_t, kTableSize> stamps_{};
  std::array<Slot, kTableSize> slots_{};
};

}  // namespace poolreg::policy
