#include "registrar/enrp/update_coalescer.hpp"

namespace poolreg::enrp {

bool UpdateCoalescer::offer(const PoolHandle& handle, const PoolElement& pe, wire::UpdateAction action, TimeNs now,
                            TimeNs window) {
  const Key key{handle, pe.id};
  auto it = slots_.find(key);
  if (it == slots_.end() || it->second.window_end <= now) {
    // Quiet PE (or its window ended and take_due has not run yet): send, open a window.
    if (it != slots_.end() && it->second.held) {
      // Due but not collected: the new update supersedes it.
      it->second.held.reset();
      --held_;
      ++coalesced_;
    }
    Slot& slot = slots_[key];
    slot.window_end = now + window;
    order_.emplace_back(slot.window_end, key);
    return true;
  }
  Slot& slot = it->second;
  if (slot.held) ++coalesced_;
  else ++held_;
  slot.held = Update{handle, pe, action};
  return false;
}

void UpdateCoalescer::take_due(TimeNs now, TimeNs window, std::vector<Update>& out) {
  while (!order_.empty() && order_.front().first <= now) {
    const auto [end, key] = order_.front();
    order_.pop_front();
    auto it = slots_.find(key);
    if (it == slots_.end() || it->second.window_end != end) continue;  // superseded entry
    if (!it->second.held) {
      slots_.erase(it);  // a quiet window: the PE is forgotten
      continue;
    }
    out.push_back(std::move(*it->second.held));
    it->second.held.reset();
    --held_;
    it->second.window_end = now + window;
    order_.emplace_back(it->second.window_end, key);
  }
}

void UpdateCoalescer::take_all(std::vector<Update>& out) {
  if (held_ == 0) return;
  for (auto& [key, slot] : slots_) {
    if (!slot.held) continue;
    out.push_back(std::move(*slot.held));
    slot.held.reset();
  }
  held_ = 0;
}

std::optional<TimeNs> UpdateCoalescer::next_due() const {
  // Only held updates need a wake-up. The earliest window end may belong to a quiet or
  // superseded slot: waking then costs one take_due pass that drops it, never a late send.
  if (held_ == 0 || order_.empty()) return std::nullopt;
  return order_.front().first;
}

}  // namespace poolreg::enrp
