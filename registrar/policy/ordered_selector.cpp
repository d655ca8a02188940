#include "registrar/policy/ordered_selector.hpp"


namespace poolreg::policy {

OrderedSelector::OrderedSelector(PolicyType type, Reclaimer& reclaimer)
    : type_(type), degrades_(policy_degrades(type)), reclaimer_(reclaimer) {}

OrderedSelector::~OrderedSelector() {
  groups_.for_each([](void* group) { delete static_cast<Group*>(group); });
}

OrderedSelector::Group* OrderedSelector::group_for(std::uint32_t key) {
  const KeyIndex::Lookup found = groups_.find(key);
  if (found.exact != nullptr) return static_cast<Group*>(found.exact);
  std::atomic<Group*>& link = found.predecessor ? static_cast<Group*>(found.predecessor)->next : first_;
  auto* group = new Group;
  group->key = key;
  group->next.store(link.load(std::memory_order_relaxed), std::memory_order_relaxed);
  groups_.insert(key, group);
  link.store(group, std::memory_order_release);  // readers see the group fully built
  return group;
}

void OrderedSelector::place(Slot slot, Entry& entry) {
  Group* group = group_for(ordered_key(entry.state));
  entry.position = group->ring.push(slot, reclaimer_);
}

void OrderedSelector::unplace(Slot slot, Entry& entry) {
  (void)slot;
  const std::uint32_t key = ordered_key(entry.state);
  const KeyIndex::Lookup found = groups_.find(key);
  auto* group = static_cast<Group*>(found.exact);
  group->ring.prefetch_removal(entry.position);
  const Slot moved = group->ring.remove_at(entry.position, reclaimer_);
  if (moved != SlotRing::kNoSlot) entries_[moved].position = entry.position;
  entry.position = SlotRing::kNoPosition;
  if (group->ring.count() == 0) {
    std::atomic<Group*>& link = found.predecessor ? static_cast<Group*>(found.predecessor)->next : first_;
    // Readers already on the group still find its successor through group->next.
    link.store(group->next.load(std::memory_order_relaxed), std::memory_order_release);
    groups_.erase(key);
    reclaimer_.retire_object(group);
  }
}

void OrderedSelector::insert(Slot slot, const PolicyParams& params) {
  if (slot >= entries_.size()) entries_.resize(static_cast<std::size_t>(slot) + 1);
  Entry& entry = entries_[slot];
  if (entry.position != SlotRing::kNoPosition) {
    update(slot, params);
    return;
  }
  entry.state = make_policy_state(type_, params);
  place(slot, entry);
  size_.store(size_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void OrderedSelector::update(Slot slot, const PolicyParams& params) {
  if (slot >= entries_.size() || entries_[slot].position == SlotRing::kNoPosition) {
    insert(slot, params);
    return;
  }
  Entry& entry = entries_[slot];
  const PolicyState fresh = make_policy_state(type_, params);
  if (ordered_key(fresh) == ordered_key(entry.state)) {
    entry.state = fresh;  // same place in the order, keep its rotation position
    return;
  }
  unplace(slot, entry);
  entry.state = fresh;
  place(slot, entry);
}

void OrderedSelector::erase(Slot slot) {
  if (slot >= entries_.size() || entries_[slot].position == SlotRing::kNoPosition) return;
  unplace(slot, entries_[slot]);
  size_.store(size_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

void OrderedSelector::on_selected(Slot slot) {
  if (!degrades_ || slot >= entries_.size()) return;
  Entry& entry = entries_[slot];
  if (entry.position == SlotRing::kNoPosition || entry.state.step == 0) return;
  const std::uint32_t old_key = ordered_key(entry.state);
  const std::uint32_t degradation = saturating_add(entry.state.degradation, entry.state.step);
  PolicyState next = entry.state;
  next.degradation = degradation;
  if (ordered_key(next) == old_key) {  // clamped at MAX: nothing moves
    entry.state = next;
    return;
  }
  unplace(slot, entry);
  entry.state = next;
  place(slot, entry);
}

std::size_t OrderedSelector::select(std::size_t k, SelectorContext& ctx, Slot* out) const {
  if (k > kMaxSelectItems) k = kMaxSelectItems;
  SlotSet& seen = ctx.seen();
  seen.clear();
  std::size_t written = 0;
  bool first = true;
  for (const Group* group = first_.load(std::memory_order_acquire); group != nullptr && written < k;
       group = group->next.load(std::memory_order_acquire)) {
    const std::size_t got = group->ring.read(k - written, first, seen, out + written);
    if (got > 0) first = false;
    written += got;
  }
  return written;
}

std::size_t OrderedSelector::memory_bytes() const noexcept {
  std::size_t bytes = sizeof(*this) + entries_.capacity() * sizeof(Entry) + groups_.memory_bytes();
  groups_.for_each([&bytes](void* group) {
    bytes += sizeof(Group) + static_cast<const Group*>(group)->ring.memory_bytes();
  });
  return bytes;
}

}  // namespace poolreg::policy
