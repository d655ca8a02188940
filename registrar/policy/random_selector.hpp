// RandomSelector: RAND, WRAND, WRAND-DPF, RLU, RPLU, RLUD, RPLUD (draw proportional to value).
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "registrar/policy/fenwick_index.hpp"
#include "registrar/policy/policy_state.hpp"
#include "registrar/policy/selector.hpp"

namespace poolreg::policy {

// Values per slot live in a FenwickIndex. A select of k items draws without replacement: each
// draw picks slot s with probability value(s) / (sum of values not yet drawn). While the drawn
// mass is under half the total it draws from the full tree and rejects duplicates (up to 4
// tries, each O(log n)); otherwise, or after 4 rejections, it descends the tree with the drawn
// slots subtracted (exact, O(k log n)). Both give the same distribution. A draw that lands on a
// slot whose value reads 0 (concurrent writer) is retried; after 4 such failures the answer
// ends early. Value-0 PEs (WRAND weight 0) are never drawn.
// RLUD / RPLUD: on_selected adds load_degradation to the PE's degradation (policies.md §3,
// "intended" semantics; RSPLIB never applies it).
class RandomSelector final : public Selector {
 public:
  RandomSelector(PolicyType type, Reclaimer& reclaimer);

  void insert(Slot slot, const PolicyParams& params) override;
  void update(Slot slot, const PolicyParams& params) override;
  void erase(Slot slot) override;
  void on_selected(Slot slot) override;
  bool needs_selection_feedback() const noexcept override { return degrades_; }
  std::size_t select(std::size_t k, SelectorContext& ctx, Slot* out) const override;
  std::size_t size() const noexcept override { return size_.load(std::memory_order_relaxed); }
  PolicyType type() const noexcept override { return type_; }
  std::size_t memory_bytes() const noexcept override;

 private:
  struct Entry {  // writer-only, indexed by slot
    PolicyState state;
    bool present = false;
  };

  const PolicyType type_;
  const bool degrades_;
  FenwickIndex index_;
  std::vector<Entry> entries_;
  std::atomic<std::size_t> size_{0};
};

}  // namespace poolreg::policy
