// WeightedRoundRobinSelector: WRR, each PE picked `weight` times per round (weight 0 as 1).
#pragma once

#include <atomic>
#include <cstdint>

#include "registrar/policy/fenwick_index.hpp"
#include "registrar/policy/selector.hpp"

namespace poolreg::policy {

// Lay the PEs' weights end to end: PE s owns positions [prefix(s-1), prefix(s)) of [0, W),
// W = sum of weights (a FenwickIndex). Resolution number t (an atomic counter, +1 per select)
// takes position q = ((t mod W) * g) mod W, with g coprime to W and close to W / golden ratio,
// and answers the PE owning q (O(log n)). Since q runs through every position once per W
// consecutive resolutions, each PE comes first exactly `weight` times per round of W, and the
// golden-ratio stride spreads its turns across the round (weights 3,1 give a,b,a,a) instead of
// serving them in one block. Further items of one answer are the PEs at the next positions
// t+1, t+2, ... (the next in line; at most 2 probes per wanted item), then, if duplicates
// remain, the PEs following the last found one in slot order (O(log n) each).
// Changing the PE set changes W and g: the round restarts from wherever t mod W falls.
class WeightedRoundRobinSelector final : public Selector {
 public:
  explicit WeightedRoundRobinSelector(Reclaimer& reclaimer) : index_(reclaimer) {}

  void insert(Slot slot, const PolicyParams& params) override;
  void update(Slot slot, const PolicyParams& params) override { insert(slot, params); }
  void erase(Slot slot) override;
  void on_selected(Slot) override {}
  bool needs_selection_feedback() const noexcept override { return false; }
  std::size_t select(std::size_t k, SelectorContext& ctx, Slot* out) const override;
  std::size_t size() const noexcept override { return size_.load(std::memory_order_relaxed); }
  PolicyType type() const noexcept override { return PolicyType::kWeightedRoundRobin; }
  std::size_t memory_bytes() const noexcept override { return sizeof(*this) + index_.memory_bytes(); }

 private:
  void total_changed(std::int64_t delta);
  Slot at(const FenwickIndex::View& view, std::uint64_t total, std::uint64_t stride, std::uint64_t t) const noexcept;

  FenwickIndex index_;  // value = max(1, weight); 0 = absent
  std::uint64_t total_ = 0;  // writer's copy of W
  std::atomic<std::uint64_t> stride_{1};
  mutable std::atomic<std::uint64_t> counter_{0};
  std::atomic<std::size_t> size_{0};
};

}  // namespace poolreg::policy
