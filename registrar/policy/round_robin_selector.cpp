#include "registrar/policy/round_robin_selector.hpp"

namespace poolreg::policy {

void RoundRobinSelector::insert(Slot slot, const PolicyParams& params) {
  (void)params;
  if (slot >= positions_.size()) positions_.resize(static_cast<std::size_t>(slot) + 1, SlotRing::kNoPosition);
  if (positions_[slot] != SlotRing::kNoPosition) return;  // present: RR keeps its turn
  positions_[slot] = ring_.push(slot, reclaimer_);
  size_.store(size_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void RoundRobinSelector::erase(Slot slot) {
  if (slot >= positions_.size() || positions_[slot] == SlotRing::kNoPosition) return;
  const std::uint32_t position = positions_[slot];
  ring_.prefetch_removal(position);
  const Slot moved = ring_.remove_at(position, reclaimer_);
  if (moved != SlotRing::kNoSlot) positions_[moved] = position;
  positions_[slot] = SlotRing::kNoPosition;
  size_.store(size_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

std::size_t RoundRobinSelector::select(std::size_t k, SelectorContext& ctx, Slot* out) const {
  if (k > kMaxSelectItems) k = kMaxSelectItems;
  SlotSet& seen = ctx.seen();
  seen.clear();
  return ring_.read(k, true, seen, out);
}

std::size_t RoundRobinSelector::memory_bytes() const noexcept {
  return sizeof(*this) + positions_.capacity() * sizeof(std::uint32_t) + ring_.memory_bytes();
}

}  // namespace poolreg::policy
