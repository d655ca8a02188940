#include "registrar/policy/random_selector.hpp"

#include <array>

namespace poolreg::policy {
namespace {
constexpr int kRejectionTries = 4;
constexpr int kMaxFailedDraws = 4;
}  // namespace

RandomSelector::RandomSelector(PolicyType type, Reclaimer& reclaimer)
    : type_(type), degrades_(policy_degrades(type)), index_(reclaimer) {}

void RandomSelector::insert(Slot slot, const PolicyParams& params) {
  if (slot >= entries_.size()) entries_.resize(static_cast<std::size_t>(slot) + 1);
  Entry& entry = entries_[slot];
  if (!entry.present) size_.store(size_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  entry.present = true;
  entry.state = make_policy_state(type_, params);
  index_.set(slot, random_value(type_, entry.state));
}

void RandomSelector::update(Slot slot, const PolicyParams& params) { insert(slot, params); }

void RandomSelector::erase(Slot slot) {
  if (slot >= entries_.size() || !entries_[slot].present) return;
  entries_[slot].present = false;
  index_.set(slot, 0);
  size_.store(size_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

void RandomSelector::on_selected(Slot slot) {
  if (!degrades_ || slot >= entries_.size()) return;
  Entry& entry = entries_[slot];
  if (!entry.present || entry.state.step == 0) return;
  entry.state.degradation = saturating_add(entry.state.degradation, entry.state.step);
  index_.set(slot, random_value(type_, entry.state));
}

std::size_t RandomSelector::select(std::size_t k, SelectorContext& ctx, Slot* out) const {
  if (k > kMaxSelectItems) k = kMaxSelectItems;
  const FenwickIndex::View view = index_.view();
  if (view.empty() || k == 0) return 0;
  SlotSet& seen = ctx.seen();
  seen.clear();
  Xoshiro256& rng = ctx.rng();
  std::array<std::uint32_t, kMaxSelectItems> drawn_values;
  std::uint64_t drawn_mass = 0;
  std::size_t written = 0;
  int failures = 0;
  while (written < k && failures < kMaxFailedDraws) {
    const std::uint64_t total = view.total();
    if (total <= drawn_mass) break;  // nothing selectable left
    const std::uint64_t remaining = total - drawn_mass;
    Slot slot = FenwickIndex::kNoSlot;
    std::uint32_t value = 0;
    if (drawn_mass < remaining) {  // drawn mass under half: rejection is cheap
      for (int attempt = 0; attempt < kRejectionTries; ++attempt) {
        const Slot candidate = view.find(rng.below(total));
        if (candidate == FenwickIndex::kNoSlot || seen.contains(candidate)) continue;
        value = view.value(candidate);
        if (value == 0) continue;
        slot = candidate;
        break;
      }
    }
    if (slot == FenwickIndex::kNoSlot) {
      const Slot candidate = view.find_excluding(rng.below(remaining), out, drawn_values.data(), written);
      if (candidate != FenwickIndex::kNoSlot && !seen.contains(candidate)) {
        value = view.value(candidate);
        if (value != 0) slot = candidate;
      }
    }
    if (slot == FenwickIndex::kNoSlot) {
      ++failures;  // only when a concurrent write made the tree and the values disagree
      continue;
    }
    seen.insert(slot);
    drawn_values[written] = value;
    out[written++] = slot;
    drawn_mass += value;
  }
  return written;
}

std::size_t RandomSelector::memory_bytes() const noexcept {
  return sizeof(*this) + index_.memory_bytes() + entries_.capacity() * sizeof(Entry);
}

}  // namespace poolreg::policy
