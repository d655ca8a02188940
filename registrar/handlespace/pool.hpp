// Pool: one pool's PEs (internal to the handlespace).
//
// Reader-visible (lock-free, QSBR-protected):
//   - slot table: array of atomic record pointers indexed by Slot (policy::Slot); replaced by
//     a larger copy on growth (old array retired). Slots are stable for a PE's lifetime.
//   - ID index: open-addressing table PE ID -> slot with tombstones (readers never miss a
//     present key while the writer inserts/erases); rebuilt into a new table when full or too
//     many tombstones (old table retired).
//   - the policy selector (registrar/policy), immutable pool attributes, a PE count.
// Writer-only: per-slot metadata (owner links, expiry, unreachable counter, mark, held; stored next to
// the record pointer in the slot table entry), per-owner slot lists, per-slot association
// list links (AssocLink, a separate array), free slots.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <unordered_map>
#include <vector>

#include "registrar/common/clock.hpp"
#include "registrar/common/policy.hpp"
#include "registrar/common/pool_handle.hpp"
#include "registrar/common/transport.hpp"
#include "registrar/handlespace/pool_element_record.hpp"
#include "registrar/handlespace/qsbr.hpp"
#include "registrar/policy/selector.hpp"

namespace poolreg::handlespace {

inline constexpr std::uint32_t kNoIndex = UINT32_MAX;

// A PE inside a shard: shard-local pool index + slot.
struct PeRef {
  std::uint32_t pool = kNoIndex;
  std::uint32_t slot = kNoIndex;
  bool valid() const noexcept { return pool != kNoIndex; }
  friend bool operator==(const PeRef&, const PeRef&) = default;
};

// Writer-only state of one slot. It shares the slot table entry with the record pointer so
// that a writer touching a PE (re-registration, expiry refresh) loads one cache line, not two.
struct SlotMeta {
  // Doubly-linked list of this pool's slots whose PE has the same home PR (see PoolOwner).
  std::uint32_t owner_prev = kNoIndex;
  std::uint32_t owner_next = kNoIndex;
  TimeNs expires_at = 0;              // 0 = no expiry
  std::uint32_t heap_position = kNoIndex;
  std::uint16_t unreachable_reports = 0;
  std::uint8_t marked = 0;
  // Handover hold (Shard::hold_association): the PE's association is gone and the PE is out of
  // the selector until a registration brings it back or the hold's end removes it.
  std::uint8_t held : 1 = 0;
  // A retirement of this PE's kept graceful addresses is queued (Shard::retire_due) no later
  // than the earliest retire time of its current record.
  std::uint8_t retirement_queued : 1 = 0;
};

// One slot: the reader-visible record pointer and the writer-only metadata. Readers only ever
// load `record` (atomically); `meta` is read and written by the shard writer alone.
struct SlotEntry {
  std::atomic<const PoolElementRecord*> record{nullptr};
  SlotMeta meta;
};
static_assert(sizeof(SlotEntry) == 32, "two slot entries per cache line");

// Slot table: a 32-byte header then `capacity` entries, 64-byte aligned so that no entry
// straddles a cache line. Replaced by a larger copy on growth (the old one is retired).
// Capacities are 2^n - 1 (pool.cpp), so a table takes exactly 2^n x 32 bytes.
struct alignas(32) SlotTable {
  std::uint32_t capacity;
  SlotEntry* items() noexcept { return reinterpret_cast<SlotEntry*>(this + 1); }
  const SlotEntry* items() const noexcept { return reinterpret_cast<const SlotEntry*>(this + 1); }
  static SlotTable* create(std::uint32_t capacity) {
    void* memory = ::operator new(sizeof(SlotTable) + sizeof(SlotEntry) * capacity, std::align_val_t{64});
    auto* t = new (memory) SlotTable{capacity};
    for (std::uint32_t i = 0; i < capacity; ++i) new (&t->items()[i]) SlotEntry();
    return t;
  }
  static void destroy(void* p) noexcept { ::operator delete(p, std::align_val_t{64}); }
};
static_assert(sizeof(SlotTable) == 32);

// Writer-only links of a PE in its association's list (Shard: association -> first PE). The
// list runs across the shard's pools, so the links are PeRefs. Kept beside the slot table
// rather than in SlotMeta: only PEs registered over an association need them (ENRP-learned
// PEs have association 0), and the 32-byte slot entry stays two per cache line.
struct AssocLink {
  PeRef prev;
  PeRef next;
};

// The PEs of one pool whose home is `owner`: head of their slot list (SlotMeta::owner_*),
// their count, and the position of this pool in the shard's list of the owner's pools.
struct PoolOwner {
  RegistrarId owner = 0;
  std::uint32_t head = kNoIndex;
  std::uint32_t count = 0;
  std::uint32_t position = 0;
};

// Array with a header, allocated in one block; T must be an atomic of a trivial type.
// alignas: the items follow the header and must be naturally aligned (a misaligned atomic
// pointer could straddle cache lines and tear).
template <typename T>
struct alignas(alignof(T)) AtomicArray {
  std::uint32_t capacity;
  T* items() noexcept { return reinterpret_cast<T*>(this + 1); }
  const T* items() const noexcept { return reinterpret_cast<const T*>(this + 1); }

