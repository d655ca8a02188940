#include "registrar/asap/pending_rebinds.hpp"

#include <utility>

namespace poolreg::asap {

PendingRebinds::Park PendingRebinds::park(Entry entry, Entry* displaced) {
  const Key key{entry.handle, entry.id};
  auto it = by_pe_.find(key);
  if (it != by_pe_.end()) {
    // One probe per PE: the newest registration waits for the probe already out (same deadline,
    // same probed association), the older one is handed back to be answered.
    Entry& current = it->second.entry;
    entry.deadline = current.deadline;
    entry.old = current.old;
    if (displaced != nullptr) *displaced = std::exchange(current, std::move(entry));
    else current = std::move(entry);
    return Park::kReplaced;
  }
  if (by_pe_.size() >= max_) return Park::kFull;
  const std::uint64_t order = ++arrivals_;
  by_deadline_.emplace(std::make_pair(entry.deadline, order), key);
  by_old_.emplace(entry.old, key);
  by_pe_.emplace(key, Slot{std::move(entry), order});
  return Park::kParked;
}

std::optional<PendingRebinds::Entry> PendingRebinds::erase(std::unordered_map<Key, Slot, KeyHash>::iterator it) {
  Slot& slot = it->second;
  by_deadline_.erase(std::make_pair(slot.entry.deadline, slot.order));
  auto [first, last] = by_old_.equal_range(slot.entry.old);
  for (auto o = first; o != last; ++o) {
    if (o->second == it->first) {
      by_old_.erase(o);
      break;
    }
  }
  Entry out = std::move(slot.entry);
  by_pe_.erase(it);
  return out;
}

std::optional<PendingRebinds::Entry> PendingRebinds::take(const PoolHandle& handle, PoolElementId id) {
  auto it = by_pe_.find(Key{handle, id});
  if (it == by_pe_.end()) return std::nullopt;
  return erase(it);
}

std::optional<PendingRebinds::Entry> PendingRebinds::take_if_probing(const PoolHandle& handle, PoolElementId id,
                                                                     ConnectionId old) {
  auto it = by_pe_.find(Key{handle, id});
  if (it == by_pe_.end() || it->second.entry.old != old) return std::nullopt;
  return erase(it);
}

void PendingRebinds::take_due(TimeNs now, std::vector<Entry>& out) {
  while (!by_deadline_.empty() && by_deadline_.begin()->first.first <= now) {
    const Key key = by_deadline_.begin()->second;
    out.push_back(*erase(by_pe_.find(key)));
  }
}

void PendingRebinds::take_probing(ConnectionId old, std::vector<Entry>& out) {
  while (true) {
    auto o = by_old_.find(old);
    if (o == by_old_.end()) return;
    const Key key = o->second;
    out.push_back(*erase(by_pe_.find(key)));
  }
}

std::optional<TimeNs> PendingRebinds::next_due() const {
  if (by_deadline_.empty()) return std::nullopt;
  return by_deadline_.begin()->first.first;
}

}  // namespace poolreg::asap
