// Shard: the pools whose handle hashes to it, with their writer-side indexes (internal).
//
// Reader-visible: the pool table (open addressing on PoolHandle::hash(), tombstones, replaced
// by a rebuilt copy when full; old tables retired through QSBR) and the feedback queue.
// Writer-only: pools by index, pools in handle order (snapshots), per-owner pool lists with
// checksum accumulators, the expiry heap, the association index (per-association PE lists).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <queue>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "registrar/handlespace/association_index.hpp"
#include "registrar/handlespace/chunked_array.hpp"
#include "registrar/handlespace/handlespace.hpp"
#include "registrar/handlespace/pool.hpp"
#include "registrar/handlespace/selection_feedback_queue.hpp"

namespace poolreg::handlespace {

class Shard {
 public:
  Shard(QsbrDomain& domain, const HandlespaceLimits& limits, std::atomic<std::size_t>& pool_count,
        std::atomic<std::size_t>& total_pe_count,
        std::size_t feedback_capacity);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // ---- reader side ----
  const Pool* find_pool(const PoolHandle& handle, std::uint64_t hash) const noexcept;
  template <typename F>
  void for_each_pool(F&& f) const {
    const PoolTable* t = table_.load(std::memory_order_acquire);
    for (std::uint32_t i = 0; i < t->capacity; ++i) {
      const Pool* p = t->items()[i].load(std::memory_order_acquire);
      if (p != nullptr && p != tombstone()) f(*p);
    }
  }
  void push_feedback(const Pool& pool, std::uint32_t slot) const noexcept {
    feedback_.try_push({pool.index, pool.generation, slot});
  }
  std::size_t pe_count() const noexcept { return pe_count_.load(std::memory_order_relaxed); }
  std::size_t pool_count() const noexcept { return pools_live_.load(std::memory_order_relaxed); }
  std::uint64_t feedback_dropped() const noexcept { return feedback_.dropped(); }

