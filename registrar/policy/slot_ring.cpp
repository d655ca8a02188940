#include "registrar/policy/slot_ring.hpp"

#include <bit>
#include <cstdint>
#include <new>

namespace poolreg::policy {

// One allocation: header followed by `capacity` atomic slots.
struct SlotRing::Array {
  explicit Array(std::uint32_t slots) noexcept : capacity(slots), count(0) {}
  std::uint32_t capacity;
  std::atomic<std::uint32_t> count;
  std::atomic<Slot>* slots() noexcept { return reinterpret_cast<std::atomic<Slot>*>(this + 1); }
  const std::atomic<Slot>* slots() const noexcept {
    return reinterpret_cast<const std::atomic<Slot>*>(this + 1);
  }
};
static_assert(sizeof(std::atomic<Slot>) == sizeof(Slot));
static_assert(alignof(std::atomic<Slot>) <= alignof(std::uint32_t));

SlotRing::SlotRing() noexcept {
  static_assert(sizeof(Array) == 2 * sizeof(std::uint32_t));
  auto* const first = new (static_cast<void*>(inline_storage_)) Array(1);
  ::new (&first->slots()[0]) std::atomic<Slot>(0);
  array_.store(first, std::memory_order_relaxed);
}

SlotRing::Array* SlotRing::inline_array() noexcept {
  return std::launder(reinterpret_cast<Array*>(inline_storage_));
}

SlotRing::Array* SlotRing::allocate(std::uint32_t capacity) {
  void* memory = ::operator new(sizeof(Array) + capacity * sizeof(std::atomic<Slot>));
  auto* const created = new (memory) Array(capacity);
  for (std::uint32_t i = 0; i < capacity; ++i) ::new (&created->slots()[i]) std::atomic<Slot>(0);
  return created;
}

// The most slots an array for at least `slots` slots holds when its whole allocation (header
// included) is a power of two: allocators round sizes up to their classes, and a power-of-two
// array of slots plus the 8-byte header falls just past one (520 bytes take a 640-byte block).
std::uint32_t SlotRing::fitted_capacity(std::uint32_t slots) noexcept {
  const std::size_t bytes = std::bit_ceil(sizeof(Array) + std::size_t{slots} * sizeof(Slot));
  return static_cast<std::uint32_t>((bytes - sizeof(Array)) / sizeof(Slot));
}

void SlotRing::release(void* array) noexcept { ::operator delete(array); }  // trivial members

SlotRing::~SlotRing() {
  Array* array = array_.load(std::memory_order_relaxed);
  if (array != inline_array()) release(array);
}

std::uint32_t SlotRing::count() const noexcept {
  return array_.load(std::memory_order_relaxed)->count.load(std::memory_order_relaxed);
}

std::size_t SlotRing::memory_bytes() const noexcept {  // heap part only; the inline array is in *this
  const Array* array = array_.load(std::memory_order_relaxed);
  return array == reinterpret_cast<const Array*>(inline_storage_) ? 0 : sizeof(Array) + array->capacity * sizeof(Slot);
}

void SlotRing::replace(std::uint32_t capacity, Reclaimer& reclaimer) {
  Array* old = array_.load(std::memory_order_relaxed);
  Array* fresh = allocate(capacity);
  const std::uint32_t n = old->count.load(std::memory_order_relaxed);
  for (std::uint32_t i = 0; i < n; ++i) {
    fresh->slots()[i].store(old->slots()[i].load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
  fresh->count.store(n, std::memory_order_relaxed);
  array_.store(fresh, std::memory_order_release);
  if (old != inline_array()) reclaimer.retire(old, &SlotRing::release);
}

std::uint32_t SlotRing::push(Slot slot, Reclaimer& reclaimer) {
  Array* array = array_.load(std::memory_order_relaxed);
  const std::uint32_t n = array->count.load(std::memory_order_relaxed);
  if (n == array->capacity) {
    replace(fitted_capacity(2 * n), reclaimer);
    array = array_.load(std::memory_order_relaxed);
  }
  array->slots()[n].store(slot, std::memory_order_relaxed);
  array->count.store(n + 1, std::memory_order_release);  // publishes the slot written above
  count_hint_.store(n + 1, std::memory_order_relaxed);
  return n;
}

void SlotRing::prefetch_removal(std::uint32_t position) const noexcept {
  const Array* array = array_.load(std::memory_order_relaxed);
  const std::uint32_t n = array->count.load(std::memory_order_relaxed);
  if (position >= n) return;
  __builtin_prefetch(&array->slots()[position]);
  __builtin_prefetch(&array->slots()[n - 1]);
}

Slot SlotRing::remove_at(std::uint32_t position, Reclaimer& reclaimer) {
  Array* array = array_.load(std::memory_order_relaxed);
  const std::uint32_t n = array->count.load(std::memory_order_relaxed);
  const std::uint32_t last = n - 1;
  Slot moved = kNoSlot;
  if (position != last) {
    moved = array->slots()[last].load(std::memory_order_relaxed);
    // A reader holding the old count may now meet `moved` twice; SlotSet drops the duplicate.
    array->slots()[position].store(moved, std::memory_order_relaxed);
  }
  array->count.store(last, std::memory_order_release);
  count_hint_.store(last, std::memory_order_relaxed);
  // Half the capacity (the next smaller fitted size); still at least twice the count.
  if (last > 0 && last * 4 <= array->capacity && array->capacity > 4)
    replace(fitted_capacity(array->capacity / 2 - 2), reclaimer);
  return moved;
}

std::size_t SlotRing::read(std::size_t limit, bool advance, SlotSet& seen, Slot* out) const noexcept {
  const Array* array = array_.load(std::memory_order_acquire);
  if (limit == 0) return 0;
  // Prefetch only (never faults, never read from): where the first position most likely is.
  // Integer arithmetic: with a stale hint (a push after this reader loaded the array) the
  // address may lie past this array, where pointer arithmetic would be undefined.
  if (const std::uint32_t hint = count_hint_.load(std::memory_order_relaxed); hint != 0) {
    const std::uint32_t likely = cursor_.load(std::memory_order_relaxed) % hint;
    const std::uintptr_t first =
        reinterpret_cast<std::uintptr_t>(array->slots()) + std::uintptr_t{likely} * sizeof(Slot);
    // NOLINTNEXTLINE(performance-no-int-to-ptr): see above
    __builtin_prefetch(reinterpret_cast<const void*>(first));
  }
  const std::uint32_t n = array->count.load(std::memory_order_acquire);
  if (n == 0) return 0;
  const std::uint32_t cursor =
      advance ? cursor_.fetch_add(1, std::memory_order_relaxed) : cursor_.load(std::memory_order_relaxed);
  std::uint32_t index = cursor % n;
  // Normally exactly `limit` reads; a concurrent removal can show one slot at two positions,
  // so read on past duplicates, at most 2 x limit positions and never more than the ring.
  const std::size_t probes = 2 * limit < n ? 2 * limit : n;
  std::size_t written = 0;
  for (std::size_t i = 0; i < probes && written < limit; ++i) {
    const Slot slot = array->slots()[index].load(std::memory_order_relaxed);
    if (seen.insert(slot)) out[written++] = slot;
    if (++index == n) index = 0;
  }
  return written;
}

}  // namespace poolreg::policy
