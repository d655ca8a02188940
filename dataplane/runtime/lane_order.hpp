// LaneOrder: keeps a lane's local answers in order with what it handed to the control thread
// (issue 16 item 1, "order per association"). A lane answers Handle Resolutions itself
// (LaneResolver) but hands every other message (Registration, Deregistration, Endpoint
// Unreachable, ...) to the control thread, which applies it later. Without this a resolution an
// association sends after its registration could be answered on the lane before the control
// thread registered the PE.
//
// The lane stamps every message it hands over with the next sequence number of the lane
// (stamp(): 1, 2, 3, ... in event-ring order); the engine keeps per association the stamp of the
// last one. The control thread, after its handler returned for a stamped message, publishes that
// stamp (finish()): everything up to it is applied, since the ring is FIFO and the control thread
// handles its events in order. Before answering on the lane, the engine asks finished(stamp of
// the association's last hand-over): if not, the message is handed over too, behind that write,
// and the control thread answers it after it (and it becomes the association's last hand-over,
// so the association's next resolutions follow it until the control thread catches up).
//
// Cost on the lane: an association that never handed anything over, or whose last hand-over is
// at or below the lane's cached copy of the finished stamp, costs one compare of two plain
// loads; only otherwise is the shared atomic read (acquire), and the copy refreshed.
//
// Threading / memory ordering: stamp(), finished() and the cached copy: the lane's thread only.
// finish(): the control thread only (the single writer of `finished_`; release store after the
// handler applied the message, so a lane that reads the stamp (acquire) also sees the handlespace
// writes it made). Separate cache lines: the control thread's stores do not evict the lane's
// counter.
#pragma once

#include <atomic>
#include <cstdint>

namespace poolreg::runtime {

class LaneOrder {
 public:
  // ---- lane thread ----
  // The stamp of the next message handed to the control thread (never 0).
  std::uint64_t stamp() noexcept { return ++stamped_; }
  // True when the control thread finished every hand-over up to `stamp` (0: nothing handed over).
  bool finished(std::uint64_t stamp) noexcept {
    if (stamp <= seen_) return true;
    seen_ = finished_.load(std::memory_order_acquire);
    return stamp <= seen_;
  }

  // ---- control thread ----
  // The handler returned for the message stamped `stamp` (stamps arrive in increasing order).
  void finish(std::uint64_t stamp) noexcept { finished_.store(stamp, std::memory_order_release); }

  // ---- any thread (tests, diagnostics) ----
  std::uint64_t finished_stamp() const noexcept { return finished_.load(std::memory_order_acquire); }

 private:
  alignas(64) std::atomic<std::uint64_t> finished_{0};
  alignas(64) std::uint64_t stamped_ = 0;  // lane
  std::uint64_t seen_ = 0;                 // lane: finished_ as last read
};

}  // namespace poolreg::runtime