  // ---- writer side ----
  // known_pool: the published pool of `handle` when the caller has found it already (a
  // published pool stays the pool of its handle until a removal empties it), else nullptr.
  Expected<RegisterOutcome, HandlespaceError> register_pe(const PoolHandle& handle, std::uint64_t hash,
                                                          const PoolElement& pe,
                                                          const RegistrationOptions& options,
                                                          Pool* known_pool = nullptr);
  std::optional<RemovedPe> deregister(const PoolHandle& handle, std::uint64_t hash, PoolElementId id);
  // deregister() with the SEC-02 owner check of Handlespace::deregister_from, on one lookup.
  Expected<std::optional<RemovedPe>, HandlespaceError> deregister_from(const PoolHandle& handle,
                                                                       std::uint64_t hash, PoolElementId id,
                                                                       std::uint64_t association);
  bool deregister(const PoolHandle& handle, std::uint64_t hash, PoolElementId id, RemovedVisitor on_removed);
  Expected<bool, HandlespaceError> deregister_from(const PoolHandle& handle, std::uint64_t hash,
                                                   PoolElementId id, std::uint64_t association,
                                                   RemovedVisitor on_removed);
  bool remove(const PoolHandle& handle, std::uint64_t hash, PoolElementId id);
  std::size_t remove_association(std::uint64_t association, RemovedVisitor on_removed, std::size_t max);
  // Handover hold: marks every PE of the association held (out of the selector, so no policy
  // returns it; record, owner and checksums unchanged) and the association closing (a
  // registration over another association takes a PE over without 0x4). Returns how many.
  std::size_t hold_association(std::uint64_t association, PoolPeVisitor on_held);
  // Whether the PE is held; false when unknown.
  bool held(const PoolHandle& handle, std::uint64_t hash, PoolElementId id) const;
  bool association_closing(std::uint64_t association) const noexcept {
    return !closing_.empty() && closing_.contains(association);
  }
  std::size_t expire_due(TimeNs now, RemovedVisitor on_removed, std::size_t max);
  std::optional<TimeNs> next_expiry() const;
  // Kept graceful addresses (RFC 8653, Handlespace::retire_due): drops those due, returns how
  // many PEs changed; next_retirement() = the earliest queued time.
  std::size_t retire_due(TimeNs now, std::size_t max);
  std::optional<TimeNs> next_retirement() const;
  bool set_expiry(const PoolHandle& handle, std::uint64_t hash, PoolElementId id, TimeNs at);
  std::size_t change_owner(RegistrarId from, RegistrarId to, bool clear_expiry);
  std::size_t pe_count_of_owner(RegistrarId owner) const;
  void for_each_of_owner(RegistrarId owner, PoolPeVisitor visit) const;
  std::size_t mark_owned_by(RegistrarId owner);
  std::size_t purge_marked(RegistrarId owner, RemovedVisitor on_removed);
  std::optional<std::uint32_t> report_unreachable(const PoolHandle& handle, std::uint64_t hash, PoolElementId id);
  void reset_unreachable(const PoolHandle& handle, std::uint64_t hash, PoolElementId id);
  ChecksumAccumulator accumulator(RegistrarId owner) const;
  // f(owner, accumulator, pe_count) for every home registrar with PEs in this shard, as kept
  // incrementally (the checksum audit compares them with a recomputation).
  template <typename F>
  void for_each_owner(F&& f) const {
    for (const auto& [owner, e] : owners_) f(owner, e.acc, e.count);
  }
  std::size_t drain_feedback();
  Pool* writer_find(const PoolHandle& handle, std::uint64_t hash) const noexcept {
    return const_cast<Pool*>(find_pool(handle, hash));
  }
  // Prefetch hints for the batched writer path (never a correctness dependency): the pool
  // table line where the probe for `hash` starts, then the pool found there (if any).
  void prefetch_pool_table(std::uint64_t hash) const noexcept {
    const PoolTable* t = table_.load(std::memory_order_relaxed);
    __builtin_prefetch(&t->items()[table_start(hash, t->capacity)]);
  }
  // (Every pool on the first probes: the lookup reads the hash of each one it passes.)
  void prefetch_pool(std::uint64_t hash) const noexcept {
    const PoolTable* t = table_.load(std::memory_order_relaxed);
    const std::uint32_t mask = t->capacity - 1;
    std::uint32_t i = table_start(hash, t->capacity);
    for (int probes = 0; probes < 3; ++probes, i = (i + 1) & mask) {
      const Pool* p = t->items()[i].load(std::memory_order_relaxed);
      if (p == nullptr) return;
      if (p != tombstone()) p->prefetch_lookup_lines();
    }
  }
  // Pools in handle order (for snapshots): first pool with handle >= h (or > h).
  const Pool* pool_at_or_after(const PoolHandle* h, bool strictly_after) const;

 private:
  using PoolTable = AtomicArray<std::atomic<const Pool*>>;
  static std::uint32_t table_start(std::uint64_t hash, std::uint32_t capacity) noexcept {
    // Shards take hash % shard_count: mix so the in-shard position uses other bits.
    return static_cast<std::uint32_t>(mix_id(hash)) & (capacity - 1);
  }
  static const Pool* tombstone() noexcept { return reinterpret_cast<const Pool*>(&tombstone_marker_); }
  static const char tombstone_marker_;

  // A home PR's PEs in this shard: the pools holding some (each pool keeps the slot list, see
  // PoolOwner), their count and checksum accumulator.
  struct OwnerEntry {
    std::vector<std::uint32_t> pools;  // shard-local pool indexes, PoolOwner::position = index here
    std::size_t count = 0;
    ChecksumAccumulator acc;
  };
  struct HeapEntry {
    TimeNs at;
    PeRef ref;
  };
  // Keyed by handle + ID, not by slot: a stale entry (PE gone, slot reused) finds nothing due.
  struct Retirement {
    TimeNs at;
    PoolHandle handle;
    PoolElementId id;
    bool operator>(const Retirement& o) const noexcept { return at > o.at; }
  };

  Pool* pool_by_index(std::uint32_t index) const noexcept { return pools_[index]; }
  Pool* create_pool(const PoolHandle& handle, std::uint64_t hash, const PoolElement& pe);
  void destroy_pool(Pool* pool);
  void table_insert(const Pool* pool);
  void table_erase(const Pool* pool);
  void rebuild_table(std::uint32_t capacity);

