#include "registrar/asap/owned_pe_table.hpp"

namespace poolreg::asap {

OwnedPeTable::OwnedPeTable() : buckets_(64, kEmpty) {}

std::uint64_t OwnedPeTable::hash_of(const PoolHandle& handle, PoolElementId id) noexcept {
  std::uint64_t h = handle.hash() ^ (id * 0x9e3779b97f4a7c15ULL);
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 32;
  return h;
}

OwnedPeTable::Index OwnedPeTable::find(const PoolHandle& handle, PoolElementId id) const noexcept {
  const std::uint64_t h = hash_of(handle, id);
  const std::size_t mask = buckets_.size() - 1;
  for (std::size_t b = bucket_of(h);; b = (b + 1) & mask) {
    const std::uint32_t i = buckets_[b];
    if (i == kEmpty) return kNotFound;
    if (hashes_[i] == h && slab_[i].id == id && slab_[i].handle == handle) return i;
  }
}

OwnedPeTable::Index OwnedPeTable::insert(const PoolHandle& handle, PoolElementId id, bool& created) {
  const Index existing = find(handle, id);
  if (existing != kNotFound) {
    created = false;
    return existing;
  }
  created = true;
  if ((size_ + 1) * 2 > buckets_.size()) grow();
  Index i;
  if (!free_.empty()) {
    i = free_.back();
    free_.pop_back();
  } else {
    i = static_cast<Index>(slab_.size());
    slab_.emplace_back();
    hashes_.push_back(0);
    if (free_.capacity() < slab_.size()) free_.reserve(slab_.capacity());  // erase() never allocates
  }
  const std::uint64_t h = hash_of(handle, id);
  slab_[i] = OwnedPe{handle, id, kNoConnectionId, MonitorState::kIdle, true};
  hashes_[i] = h;
  const std::size_t mask = buckets_.size() - 1;
  std::size_t b = bucket_of(h);
  while (buckets_[b] != kEmpty) b = (b + 1) & mask;
  buckets_[b] = i;
  ++size_;
  return i;
}

void OwnedPeTable::erase(Index index) noexcept {
  if (index >= slab_.size() || !slab_[index].in_use) return;
  const std::size_t mask = buckets_.size() - 1;
  std::size_t b = bucket_of(hashes_[index]);
  while (buckets_[b] != index) b = (b + 1) & mask;  // present by construction
  // Backward-shift deletion keeps probe chains intact without tombstones.
  std::size_t hole = b;
  for (std::size_t j = (hole + 1) & mask; buckets_[j] != kEmpty; j = (j + 1) & mask) {
    const std::size_t home = bucket_of(hashes_[buckets_[j]]);
    // Move j into the hole when its home bucket is not in (hole, j] (cyclically).
    const bool home_in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!home_in_range) {
      buckets_[hole] = buckets_[j];
      hole = j;
    }
  }
  buckets_[hole] = kEmpty;
  slab_[index].in_use = false;
  free_.push_back(index);  // capacity reserved in insert()
  --size_;
}

void OwnedPeTable::grow() {
  std::vector<std::uint32_t> next(buckets_.size() * 2, kEmpty);
  const std::size_t mask = next.size() - 1;
  for (std::uint32_t i : buckets_) {
    if (i == kEmpty) continue;
    std::size_t b = static_cast<std::size_t>(hashes_[i]) & mask;
    while (next[b] != kEmpty) b = (b + 1) & mask;
    next[b] = i;
  }
  buckets_.swap(next);
}

}  // namespace poolreg::asap
