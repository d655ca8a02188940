// LaneRing: the bounded, lock-free queue of pointers every cross-thread hand-off between the
// control thread and the lanes goes through (commands control -> lane, events lane -> control,
// packets lane -> lane). One type for both backends: the DPDK poll lcores and the kernel lanes
// share the control-side LaneTransport, so they share its rings.
//
// Why not rte_ring (which works without EAL when built with rte_ring_init on aligned memory): the
// kernel backend must build and run without libdpdk (meson -Ddpdk=disabled, or a host without it),
// and this is the one piece of the lane machinery it would need from DPDK.
//
// Algorithm: D. Vyukov's bounded MPMC queue: a power-of-two array of cells, each with a sequence
// number; a producer claims a position with one CAS on the tail and publishes the cell with a
// release store of its sequence; a consumer claims with one CAS on the head and frees the cell
// with a release store. No lock, no allocation after construction, FIFO per producer. Used here
// as SP/SC (commands, events) and MP/SC (a lane's inbox).
//
// Memory ordering: the element written by push() happens-before the pop() that returns it
// (release store of the cell's sequence / acquire load in the consumer). size() is approximate.
// Threading: any thread may push or pop; the ring must outlive every user.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace poolreg::runtime {

class LaneRing {
 public:
  // capacity: rounded up to a power of two, at least 2.
  explicit LaneRing(std::size_t capacity) {
    std::size_t n = 2;
    while (n < capacity) n <<= 1;
    mask_ = n - 1;
    cells_ = std::make_unique<Cell[]>(n);
    for (std::size_t i = 0; i < n; ++i) cells_[i].sequence.store(i, std::memory_order_relaxed);
  }
  LaneRing(const LaneRing&) = delete;
  LaneRing& operator=(const LaneRing&) = delete;

  // False when full (the caller keeps ownership of p).
  bool push(void* p) noexcept {
    std::size_t pos = tail_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& c = cells_[pos & mask_];
      const std::size_t seq = c.sequence.load(std::memory_order_acquire);
      const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos);
      if (diff == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          c.value = p;
          c.sequence.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;  // the cell still holds an element a lap behind: full
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
  }

  // nullptr when empty.
  void* pop() noexcept {
    std::size_t pos = head_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& c = cells_[pos & mask_];
      const std::size_t seq = c.sequence.load(std::memory_order_acquire);
      const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos + 1);
      if (diff == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          void* p = c.value;
          c.sequence.store(pos + mask_ + 1, std::memory_order_release);
          return p;
        }
      } else if (diff < 0) {
        return nullptr;  // not published yet: empty
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
  }

  // Up to n elements into out; returns how many.
  unsigned pop_burst(void** out, unsigned n) noexcept {
    unsigned k = 0;
    while (k < n) {
      void* p = pop();
      if (p == nullptr) break;
      out[k++] = p;
    }
    return k;
  }

  std::size_t capacity() const noexcept { return mask_ + 1; }
  bool empty() const noexcept {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }

 private:
  struct Cell {  // 16 bytes: neighbouring cells share a line (memory over padding)
    std::atomic<std::size_t> sequence{0};
    void* value = nullptr;
  };
  std::unique_ptr<Cell[]> cells_;
  std::size_t mask_ = 0;
  alignas(64) std::atomic<std::size_t> head_{0};  // consumers
  alignas(64) std::atomic<std::size_t> tail_{0};  // producers
};

}  // namespace poolreg::runtime