  static AtomicArray* create(std::uint32_t capacity, typename T::value_type fill) {
    void* memory = ::operator new(sizeof(AtomicArray) + sizeof(T) * capacity);
    auto* a = new (memory) AtomicArray{capacity};
    for (std::uint32_t i = 0; i < capacity; ++i) new (&a->items()[i]) T(fill);
    return a;
  }
  static void destroy(void* p) noexcept { ::operator delete(p); }
};
static_assert(sizeof(AtomicArray<std::atomic<std::uint32_t>>) == 4);
static_assert(sizeof(AtomicArray<std::atomic<const void*>>) == 8);

// ID index entry: 8-bit fingerprint of the PE ID (high bits of its hash) << 24 | 24-bit slot.
// The fingerprint spares most record loads on probe chains (a cache miss each at 10^6 PEs).
using IdIndex = AtomicArray<std::atomic<std::uint32_t>>;  // capacity is a power of 2
inline constexpr std::uint32_t kIdEmpty = UINT32_MAX;
inline constexpr std::uint32_t kIdTombstone = UINT32_MAX - 1;
inline constexpr std::uint32_t kSlotMask = 0x00FFFFFFu;
// Slots 0xFFFFFE and 0xFFFFFF could alias the sentinels: a pool holds at most this many slots.
inline constexpr std::uint32_t kMaxSlots = 0x00FFFFFEu;

inline std::uint64_t mix_id(std::uint64_t id) noexcept {
  id ^= id >> 33;
  id *= 0xff51afd7ed558ccdULL;
  id ^= id >> 33;
  id *= 0xc4ceb9fe1a85ec53ULL;
  id ^= id >> 33;
  return id;
}
inline std::uint32_t id_entry(std::uint64_t mixed, std::uint32_t slot) noexcept {
  return static_cast<std::uint32_t>(mixed >> 56) << 24 | slot;
}

class Pool {
 public:
  Pool(const PoolHandle& handle, std::uint64_t hash, PolicyType policy, TransportProtocol protocol,
       TransportUse use, std::uint32_t index, std::uint32_t generation, Reclaimer& reclaimer);
  ~Pool();  // frees tables, selector and any remaining records (only when no reader can reach the pool)
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // ---- immutable after publication ----
  // Layout: what a resolution reads (hash, slot table and selector pointers, handle, policy
  // and transport) lies in the object's first two cache lines (a 65-byte handle takes most of
  // them); before, the slot table pointer sat in the fourth line, a third miss per resolution
  // on a large handlespace.
  const std::uint64_t hash;  // first: a pool lookup that passes this pool reads only line 0

 private:
  std::atomic<SlotTable*> slots_;

