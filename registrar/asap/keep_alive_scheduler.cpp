#include "registrar/asap/keep_alive_scheduler.hpp"

#include <algorithm>
#include <bit>

namespace poolreg::asap {

KeepAliveScheduler::KeepAliveScheduler(TimeNs tick, std::size_t slots, TimeNs start)
    : tick_(tick == 0 ? 1 : tick) {
  const std::size_t n = std::bit_ceil(std::max<std::size_t>(slots, 64));
  mask_ = static_cast<std::uint32_t>(n - 1);
  cursor_ = tick_of(start);
  heads_.assign(n, kNone);
  occupied_.assign(n / 64, 0);
}

void KeepAliveScheduler::link(TimerId id, std::uint32_t slot) noexcept {
  Node& node = nodes_[id];
  node.slot = slot;
  node.prev = kNone;
  node.next = heads_[slot];
  if (node.next != kNone) nodes_[node.next].prev = id;
  heads_[slot] = id;
  occupied_[slot / 64] |= std::uint64_t{1} << (slot % 64);
}

void KeepAliveScheduler::unlink(TimerId id) noexcept {
  Node& node = nodes_[id];
  const std::uint32_t slot = node.slot;
  if (node.prev != kNone) nodes_[node.prev].next = node.next;
  else heads_[slot] = node.next;
  if (node.next != kNone) nodes_[node.next].prev = node.prev;
  if (heads_[slot] == kNone) occupied_[slot / 64] &= ~(std::uint64_t{1} << (slot % 64));
  node.slot = kNone;
  node.prev = node.next = kNone;
}

void KeepAliveScheduler::arm(TimerId id, TimeNs deadline) {
  if (id >= nodes_.size()) nodes_.resize(std::max<std::size_t>(static_cast<std::size_t>(id) + 1, nodes_.size() * 2));
  Node& node = nodes_[id];
  if (node.slot != kNone) unlink(id);
  else ++armed_count_;
  ++node.generation;
  node.deadline = deadline;
  // A deadline already behind the cursor goes into the cursor's slot, visited by the next run.
  const std::uint64_t t = std::max(tick_of(deadline), cursor_);
  link(id, static_cast<std::uint32_t>(t & mask_));
}

void KeepAliveScheduler::disarm(TimerId id) noexcept {
  if (id >= nodes_.size()) return;
  ++nodes_[id].generation;  // also cancels a timer collected as due but not fired yet
  if (nodes_[id].slot == kNone) return;
  unlink(id);
  --armed_count_;
}

bool KeepAliveScheduler::armed(TimerId id) const noexcept { return id < nodes_.size() && nodes_[id].slot != kNone; }

TimeNs KeepAliveScheduler::deadline(TimerId id) const noexcept {
  return id < nodes_.size() ? nodes_[id].deadline : 0;
}

void KeepAliveScheduler::collect_slot(std::uint32_t slot, TimeNs now) {
  for (std::uint32_t id = heads_[slot]; id != kNone;) {
    const std::uint32_t next = nodes_[id].next;
    if (nodes_[id].deadline <= now) {
      unlink(id);
      --armed_count_;
      due_.push_back({id, nodes_[id].generation});
    }
    id = next;
  }
}

std::size_t KeepAliveScheduler::run_due(TimeNs now, FunctionRef<void(TimerId)> fire) {
  const std::uint64_t now_tick = tick_of(now);
  if (now_tick < cursor_) return 0;  // time never goes back; nothing can be due
  due_.clear();
  const std::uint64_t span = now_tick - cursor_;
  if (span > mask_) {
    for (std::uint32_t s = 0; s <= mask_; ++s) collect_slot(s, now);
  } else {
    for (std::uint64_t t = cursor_; t <= now_tick; ++t) collect_slot(static_cast<std::uint32_t>(t & mask_), now);
  }
  cursor_ = now_tick;
  // Fire after collecting: callbacks may re-arm into slots we already walked. A timer touched
  // by an earlier callback has a new generation and is skipped.
  std::size_t fired = 0;
  for (std::size_t i = 0; i < due_.size(); ++i) {
    const Due d = due_[i];
    if (nodes_[d.id].generation != d.generation || nodes_[d.id].slot != kNone) continue;
    ++nodes_[d.id].generation;
    fire(d.id);
    ++fired;
  }
  return fired;
}

std::optional<TimeNs> KeepAliveScheduler::next_due() const noexcept {
  if (armed_count_ == 0) return std::nullopt;
  const std::uint32_t n = mask_ + 1;
  const std::uint32_t start = static_cast<std::uint32_t>(cursor_ & mask_);
  // The cursor's own slot was (possibly) processed up to some time inside this tick: report
  // the next tick for it so an idle caller never spins.
  if (heads_[start] != kNone) {
    std::optional<TimeNs> best = (cursor_ + 1) * tick_;
    // A later-found slot cannot be earlier than cursor + 1.
    return best;
  }
  for (std::uint32_t d = 1; d < n;) {
    const std::uint32_t slot = (start + d) & mask_;
    const std::uint64_t word = occupied_[slot / 64] >> (slot % 64);
    if (word == 0) {
      d += 64 - (slot % 64);  // skip the rest of this word
      continue;
    }
    d += static_cast<std::uint32_t>(std::countr_zero(word));
    if (d >= n) break;
    return (cursor_ + d) * tick_;
  }
  return (cursor_ + n) * tick_;  // unreachable while armed_count_ > 0 except the start slot
}

}  // namespace poolreg::asap
