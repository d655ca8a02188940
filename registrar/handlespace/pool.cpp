#include "registrar/handlespace/pool.hpp"

#include "registrar/handlespace/pe_checksum.hpp"

namespace poolreg::handlespace {
namespace {
// Slot table capacities are 2^n - 1: with the 32-byte header the table is 2^n x 32 bytes, an
// allocator size class (a power-of-two capacity put 100 PEs' 4128 bytes in a 5120-byte block).
constexpr std::uint32_t kInitialSlots = 3;
constexpr std::uint32_t kInitialIds = 8;
}  // namespace

Pool::Pool(const PoolHandle& h, std::uint64_t hv, PolicyType p, TransportProtocol proto, TransportUse u,
           std::uint32_t idx, std::uint32_t gen, Reclaimer& reclaimer)
    : hash(hv),
      slots_(SlotTable::create(kInitialSlots)),
      selector(policy::construct_selector(p, reclaimer, selector_storage_)),
      handle(h),
      policy(p),
      protocol(proto),
      use(u),
      needs_selection_feedback(selector->needs_selection_feedback()),
      index(idx),
      generation(gen),
      checksum16_handle(checksum16_handle_part(h.bytes())),
      checksum32_handle(checksum32_handle_part(h.bytes())),
      reclaimer_(reclaimer),
      ids_(IdIndex::create(kInitialIds, kIdEmpty)),
      ids_mask_(kInitialIds - 1) {}

Pool::~Pool() {
  SlotTable* a = slots_.load(std::memory_order_relaxed);
  for (std::uint32_t i = 0; i < a->capacity; ++i) {
    if (const auto* r = a->items()[i].record.load(std::memory_order_relaxed))
      PoolElementRecord::destroy(const_cast<PoolElementRecord*>(r));
  }
  SlotTable::destroy(a);
  IdIndex::destroy(ids_.load(std::memory_order_relaxed));
  std::destroy_at(selector);
}

std::uint32_t Pool::find(PoolElementId id) const noexcept {
  const IdIndex* t = ids_.load(std::memory_order_acquire);
  const std::uint32_t mask = t->capacity - 1;
  const std::uint64_t mixed = mix_id(id);
  const std::uint32_t fingerprint = id_entry(mixed, 0);
  std::uint32_t i = static_cast<std::uint32_t>(mixed) & mask;
  for (std::uint32_t probes = 0; probes < t->capacity; ++probes, i = (i + 1) & mask) {
    const std::uint32_t e = t->items()[i].load(std::memory_order_acquire);
    if (e == kIdEmpty) return kNoIndex;
    if (e == kIdTombstone || (e & ~kSlotMask) != fingerprint) continue;
    const std::uint32_t slot = e & kSlotMask;
    const PoolElementRecord* r = record(slot);
    if (r != nullptr && r->id() == id) return slot;
  }
  return kNoIndex;
}

std::uint32_t Pool::writer_find(PoolElementId id) const noexcept {
  // Writer: the tables cannot change under it, so relaxed loads and the cached geometry do;
  // every slot in the index is below next_slot_ <= the slot table capacity.
  const IdIndex* t = ids_.load(std::memory_order_relaxed);
  const SlotEntry* slots = slots_.load(std::memory_order_relaxed)->items();
  const std::uint64_t mixed = mix_id(id);
  const std::uint32_t fingerprint = id_entry(mixed, 0);
  std::uint32_t i = static_cast<std::uint32_t>(mixed) & ids_mask_;
  for (std::uint32_t probes = 0; probes <= ids_mask_; ++probes, i = (i + 1) & ids_mask_) {
    const std::uint32_t e = t->items()[i].load(std::memory_order_relaxed);
    if (e == kIdEmpty) return kNoIndex;
    if (e == kIdTombstone || (e & ~kSlotMask) != fingerprint) continue;
    const std::uint32_t slot = e & kSlotMask;
    const PoolElementRecord* r = slots[slot].record.load(std::memory_order_relaxed);
    if (r != nullptr && r->id() == id) return slot;
  }
  return kNoIndex;
}

std::uint32_t Pool::id_candidate(std::uint64_t mixed) const noexcept {
  const IdIndex* t = ids_.load(std::memory_order_relaxed);
  const std::uint32_t fingerprint = id_entry(mixed, 0);
  std::uint32_t i = static_cast<std::uint32_t>(mixed) & ids_mask_;
  for (std::uint32_t probes = 0; probes <= ids_mask_; ++probes, i = (i + 1) & ids_mask_) {
    const std::uint32_t e = t->items()[i].load(std::memory_order_relaxed);
    if (e == kIdEmpty) return kNoIndex;
    if (e != kIdTombstone && (e & ~kSlotMask) == fingerprint) return e & kSlotMask;
  }
  return kNoIndex;
}

std::uint32_t Pool::allocate_slot(QsbrDomain& domain) {
  if (free_slots_.empty() && pending_head_ < pending_slots_.size()) {
    // Recycle slots whose grace period has elapsed (readers may still resolve a stale slot
    // number through the selector; they must not find another PE there too early).
    // Scanning reader slots costs O(readers): do it at most every 16 allocations.
    if (scan_countdown_ == 0) {
      scan_countdown_ = 16;
      const std::uint64_t safe = domain.safe_token();
      while (pending_head_ < pending_slots_.size() && pending_slots_[pending_head_].second <= safe) {
        free_slots_.push_back(pending_slots_[pending_head_].first);
        ++pending_head_;
      }
      // Drop the consumed front: all of it at once when nothing waits, else once it is the
      // larger half (amortised O(1) per slot).
      if (pending_head_ == pending_slots_.size()) {
        pending_slots_.clear();
        pending_head_ = 0;
      } else if (pending_head_ * 2 > pending_slots_.size()) {
        pending_slots_.erase(pending_slots_.begin(),
                             pending_slots_.begin() + static_cast<std::ptrdiff_t>(pending_head_));
        pending_head_ = 0;
      }
    } else {
      --scan_countdown_;
    }
  }
  if (!free_slots_.empty()) {
    const std::uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }
  if (next_slot_ >= kMaxSlots) return kNoIndex;
  const std::uint32_t slot = next_slot_++;
  if (slot >= slots_.load(std::memory_order_relaxed)->capacity) grow_slots(slot + 1);
  return slot;
}

void Pool::grow_slots(std::uint32_t min_capacity) {
  SlotTable* old = slots_.load(std::memory_order_relaxed);
  std::uint32_t capacity = old->capacity;
  while (capacity < min_capacity) capacity = 2 * capacity + 1;
  SlotTable* fresh = SlotTable::create(capacity);
  for (std::uint32_t i = 0; i < old->capacity; ++i) {
    fresh->items()[i].record.store(old->items()[i].record.load(std::memory_order_relaxed), std::memory_order_relaxed);
    fresh->items()[i].meta = old->items()[i].meta;
  }
  slots_.store(fresh, std::memory_order_release);
  reclaimer_.retire(old, &SlotTable::destroy);
}

void Pool::id_insert(IdIndex* t, std::uint64_t mixed, std::uint32_t slot) noexcept {
  const std::uint32_t mask = t->capacity - 1;
  std::uint32_t i = static_cast<std::uint32_t>(mixed) & mask;
  for (;;) {
    const std::uint32_t e = t->items()[i].load(std::memory_order_relaxed);
    if (e == kIdEmpty || e == kIdTombstone) {
      if (e == kIdEmpty) ++ids_used_;
      t->items()[i].store(id_entry(mixed, slot), std::memory_order_release);
      return;
    }
    i = (i + 1) & mask;
  }
}

void Pool::rebuild_ids(std::uint32_t capacity) {
  IdIndex* old = ids_.load(std::memory_order_relaxed);
  IdIndex* fresh = IdIndex::create(capacity, kIdEmpty);
  ids_used_ = 0;
  for (std::uint32_t i = 0; i < old->capacity; ++i) {
    const std::uint32_t e = old->items()[i].load(std::memory_order_relaxed);
    if (e == kIdEmpty || e == kIdTombstone) continue;
    const std::uint32_t slot = e & kSlotMask;
    const PoolElementRecord* r = writer_record(slot);
    id_insert(fresh, mix_id(r->id()), slot);
  }
  ids_.store(fresh, std::memory_order_release);
  ids_mask_ = capacity - 1;
  reclaimer_.retire(old, &IdIndex::destroy);
}

void Pool::insert(std::uint32_t slot, const PoolElementRecord* r) {
  // Record first, then the index entry: a reader that finds the entry finds the record.
  SlotEntry& entry = slots_.load(std::memory_order_relaxed)->items()[slot];
  entry.meta = SlotMeta{};
  entry.record.store(r, std::memory_order_release);
  const std::size_t live = size_.load(std::memory_order_relaxed) + 1;
  IdIndex* t = ids_.load(std::memory_order_relaxed);
  // Keep (live + tombstones) <= 3/4 of the capacity.
  if ((ids_used_ + 1) * 4 > t->capacity * 3) {
    std::uint32_t capacity = kInitialIds;
    while (capacity < live * 2) capacity *= 2;  // at most half full after a rebuild
    rebuild_ids(capacity);
    t = ids_.load(std::memory_order_relaxed);
  }
  id_insert(t, mix_id(r->id()), slot);
  size_.store(live, std::memory_order_relaxed);
}

void Pool::erase(std::uint32_t slot, PoolElementId id, QsbrDomain& domain) {
  IdIndex* t = ids_.load(std::memory_order_relaxed);
  const std::uint32_t mask = t->capacity - 1;
  const std::uint64_t mixed = mix_id(id);
  const std::uint32_t entry = id_entry(mixed, slot);
  std::uint32_t i = static_cast<std::uint32_t>(mixed) & mask;
  for (std::uint32_t probes = 0; probes < t->capacity; ++probes, i = (i + 1) & mask) {
    const std::uint32_t e = t->items()[i].load(std::memory_order_relaxed);
    if (e == kIdEmpty) break;
    if (e == entry) {
      t->items()[i].store(kIdTombstone, std::memory_order_release);
      break;
    }
  }
  slots_.load(std::memory_order_relaxed)->items()[slot].record.store(nullptr, std::memory_order_release);
  size_.store(size_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  pending_slots_.emplace_back(slot, domain.begin_grace_period());
}

}  // namespace poolreg::handlespace
