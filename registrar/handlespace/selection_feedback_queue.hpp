// SelectionFeedbackQueue: bounded lock-free multi-producer single-consumer queue carrying
// "this slot was selected" reports from resolving readers to the shard writer (for selectors
// that need_selection_feedback(), e.g. least-used with degradation).
//
// Producers: any reader thread, wait-free apart from the CAS retry on the tail (lock-free).
// Consumer: the shard writer only. A full queue drops the report (counted): feedback is a
// load-balancing hint, losing some is harmless.
// (Per-cell sequence numbers as in D. Vyukov's bounded queue.)
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace poolreg::handlespace {

struct SelectionFeedback {
  std::uint32_t pool_index = 0;       // shard-local pool index
  std::uint32_t pool_generation = 0;  // detects a pool index reused after the pool vanished
  std::uint32_t slot = 0;
};

class SelectionFeedbackQueue {
 public:
  explicit SelectionFeedbackQueue(std::size_t capacity) {
    std::size_t c = 2;
    while (c < capacity) c <<= 1;
    mask_ = c - 1;
    cells_ = std::make_unique<Cell[]>(c);
    for (std::size_t i = 0; i < c; ++i) cells_[i].sequence.store(i, std::memory_order_relaxed);
  }

  // Any thread. False (and counted) when full.
  bool try_push(const SelectionFeedback& item) noexcept {
    std::size_t pos = tail_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& cell = cells_[pos & mask_];
      const std::size_t seq = cell.sequence.load(std::memory_order_acquire);
      const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos);
      if (diff == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          cell.pool_index.store(item.pool_index, std::memory_order_relaxed);
          cell.pool_generation.store(item.pool_generation, std::memory_order_relaxed);
          cell.slot.store(item.slot, std::memory_order_relaxed);
          cell.sequence.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
  }

  // Consumer (shard writer) only.
  bool try_pop(SelectionFeedback& out) noexcept {
    Cell& cell = cells_[head_ & mask_];
    const std::size_t seq = cell.sequence.load(std::memory_order_acquire);
    if (seq != head_ + 1) return false;
    out.pool_index = cell.pool_index.load(std::memory_order_relaxed);
    out.pool_generation = cell.pool_generation.load(std::memory_order_relaxed);
    out.slot = cell.slot.load(std::memory_order_relaxed);
    cell.sequence.store(head_ + mask_ + 1, std::memory_order_release);
    ++head_;
    return true;
  }

  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  std::size_t capacity() const noexcept { return mask_ + 1; }

 private:
  struct Cell {
    std::atomic<std::size_t> sequence{0};
    std::atomic<std::uint32_t> pool_index{0};
    std::atomic<std::uint32_t> pool_generation{0};
    std::atomic<std::uint32_t> slot{0};
  };
  std::unique_ptr<Cell[]> cells_;
  std::size_t mask_ = 0;
  alignas(64) std::atomic<std::size_t> tail_{0};
  alignas(64) std::size_t head_ = 0;
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace poolreg::handlespace