 public:
  // In selector_storage_ (below): the selector is part of the pool object (construct_selector).
  policy::Selector* const selector;
  const PoolHandle handle;
  const PolicyType policy;
  const TransportProtocol protocol;
  const TransportUse use;
  // selector->needs_selection_feedback(), constant per selector: cached so that a
  // re-registration does not load the selector object (a cache miss with many pools).
  const bool needs_selection_feedback;
  const std::uint32_t index;
  const std::uint32_t generation;
  const std::uint32_t checksum16_handle;
  const std::uint64_t checksum32_handle;

 private:
  // The selector itself, on its own cache lines right after what a resolution reads here: a
  // resolution reaches the selector's state (an RR ring's array and cursor) from the pool
  // pointer, not through one more dependent load of a separately allocated object.
  alignas(policy::kSelectorStorageAlign) unsigned char selector_storage_[policy::kSelectorStorageBytes];

 public:

  // ---- reader side ----
  const PoolElementRecord* record(std::uint32_t slot) const noexcept {
    const SlotTable* a = slots_.load(std::memory_order_acquire);
    if (slot >= a->capacity) return nullptr;
    return a->items()[slot].record.load(std::memory_order_acquire);
  }
  // Slot of the PE with this ID, or kNoIndex.
  std::uint32_t find(PoolElementId id) const noexcept;
  const PoolElementRecord* find_record(PoolElementId id) const noexcept {
    const std::uint32_t slot = find(id);
    return slot == kNoIndex ? nullptr : record(slot);
  }
  std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }

  // ---- writer side ----
  // find() for the shard writer: same answer, but uses the writer's copies of the table
  // geometry, so it skips the index and slot table header lines (cache misses with many pools).
  std::uint32_t writer_find(PoolElementId id) const noexcept;

  // Prefetch hints for the batched writer path (Handlespace::register_batch). They only
  // compute addresses in the current tables and issue prefetches: never a correctness
  // dependency, and they never dereference what they prefetch.
  // The lines of this object a registration reads: hash and handle (the pool lookup compares
  // them), the immutable attributes, the table pointers and their geometry.
  void prefetch_lookup_lines() const noexcept {
    __builtin_prefetch(&hash);
    __builtin_prefetch(&policy);
    __builtin_prefetch(&slots_);
    __builtin_prefetch(&next_slot_);
  }
  // The ID index line where the probe for `mixed` (= mix_id(id)) starts.
  void prefetch_id_probe(std::uint64_t mixed) const noexcept {
    __builtin_prefetch(
        &ids_.load(std::memory_order_relaxed)->items()[static_cast<std::uint32_t>(mixed) & ids_mask_]);
  }
  // First slot on the probe chain of `mixed` whose fingerprint matches (reads the index line
  // prefetched above), or kNoIndex.
  std::uint32_t id_candidate(std::uint64_t mixed) const noexcept;
  // The slot table entry of `slot` (record pointer + writer metadata).
  void prefetch_slot(std::uint32_t slot) const noexcept {
    if (slot < next_slot_) __builtin_prefetch(&slots_.load(std::memory_order_relaxed)->items()[slot], 1);
  }
  // The record currently in `slot` (reads the slot entry prefetched above): its first 48
  // bytes, which may straddle two lines (records need not be line-aligned).
  void prefetch_record(std::uint32_t slot) const noexcept {
    if (slot >= next_slot_) return;
    const auto* r = reinterpret_cast<const char*>(writer_record(slot));
    if (r == nullptr) return;
    __builtin_prefetch(r);
    __builtin_prefetch(r + 40);  // header + association + two values: what register_pe reads
  }

