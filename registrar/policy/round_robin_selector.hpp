// RoundRobinSelector: RR (policies.md §2: every PE in turn, "Seq := next").
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "registrar/policy/selector.hpp"
#include "registrar/policy/slot_ring.hpp"

namespace poolreg::policy {

// RR is the ordered family with one key for every PE: a single round-robin group. It answers as
// OrderedSelector would with that one group (same rotation, MaxIncrement 1), but keeps the ring
// inside the selector instead of behind a sorted group list, and stores only a ring position
// per slot (4 bytes, not the 16 of an ordered entry: RR has no policy values to keep).
// Why: a resolution on a large handlespace is a chain of dependent cache misses; the group
// object is one link of it (and its own allocation), and the ordered entries ~15 bytes per PE.
// Writer: insert, update (nothing changes: RR ignores policy values; the PE keeps its turn),
// erase, destructor. Readers: select, size (lock-free, SlotRing's contract).
class RoundRobinSelector final : public Selector {
 public:
  explicit RoundRobinSelector(Reclaimer& reclaimer) noexcept : reclaimer_(reclaimer) {}

  void insert(Slot slot, const PolicyParams& params) override;
  void update(Slot slot, const PolicyParams& params) override { insert(slot, params); }
  void erase(Slot slot) override;
  void on_selected(Slot) override {}
  void prefetch(Slot slot) const noexcept override {
    if (slot < positions_.size()) __builtin_prefetch(&positions_[slot]);
  }
  bool needs_selection_feedback() const noexcept override { return false; }
  std::size_t select(std::size_t k, SelectorContext& ctx, Slot* out) const override;
  std::size_t size() const noexcept override { return size_.load(std::memory_order_relaxed); }
  PolicyType type() const noexcept override { return PolicyType::kRoundRobin; }
  std::size_t memory_bytes() const noexcept override;

 private:
  Reclaimer& reclaimer_;
  SlotRing ring_;
  std::vector<std::uint32_t> positions_;  // writer-only, by slot: ring position or kNoPosition
  std::atomic<std::size_t> size_{0};
};

}  // namespace poolreg::policy
