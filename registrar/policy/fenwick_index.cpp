#include "registrar/policy/fenwick_index.hpp"

#include <bit>

namespace poolreg::policy {

struct FenwickIndex::Block {
  explicit Block(std::uint32_t cap)
      : capacity(cap),
        tree(new std::atomic<std::uint64_t>[static_cast<std::size_t>(cap) + 1]()),
        values(new std::atomic<std::uint32_t>[cap]()) {}
  std::uint32_t capacity;                            // power of two
  std::unique_ptr<std::atomic<std::uint64_t>[]> tree;  // 1-based; tree[capacity] = total
  std::unique_ptr<std::atomic<std::uint32_t>[]> values;
};

FenwickIndex::~FenwickIndex() { delete block_.load(std::memory_order_relaxed); }

std::size_t FenwickIndex::memory_bytes() const noexcept {
  const Block* block = block_.load(std::memory_order_relaxed);
  if (!block) return 0;
  return sizeof(Block) + (static_cast<std::size_t>(block->capacity) + 1) * sizeof(std::uint64_t) +
         block->capacity * sizeof(std::uint32_t);
}

std::uint32_t FenwickIndex::value(Slot slot) const noexcept {
  const Block* block = block_.load(std::memory_order_relaxed);
  if (!block || slot >= block->capacity) return 0;
  return block->values[slot].load(std::memory_order_relaxed);
}

void FenwickIndex::grow(Slot slot) {
  const Block* old = block_.load(std::memory_order_relaxed);
  std::uint32_t capacity = old ? old->capacity : 4;
  while (capacity <= slot) capacity *= 2;
  auto* fresh = new Block(capacity);
  if (old) {
    const std::uint32_t n = old->capacity;
    for (std::uint32_t i = 1; i <= n; ++i) {
      fresh->tree[i].store(old->tree[i].load(std::memory_order_relaxed), std::memory_order_relaxed);
    }
    for (std::uint32_t i = 0; i < n; ++i) {
      fresh->values[i].store(old->values[i].load(std::memory_order_relaxed), std::memory_order_relaxed);
    }
    // New nodes above the old capacity cover only empty slots, except the powers of two,
    // whose range (0, 2^j] holds everything.
    const std::uint64_t total = old->tree[n].load(std::memory_order_relaxed);
    for (std::uint64_t p = 2ull * n; p <= capacity; p *= 2) fresh->tree[p].store(total, std::memory_order_relaxed);
  }
  block_.store(fresh, std::memory_order_release);
  if (old) reclaimer_.retire_object(const_cast<Block*>(old));
}

void FenwickIndex::set(Slot slot, std::uint32_t value) {
  Block* block = block_.load(std::memory_order_relaxed);
  if (!block || slot >= block->capacity) {
    if (value == 0) return;  // absent slots already count as 0
    grow(slot);
    block = block_.load(std::memory_order_relaxed);
  }
  const std::uint32_t old = block->values[slot].load(std::memory_order_relaxed);
  if (old == value) return;
  // Increase: tree first, then the value. Decrease: value first. Either way a reader that sees a
  // positive value(slot) saw it at a moment the slot really held it.
  const std::uint64_t delta = static_cast<std::uint64_t>(value) - old;  // mod 2^64
  if (value < old) block->values[slot].store(value, std::memory_order_release);
  for (std::uint64_t i = static_cast<std::uint64_t>(slot) + 1; i <= block->capacity; i += i & (~i + 1)) {
    block->tree[i].store(block->tree[i].load(std::memory_order_relaxed) + delta, std::memory_order_release);
  }
  if (value > old) block->values[slot].store(value, std::memory_order_release);
}

std::uint64_t FenwickIndex::View::total() const noexcept {
  return block_ ? block_->tree[block_->capacity].load(std::memory_order_acquire) : 0;
}

std::uint32_t FenwickIndex::View::value(Slot slot) const noexcept {
  if (!block_ || slot >= block_->capacity) return 0;
  return block_->values[slot].load(std::memory_order_acquire);
}

std::uint64_t FenwickIndex::View::prefix_through(Slot slot) const noexcept {
  if (!block_) return 0;
  std::uint64_t i = slot >= block_->capacity ? block_->capacity : static_cast<std::uint64_t>(slot) + 1;
  std::uint64_t sum = 0;
  for (; i > 0; i &= i - 1) sum += block_->tree[i].load(std::memory_order_acquire);
  return sum;
}

Slot FenwickIndex::View::find(std::uint64_t r) const noexcept {
  if (!block_) return kNoSlot;
  const std::uint32_t capacity = block_->capacity;
  std::uint32_t position = 0;  // 1-based prefix length consumed so far
  for (std::uint32_t step = capacity; step > 0; step >>= 1) {
    const std::uint32_t next = position + step;
    if (next > capacity) continue;
    const std::uint64_t node = block_->tree[next].load(std::memory_order_acquire);
    if (node <= r) {
      r -= node;
      position = next;
    }
  }
  return position < capacity ? position : kNoSlot;
}

Slot FenwickIndex::View::find_excluding(std::uint64_t r, const Slot* excluded, const std::uint32_t* excluded_values,
                                        std::size_t n) const noexcept {
  if (!block_) return kNoSlot;
  const std::uint32_t capacity = block_->capacity;
  std::uint32_t position = 0;
  for (std::uint32_t step = capacity; step > 0; step >>= 1) {
    const std::uint32_t next = position + step;
    if (next > capacity) continue;
    std::uint64_t node = block_->tree[next].load(std::memory_order_acquire);
    // Node `next` covers slots [position, next).
    for (std::size_t j = 0; j < n; ++j) {
      if (excluded[j] >= position && excluded[j] < next) {
        node = node > excluded_values[j] ? node - excluded_values[j] : 0;
      }
    }
    if (node <= r) {
      r -= node;
      position = next;
    }
  }
  return position < capacity ? position : kNoSlot;
}

}  // namespace poolreg::policy
