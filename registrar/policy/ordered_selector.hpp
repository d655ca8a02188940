// OrderedSelector: RR, PRI, LU, LUD, PLU, PLUD and the LU *-DPF orders.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "registrar/policy/key_index.hpp"
#include "registrar/policy/policy_state.hpp"
#include "registrar/policy/selector.hpp"
#include "registrar/policy/slot_ring.hpp"

namespace poolreg::policy {

// PEs with equal policy key form a group (a SlotRing: equal keys rotate round-robin, the
// "Seq := next" rule of policies.md §2). Groups sit in a singly linked list sorted by key that
// readers walk from the front with acquire loads; a select of k items takes slots from the
// first groups in order and advances only the cursor of the group that supplied the first slot
// (MaxIncrement 1). RR is the special case of a single group.
// The writer finds groups through a private B+ tree key -> group (O(log groups)); unlinked
// groups and replaced ring arrays are retired through the Reclaimer.
// Degrading policies (LUD, PLUD, LUD-DPF, PLUD-DPF): on_selected raises the PE's key by
// load_degradation and moves it to the back of the group of its new key.
class OrderedSelector final : public Selector {
 public:
  OrderedSelector(PolicyType type, Reclaimer& reclaimer);
  ~OrderedSelector() override;

  void insert(Slot slot, const PolicyParams& params) override;
  void update(Slot slot, const PolicyParams& params) override;
  void erase(Slot slot) override;
  void on_selected(Slot slot) override;
  void prefetch(Slot slot) const noexcept override {
    if (slot < entries_.size()) __builtin_prefetch(&entries_[slot]);
  }
  bool needs_selection_feedback() const noexcept override { return degrades_; }
  std::size_t select(std::size_t k, SelectorContext& ctx, Slot* out) const override;
  std::size_t size() const noexcept override { return size_.load(std::memory_order_relaxed); }
  PolicyType type() const noexcept override { return type_; }
  std::size_t memory_bytes() const noexcept override;

 private:
  struct Group {
    std::atomic<Group*> next{nullptr};
    std::uint32_t key = 0;
    SlotRing ring;
  };
  struct Entry {  // writer-only, indexed by slot
    PolicyState state;
    std::uint32_t position = SlotRing::kNoPosition;  // in its group's ring; kNoPosition = absent
  };

  Group* group_for(std::uint32_t key);    // finds or creates and links
  void place(Slot slot, Entry& entry);     // appends slot to the group of entry's key
  void unplace(Slot slot, Entry& entry);   // removes slot from its group, unlinks empty groups

  const PolicyType type_;
  const bool degrades_;
  Reclaimer& reclaimer_;
  std::atomic<Group*> first_{nullptr};
  KeyIndex groups_;  // key -> Group*
  std::vector<Entry> entries_;
  std::atomic<std::size_t> size_{0};
};

}  // namespace poolreg::policy
