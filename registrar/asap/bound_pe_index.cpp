#include "registrar/asap/bound_pe_index.hpp"

#include <algorithm>

namespace poolreg::asap {

void BoundPeIndex::compact(List& list, StillBound still_bound) {
  std::erase_if(list.keys, [&](const Key& k) { return !still_bound(k); });
  std::sort(list.keys.begin(), list.keys.end(),
            [](const Key& a, const Key& b) { return a.id != b.id ? a.id < b.id : a.handle < b.handle; });
  const auto repeats = std::unique(list.keys.begin(), list.keys.end(), [](const Key& a, const Key& b) {
    return a.id == b.id && a.handle == b.handle;
  });
  list.keys.erase(repeats, list.keys.end());
  list.compact_at = std::max<std::size_t>(8, 2 * list.keys.size());
}

void BoundPeIndex::add(ConnectionId c, const PoolHandle& handle, PoolElementId id, StillBound still_bound) {
  List& list = lists_[c];
  list.keys.push_back(Key{handle, id});
  if (list.keys.size() > list.compact_at) compact(list, still_bound);
}

void BoundPeIndex::visit(ConnectionId c, StillBound still_bound, FunctionRef<void(const Key&)> visit) {
  auto it = lists_.find(c);
  if (it == lists_.end()) return;
  compact(it->second, still_bound);
  // A copy: visit() may re-register PEs, and the caller's checks must not see a list it changes.
  const std::vector<Key> keys = it->second.keys;
  for (const Key& k : keys) visit(k);
}

std::size_t BoundPeIndex::size(ConnectionId c) const {
  auto it = lists_.find(c);
  return it == lists_.end() ? 0 : it->second.keys.size();
}

}  // namespace poolreg::asap
