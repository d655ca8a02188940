#include "registrar/policy/weighted_round_robin_selector.hpp"

#include <numeric>

#include "registrar/policy/policy_state.hpp"

namespace poolreg::policy {
namespace {

// Coprime to total and close to total / phi: the stride of the interleaved schedule.
std::uint64_t golden_stride(std::uint64_t total) {
  if (total <= 2) return 1;
  std::uint64_t g = static_cast<std::uint64_t>(static_cast<long double>(total) * 0.6180339887498948482L);
  if (g == 0) g = 1;
  while (std::gcd(g, total) != 1) ++g;  // a few steps: coprimes are dense
  return g % total;
}

}  // namespace

void WeightedRoundRobinSelector::insert(Slot slot, const PolicyParams& params) {
  const std::uint32_t weight = params.weight == 0 ? 1 : params.weight;
  const std::uint32_t old = index_.value(slot);
  if (old == 0) size_.store(size_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  index_.set(slot, weight);
  total_changed(static_cast<std::int64_t>(weight) - old);
}

void WeightedRoundRobinSelector::erase(Slot slot) {
  const std::uint32_t old = index_.value(slot);
  if (old == 0) return;
  index_.set(slot, 0);
  size_.store(size_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  total_changed(-static_cast<std::int64_t>(old));
}

void WeightedRoundRobinSelector::total_changed(std::int64_t delta) {
  if (delta == 0) return;
  total_ += static_cast<std::uint64_t>(delta);
  stride_.store(golden_stride(total_), std::memory_order_release);
}

Slot WeightedRoundRobinSelector::at(const FenwickIndex::View& view, std::uint64_t total, std::uint64_t stride,
                                    std::uint64_t t) const noexcept {
  const auto position =
      static_cast<std::uint64_t>((static_cast<unsigned __int128>(t % total) * stride) % total);
  const Slot slot = view.find(position);
  return slot != FenwickIndex::kNoSlot && view.value(slot) != 0 ? slot : FenwickIndex::kNoSlot;
}

std::size_t WeightedRoundRobinSelector::select(std::size_t k, SelectorContext& ctx, Slot* out) const {
  if (k > kMaxSelectItems) k = kMaxSelectItems;
  const FenwickIndex::View view = index_.view();
  if (view.empty() || k == 0) return 0;
  const std::uint64_t total = view.total();
  if (total == 0) return 0;
  // A stride computed for another total (writer in between) still gives a valid position,
  // only not a permutation for this one round.
  const std::uint64_t stride = stride_.load(std::memory_order_acquire);
  const std::uint64_t t = counter_.fetch_add(1, std::memory_order_relaxed);
  SlotSet& seen = ctx.seen();
  seen.clear();
  std::size_t written = 0;
  Slot last = FenwickIndex::kNoSlot;
  const std::uint64_t probes = 2 * k;
  for (std::uint64_t j = 0; j < probes && written < k; ++j) {
    const Slot slot = at(view, total, stride, t + j);
    if (slot == FenwickIndex::kNoSlot) continue;
    last = slot;
    if (seen.insert(slot)) out[written++] = slot;
  }
  // Heavy weights filled the probes with duplicates: walk on in slot order (cyclic).
  const Slot start = last;
  for (std::size_t steps = 0; written < k && last != FenwickIndex::kNoSlot && steps < k + kMaxSelectItems;
       ++steps) {
    const std::uint64_t end = view.prefix_through(last);  // first position after `last`
    const Slot slot = view.find(end >= total ? 0 : end);
    if (slot == FenwickIndex::kNoSlot || slot == start) break;  // inconsistent read, or cycled
    last = slot;
    if (view.value(slot) == 0) continue;  // erased meanwhile: walk on past it
    if (seen.insert(slot)) out[written++] = slot;
  }
  return written;
}

}  // namespace poolreg::policy
