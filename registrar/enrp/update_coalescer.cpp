#include "registrar/enrp/update_coalescer.hpp"

#include <algorithm>

namespace poolreg::enrp {

void UpdateCoalescer::hold(Slot& slot, Update u, bool transport_only) {
  if (slot.held) {
    ++coalesced_;  // the newer state replaces what was held
    if (slot.transport_only) --held_transport_only_;
  } else {
    ++held_;
  }
  slot.held = std::move(u);
  slot.transport_only = transport_only;
  if (transport_only) ++held_transport_only_;
}

void UpdateCoalescer::release(Slot& slot) {
  if (!slot.held) return;
  slot.held.reset();
  --held_;
  if (slot.transport_only) --held_transport_only_;
  slot.transport_only = false;
}

void UpdateCoalescer::open_window(Slot& slot, const Key& key, TimeNs now, TimeNs window) {
  slot.window_end = now + window;
  order_.emplace_back(slot.window_end, key);
}

bool UpdateCoalescer::offer(const PoolHandle& handle, const PoolElement& pe, wire::UpdateAction action,
                            TimeNs now, TimeNs window) {
  const Key key{handle, pe.id};
  auto it = slots_.find(key);
  if (it == slots_.end() || it->second.window_end <= now) {
    // Quiet PE (or its window ended and take_due has not run yet): send, open a window. What
    // was held (due, or transport-only waiting for this update) is superseded by it.
    Slot& slot = it == slots_.end() ? slots_[key] : it->second;
    if (slot.held) {
      release(slot);
      ++coalesced_;
    }
    open_window(slot, key, now, window);
    return true;
  }
  hold(it->second, Update{handle, pe, action}, false);
  return false;
}

void UpdateCoalescer::offer_transport_only(const PoolHandle& handle, const PoolElement& pe, TimeNs now,
                                           TimeNs delay) {
  const Key key{handle, pe.id};
  Slot& slot = slots_[key];
  if (slot.held && !slot.transport_only) {
    // An ordinary update is held (window open, or due and not collected): it goes out anyway,
    // now with this newer transport.
    slot.held = Update{handle, pe, wire::UpdateAction::kAddPe};
    ++coalesced_;
    return;
  }
  const bool waiting = slot.held.has_value();
  hold(slot, Update{handle, pe, wire::UpdateAction::kAddPe}, true);
  if (!waiting) {
    // The bound counts from the first change nobody was told about.
    slot.transport_due = now + delay;
    transport_order_.emplace_back(slot.transport_due, key);
  }
}

void UpdateCoalescer::supersede(const PoolHandle& handle, PoolElementId id) {
  auto it = slots_.find(Key{handle, id});
  if (it == slots_.end()) return;
  if (it->second.held) {
    release(it->second);
    ++coalesced_;
  }
  slots_.erase(it);  // damping is off: no window to keep
}

void UpdateCoalescer::take_due(TimeNs now, TimeNs window, std::vector<Update>& out) {
  while (!order_.empty() && order_.front().first <= now) {
    const auto [end, key] = order_.front();
    order_.pop_front();
    auto it = slots_.find(key);
    if (it == slots_.end() || it->second.window_end != end) continue;  // superseded entry
    Slot& slot = it->second;
    if (!slot.held) {
      slots_.erase(it);  // a quiet window: the PE is forgotten
      continue;
    }
    if (slot.transport_only) {
      slot.window_end = 0;  // the window closes; the transport change keeps waiting
      continue;
    }
    out.push_back(std::move(*slot.held));
    release(slot);
    open_window(slot, key, now, window);
  }
  while (!transport_order_.empty() && transport_order_.front().first <= now) {
    const auto [due, key] = transport_order_.front();
    transport_order_.pop_front();
    auto it = slots_.find(key);
    if (it == slots_.end() || !it->second.transport_only || it->second.transport_due != due) continue;
    Slot& slot = it->second;
    if (slot.window_end > now) {
      // Within an open window it becomes an ordinary held update: out when the window ends.
      slot.transport_only = false;
      --held_transport_only_;
      continue;
    }
    out.push_back(std::move(*slot.held));
    release(slot);
    open_window(slot, key, now, window);
  }
}

void UpdateCoalescer::take_all(std::vector<Update>& out) {
  if (held_ == held_transport_only_) return;
  for (auto& [key, slot] : slots_) {
    if (!slot.held || slot.transport_only) continue;
    out.push_back(std::move(*slot.held));
    release(slot);
  }
}

bool UpdateCoalescer::pass_due(TimeNs now) const noexcept {
  return (!order_.empty() && order_.front().first <= now) ||
         (!transport_order_.empty() && transport_order_.front().first <= now);
}

std::optional<TimeNs> UpdateCoalescer::next_due() const {
  // Only held updates need a wake-up (quiet windows are forgotten by the next pass, whenever it
  // runs). The earliest window end may belong to a quiet or superseded slot: waking then costs
  // one take_due pass that drops it, never a late send. A transport-only update goes out by
  // itself only at its due time.
  std::optional<TimeNs> due;
  if (held_ > held_transport_only_ && !order_.empty()) due = order_.front().first;
  if (held_transport_only_ != 0 && !transport_order_.empty())
    due = due ? std::min(*due, transport_order_.front().first) : transport_order_.front().first;
  return due;
}

}  // namespace poolreg::enrp