  RemovedPe remove_pe(Pool& pool, std::uint32_t slot);  // full removal, pool may vanish
  // The same, calling on_removed with a view of the PE once it is out of every index and
  // before its record (and the pool, when emptied) is retired.
  void remove_pe(Pool& pool, std::uint32_t slot, RemovedVisitor on_removed);
  void unlink_pe(Pool& pool, std::uint32_t slot);       // the same without the RemovedPe copy
  // unlink_pe() in two steps: detach_pe takes the PE out of every index (the record stays
  // allocated, the pool stays even when emptied); retire_pe then retires the record and, when
  // the pool is empty, the pool.
  void detach_pe(Pool& pool, std::uint32_t slot, const PoolElementRecord& r);
  void retire_pe(Pool& pool, const PoolElementRecord* r);
  // Issues the loads unlink_pe() will need (selector entry, owner-list neighbours, expiry heap
  // entry, association link and index line) as prefetches, so their cache misses overlap.
  void prefetch_unlink(const Pool& pool, std::uint32_t slot, const PoolElementRecord& r) const noexcept;
  void owner_link(RegistrarId owner, Pool& pool, std::uint32_t slot, PoolElementId id);
  void owner_unlink(RegistrarId owner, Pool& pool, std::uint32_t slot, PoolElementId id);
  void assoc_link(std::uint64_t association, Pool& pool, std::uint32_t slot);
  void assoc_unlink(std::uint64_t association, Pool& pool, std::uint32_t slot);
  void set_expiry(Pool& pool, std::uint32_t slot, TimeNs at);
  // Queues the retirement of `fresh`'s retiring addresses unless one no later is queued.
  void queue_retirement(Pool& pool, std::uint32_t slot, const PoolElementRecord* old,
                        const PoolElementRecord& fresh);
  void heap_swap(std::size_t a, std::size_t b);
  void heap_up(std::size_t i);
  void heap_down(std::size_t i);
  void heap_remove(std::size_t i);
  SlotMeta& meta_of(PeRef r) noexcept { return pools_[r.pool]->meta(r.slot); }
  // Every PE of `owner` in this shard (pool by pool); f(Pool&, slot) must not unlink PEs.
  template <typename F>
  void walk_owner(const OwnerEntry& e, RegistrarId owner, F&& f) const {
    for (std::uint32_t index : e.pools) {
      Pool& pool = *pools_[index];
      const PoolOwner* po = pool.find_owner(owner);
      for (std::uint32_t s = po->head; s != kNoIndex;) {
        const std::uint32_t next = pool.meta(s).owner_next;
        f(pool, s);
        s = next;
      }
    }
  }

  QsbrDomain& domain_;
  const HandlespaceLimits& limits_;
  std::atomic<std::size_t>& total_pools_;
  std::atomic<std::size_t>& total_pes_;  // shared by all shards, for limits.max_pes_total
  std::atomic<PoolTable*> table_;
  std::uint32_t table_used_ = 0;  // live + tombstones
  std::vector<Pool*> pools_;      // by shard-local index (nullptr = free)
  std::vector<std::uint32_t> pool_generations_;
  std::vector<std::uint32_t> free_pool_indexes_;
  std::map<PoolHandle, std::uint32_t> pools_by_handle_;
  std::unordered_map<RegistrarId, OwnerEntry> owners_;
  ChunkedArray<HeapEntry> heap_;  // binary min-heap; chunked: no doubling spike at 10^7 PEs
  // Kept graceful addresses to drop (min-heap by time). At most one live entry per PE (the
  // slot's retirement_queued bit) plus one per registration that moved a deadline earlier.
  std::priority_queue<Retirement, std::vector<Retirement>, std::greater<>> retirements_;
  AssociationIndex associations_;  // association -> head of its PE list (Pool::assoc_links)
  // Associations whose removal is under way in bounded steps (remove_association stopped at
  // its `max`): their PEs may be re-bound by a registration over another association.
  std::unordered_set<std::uint64_t> closing_;
  mutable SelectionFeedbackQueue feedback_;  // readers push through const paths
  std::atomic<std::size_t> pe_count_{0};
  std::atomic<std::size_t> pools_live_{0};
};

}  // namespace poolreg::handlespace