  // Slot for a new PE (grows the slot table when needed); kNoIndex when the pool has used
  // all kMaxSlots slots.
  std::uint32_t allocate_slot(QsbrDomain& domain);
  // Publishes a new PE in `slot` (record, ID index).
  void insert(std::uint32_t slot, const PoolElementRecord* record);
  // Replaces the record of an existing PE (same ID); the caller retires the old one.
  void replace(std::uint32_t slot, const PoolElementRecord* record) noexcept {
    slots_.load(std::memory_order_relaxed)->items()[slot].record.store(record, std::memory_order_release);
  }
  // Unpublishes the PE in `slot`; the caller retires the record; the slot becomes reusable
  // after a grace period.
  void erase(std::uint32_t slot, PoolElementId id, QsbrDomain& domain);
  std::uint32_t slot_high_water() const noexcept { return next_slot_; }
  // Writer-only metadata of a slot below slot_high_water(). The reference is invalidated by
  // allocate_slot() (the table may be replaced): do not hold it across that call.
  SlotMeta& meta(std::uint32_t slot) noexcept { return slots_.load(std::memory_order_relaxed)->items()[slot].meta; }
  const SlotMeta& meta(std::uint32_t slot) const noexcept {
    return slots_.load(std::memory_order_relaxed)->items()[slot].meta;
  }
  // Writer-side record load (no ordering needed: the writer stored it).
  const PoolElementRecord* writer_record(std::uint32_t slot) const noexcept {
    return slots_.load(std::memory_order_relaxed)->items()[slot].record.load(std::memory_order_relaxed);
  }

  // Home PRs of this pool's PEs with their slot lists (writer-only; a pool has few owners).
  std::vector<PoolOwner> owners;
  PoolOwner* find_owner(RegistrarId owner) noexcept {
    for (PoolOwner& o : owners)
      if (o.owner == owner) return &o;
    return nullptr;
  }
  const PoolOwner* find_owner(RegistrarId owner) const noexcept {
    return const_cast<Pool*>(this)->find_owner(owner);
  }

  // Association list links by slot (writer-only, see AssocLink). Only a PE that has a
  // neighbour in its association's list needs them: a slot beyond the array has empty links
  // (both invalid). So the array is grown only when a link to a neighbour is stored, and a pool
  // whose PEs each came over an association of their own (how real PEs connect) or over none
  // keeps it empty (16 bytes per PE, plus growth slack, saved).
  std::vector<AssocLink> assoc_links;
  // The slot's links, the array grown to hold them (for storing a link to a neighbour).
  AssocLink& association_link(std::uint32_t slot) {
    if (slot >= assoc_links.size()) assoc_links.resize(std::max<std::size_t>(slot + 1, next_slot_));
    return assoc_links[slot];
  }
  // The slot's links for reading: empty ones beyond the array.
  AssocLink association_link_of(std::uint32_t slot) const noexcept {
    return slot < assoc_links.size() ? assoc_links[slot] : AssocLink{};
  }
  // Makes the slot's links empty (without growing the array).
  void clear_association_link(std::uint32_t slot) noexcept {
    if (slot < assoc_links.size()) assoc_links[slot] = AssocLink{};
  }

  // Short-ID (low 32 bits) index, maintained only in ID64 collision-check mode.
  std::unordered_map<std::uint32_t, std::uint32_t> short_ids;

 private:
  void grow_slots(std::uint32_t min_capacity);
  void rebuild_ids(std::uint32_t capacity);
  void id_insert(IdIndex* table, std::uint64_t mixed, std::uint32_t slot) noexcept;

  Reclaimer& reclaimer_;
  std::atomic<IdIndex*> ids_;
  std::uint32_t ids_mask_ = 0;  // writer's copy of ids_->capacity - 1
  std::atomic<std::size_t> size_{0};
  std::uint32_t ids_used_ = 0;  // live entries + tombstones
  std::uint32_t next_slot_ = 0;
  std::vector<std::uint32_t> free_slots_;
  // Freed slots waiting for their grace period, oldest first from pending_head_: (slot, grace
  // token). A vector consumed from the front, not a std::deque: libstdc++'s deque allocates a
  // 512-byte block and its map as soon as it is constructed, ~6 bytes per PE at 100 PEs a pool.
  std::vector<std::pair<std::uint32_t, std::uint64_t>> pending_slots_;
  std::size_t pending_head_ = 0;
  std::uint32_t scan_countdown_ = 0;
};

}  // namespace poolreg::handlespace
