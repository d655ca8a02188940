#include "registrar/asap/deregister_holds.hpp"

#include <algorithm>

namespace poolreg::asap {

void DeregisterHolds::hold(const PoolHandle& handle, PoolElementId id, TimeNs until) {
  if (max_ == 0) return;
  const Key key{handle, id};
  if (holds_.size() >= max_ && !holds_.contains(key)) {
    // Full: the hold that ends first is the one that matters least. A linear scan, but only when
    // an operator removes PEs beyond max_entries holds.
    auto first = std::min_element(holds_.begin(), holds_.end(),
                                  [](const auto& a, const auto& b) { return a.second < b.second; });
    holds_.erase(first);
  }
  holds_[key] = until;
}

TimeNs DeregisterHolds::until(const PoolHandle& handle, PoolElementId id) const {
  auto it = holds_.find(Key{handle, id});
  return it == holds_.end() ? 0 : it->second;
}

bool DeregisterHolds::held(const PoolHandle& handle, PoolElementId id, TimeNs now) {
  if (holds_.empty()) return false;
  auto it = holds_.find(Key{handle, id});
  if (it == holds_.end()) return false;
  if (now < it->second) return true;
  holds_.erase(it);
  return false;
}

}  // namespace poolreg::asap
