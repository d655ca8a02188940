#include "registrar/handlespace/shard.hpp"

#include <algorithm>

#include "registrar/common/pool_element_addresses.hpp"

namespace poolreg::handlespace {

const char Shard::tombstone_marker_ = 0;

namespace {
constexpr std::uint32_t kInitialPoolTable = 16;

std::uint32_t c16_of(const Pool& pool, PoolElementId id) noexcept {
  return pool.checksum16_handle + checksum16_id_part(id);
}
std::uint64_t c32_of(const Pool& pool, PoolElementId id) noexcept {
  return pool.checksum32_handle + checksum32_id_part(id);
}

void destroy_pool_object(void* p) noexcept { delete static_cast<Pool*>(p); }
void destroy_record(const PoolElementRecord* r, Reclaimer& reclaimer) {
  reclaimer.retire(const_cast<PoolElementRecord*>(r), &PoolElementRecord::destroy);
}
}  // namespace

Shard::Shard(QsbrDomain& domain, const HandlespaceLimits& limits, std::atomic<std::size_t>& pool_count,
             std::atomic<std::size_t>& total_pe_count, std::size_t feedback_capacity)
    : domain_(domain),
      limits_(limits),
      total_pools_(pool_count),
      total_pes_(total_pe_count),
      table_(PoolTable::create(kInitialPoolTable, nullptr)),
      feedback_(feedback_capacity) {}

Shard::~Shard() {
  for (Pool* p : pools_) delete p;
  PoolTable::destroy(table_.load(std::memory_order_relaxed));
}

// ---------------------------------------------------------------- pool table

const Pool* Shard::find_pool(const PoolHandle& handle, std::uint64_t hash) const noexcept {
  const PoolTable* t = table_.load(std::memory_order_acquire);
  const std::uint32_t mask = t->capacity - 1;
  std::uint32_t i = table_start(hash, t->capacity);
  for (std::uint32_t probes = 0; probes < t->capacity; ++probes, i = (i + 1) & mask) {
    const Pool* p = t->items()[i].load(std::memory_order_acquire);
    if (p == nullptr) return nullptr;
    if (p != tombstone() && p->hash == hash && p->handle == handle) return p;
  }
  return nullptr;
}

void Shard::rebuild_table(std::uint32_t capacity) {
  PoolTable* old = table_.load(std::memory_order_relaxed);
  PoolTable* fresh = PoolTable::create(capacity, nullptr);
  table_used_ = 0;
  for (std::uint32_t i = 0; i < old->capacity; ++i) {
    const Pool* p = old->items()[i].load(std::memory_order_relaxed);
    if (p == nullptr || p == tombstone()) continue;
    std::uint32_t j = table_start(p->hash, capacity);
    while (fresh->items()[j].load(std::memory_order_relaxed) != nullptr) j = (j + 1) & (capacity - 1);
    fresh->items()[j].store(p, std::memory_order_relaxed);
    ++table_used_;
  }
  table_.store(fresh, std::memory_order_release);
  domain_.retire(old, &PoolTable::destroy);
}

void Shard::table_insert(const Pool* pool) {
  PoolTable* t = table_.load(std::memory_order_relaxed);
  if ((table_used_ + 1) * 4 > t->capacity * 3) {
    std::uint32_t capacity = kInitialPoolTable;
    while (capacity < (pools_live_.load(std::memory_order_relaxed) + 1) * 2) capacity *= 2;
    rebuild_table(capacity);
    t = table_.load(std::memory_order_relaxed);
  }
  const std::uint32_t mask = t->capacity - 1;
  std::uint32_t i = table_start(pool->hash, t->capacity);
  for (;;) {
    const Pool* p = t->items()[i].load(std::memory_order_relaxed);
    if (p == nullptr || p == tombstone()) {
      if (p == nullptr) ++table_used_;
      t->items()[i].store(pool, std::memory_order_release);
      return;
    }
    i = (i + 1) & mask;
  }
}

void Shard::table_erase(const Pool* pool) {
  PoolTable* t = table_.load(std::memory_order_relaxed);
  const std::uint32_t mask = t->capacity - 1;
  std::uint32_t i = table_start(pool->hash, t->capacity);
  for (std::uint32_t probes = 0; probes < t->capacity; ++probes, i = (i + 1) & mask) {
    const Pool* p = t->items()[i].load(std::memory_order_relaxed);
    if (p == nullptr) return;
    if (p == pool) {
      t->items()[i].store(tombstone(), std::memory_order_release);
      return;
    }
  }
}

Pool* Shard::create_pool(const PoolHandle& handle, std::uint64_t hash, const PoolElement& pe) {
  std::uint32_t index;
  if (!free_pool_indexes_.empty()) {
    index = free_pool_indexes_.back();
    free_pool_indexes_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(pools_.size());
    pools_.push_back(nullptr);
    pool_generations_.push_back(0);
  }
  const std::uint32_t generation = ++pool_generations_[index];
  auto* pool = new Pool(handle, hash, pe.policy.type, pe.user_transport.protocol, pe.user_transport.use, index,
                        generation, domain_);
  pools_[index] = pool;
  pools_by_handle_.emplace(handle, index);
  // Published to readers by register_pe() once it holds its first PE.
  pools_live_.fetch_add(1, std::memory_order_relaxed);
  total_pools_.fetch_add(1, std::memory_order_relaxed);
  return pool;
}

void Shard::destroy_pool(Pool* pool) {
  table_erase(pool);
  pools_by_handle_.erase(pool->handle);
  pools_[pool->index] = nullptr;
  free_pool_indexes_.push_back(pool->index);
  pools_live_.fetch_sub(1, std::memory_order_relaxed);
  total_pools_.fetch_sub(1, std::memory_order_relaxed);
  domain_.retire(pool, &destroy_pool_object);
}

const Pool* Shard::pool_at_or_after(const PoolHandle* h, bool strictly_after) const {
  auto it = h == nullptr ? pools_by_handle_.begin()
                         : (strictly_after ? pools_by_handle_.upper_bound(*h) : pools_by_handle_.lower_bound(*h));
  return it == pools_by_handle_.end() ? nullptr : pools_[it->second];
}

// ---------------------------------------------------------------- owner / association / expiry indexes

void Shard::owner_link(RegistrarId owner, Pool& pool, std::uint32_t slot, PoolElementId id) {
  OwnerEntry& e = owners_[owner];
  PoolOwner* po = pool.find_owner(owner);
  if (po == nullptr) {
    pool.owners.push_back(PoolOwner{owner, kNoIndex, 0, static_cast<std::uint32_t>(e.pools.size())});
    e.pools.push_back(pool.index);
    po = &pool.owners.back();
  }
  SlotMeta& m = pool.meta(slot);
  m.owner_prev = kNoIndex;
  m.owner_next = po->head;
  if (po->head != kNoIndex) pool.meta(po->head).owner_prev = slot;
  po->head = slot;
  ++po->count;
  ++e.count;
  e.acc.add(c16_of(pool, id), c32_of(pool, id));
}

void Shard::owner_unlink(RegistrarId owner, Pool& pool, std::uint32_t slot, PoolElementId id) {
  auto it = owners_.find(owner);
  PoolOwner* po = pool.find_owner(owner);
  if (it == owners_.end() || po == nullptr) return;  // cannot happen: every PE is linked to its home
  OwnerEntry& e = it->second;
  SlotMeta& m = pool.meta(slot);
  if (m.owner_prev != kNoIndex)
    pool.meta(m.owner_prev).owner_next = m.owner_next;
  else
    po->head = m.owner_next;
  if (m.owner_next != kNoIndex) pool.meta(m.owner_next).owner_prev = m.owner_prev;
  m.owner_prev = kNoIndex;
  m.owner_next = kNoIndex;
  if (--po->count == 0) {
    // The pool holds no more PEs of this owner: drop it from the owner's pool list (swap with
    // the last one, whose PoolOwner learns its new position) and from the pool's owners.
    const std::uint32_t position = po->position;
    const std::uint32_t moved = e.pools.back();
    e.pools[position] = moved;
    e.pools.pop_back();
    if (moved != pool.index) pools_[moved]->find_owner(owner)->position = position;
    *po = pool.owners.back();
    pool.owners.pop_back();
  }
  --e.count;
  e.acc.subtract(c16_of(pool, id), c32_of(pool, id));
  if (e.count == 0) owners_.erase(it);
}

// The association's PEs: a doubly-linked list through Pool::assoc_links, new PEs at the head.
void Shard::assoc_link(std::uint64_t association, Pool& pool, std::uint32_t slot) {
  const PeRef ref{pool.index, slot};
  PeRef* head = associations_.find(association);
  const PeRef next = head != nullptr ? *head : PeRef{};
  if (next.valid()) {
    pool.association_link(slot) = AssocLink{PeRef{}, next};
    pools_[next.pool]->association_link(next.slot).prev = ref;
  } else {
    pool.clear_association_link(slot);  // the association's only PE here: no links stored
  }
  if (head != nullptr)
    *head = ref;
  else
    associations_.set_head(association, ref);
}

void Shard::assoc_unlink(std::uint64_t association, Pool& pool, std::uint32_t slot) {
  // A PE with a neighbour has its links stored, and so has the neighbour: the neighbours'
  // association_link() calls below never grow an array.
  const AssocLink l = pool.association_link_of(slot);
  if (l.next.valid()) pools_[l.next.pool]->association_link(l.next.slot).prev = l.prev;
  if (l.prev.valid()) {
    pools_[l.prev.pool]->association_link(l.prev.slot).next = l.next;
  } else if (l.next.valid()) {
    if (PeRef* head = associations_.find(association)) *head = l.next;
  } else {
    associations_.erase(association);  // its last PE in this shard
    if (!closing_.empty()) closing_.erase(association);
  }
  pool.clear_association_link(slot);
}

void Shard::heap_swap(std::size_t a, std::size_t b) {
  std::swap(heap_[a], heap_[b]);
  meta_of(heap_[a].ref).heap_position = static_cast<std::uint32_t>(a);
  meta_of(heap_[b].ref).heap_position = static_cast<std::uint32_t>(b);
}

void Shard::heap_up(std::size_t i) {
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!(heap_[i].at < heap_[parent].at)) break;
    heap_swap(i, parent);
    i = parent;
  }
}

void Shard::heap_down(std::size_t i) {
  for (;;) {
    const std::size_t l = 2 * i + 1, r = l + 1;
    std::size_t smallest = i;
    if (l < heap_.size() && heap_[l].at < heap_[smallest].at) smallest = l;
    if (r < heap_.size() && heap_[r].at < heap_[smallest].at) smallest = r;
    if (smallest == i) return;
    heap_swap(i, smallest);
    i = smallest;
  }
}

void Shard::heap_remove(std::size_t i) {
  meta_of(heap_[i].ref).heap_position = kNoIndex;
  const std::size_t last = heap_.size() - 1;
  if (i != last) {
    heap_[i] = heap_[last];
    meta_of(heap_[i].ref).heap_position = static_cast<std::uint32_t>(i);
    heap_.pop_back();
    heap_down(i);
    heap_up(i);
  } else {
    heap_.pop_back();
  }
}

// The heap key of a PE is a lower bound of its expiry time (SlotMeta::expires_at). Extending
// the expiry (the common case: every ADD update / re-registration refreshes it) only updates
// the metadata, O(1); the heap entry is moved when it reaches the top (expire_due). Moving the
// expiry earlier sifts the entry up at once.
void Shard::set_expiry(Pool& pool, std::uint32_t slot, TimeNs at) {
  SlotMeta& m = pool.meta(slot);
  const TimeNs previous = m.expires_at;
  m.expires_at = at;
  if (m.heap_position != kNoIndex) {
    const std::size_t pos = m.heap_position;
    if (at == 0) {
      heap_remove(pos);
    } else if (at < previous && at < heap_[pos].at) {
      // (heap key <= previous expiry: a later or equal expiry never touches the heap entry,
      // which spares a cache miss on every refresh.)
      heap_[pos].at = at;
      heap_up(pos);
    }
  } else if (at != 0) {
    heap_.push_back({at, PeRef{pool.index, slot}});
    m.heap_position = static_cast<std::uint32_t>(heap_.size() - 1);
    heap_up(heap_.size() - 1);
  }
}

// ---------------------------------------------------------------- writer operations

Expected<RegisterOutcome, HandlespaceError> Shard::register_pe(const PoolHandle& handle, std::uint64_t hash,
                                                               const PoolElement& pe,
                                                               const RegistrationOptions& options,
                                                               Pool* known_pool) {
  if (pe.id == 0) return Unexpected(HandlespaceError{ErrorCause::kInvalidValues, "PE ID 0 is reserved"});
  if (pe.user_transport.addresses.empty())
    return Unexpected(HandlespaceError{ErrorCause::kInvalidValues, "PE has no user transport address"});
  const std::size_t max_addresses = std::min<std::size_t>(limits_.max_addresses_per_pe, 255);
  if (pe.user_transport.addresses.size() > max_addresses ||
      (pe.asap_transport && pe.asap_transport->addresses.size() > max_addresses))
    return Unexpected(HandlespaceError{ErrorCause::kLackOfResources,
                                       "too many addresses for one PE (limit max_addresses_per_pe)"});

  Pool* pool = known_pool != nullptr ? known_pool : writer_find(handle, hash);
  bool pool_created = false;
  if (pool != nullptr) {
    if (pe.policy.type != pool->policy)
      return Unexpected(
          HandlespaceError{ErrorCause::kInconsistentPoolingPolicy, "pool uses another pool policy"});
    if (pe.user_transport.protocol != pool->protocol)
      return Unexpected(HandlespaceError{ErrorCause::kInconsistentTransportType,
                                         "pool uses another user transport protocol"});
    if (pe.user_transport.use != pool->use)
      return Unexpected(HandlespaceError{ErrorCause::kInconsistentDataControlConfiguration,
                                         "pool uses another transport use (data only / data+control)"});
    const std::uint32_t slot = pool->writer_find(pe.id);
    if (slot != kNoIndex) {
      // ---- re-registration ----
      const PoolElementRecord* old = pool->writer_record(slot);
      if (options.association != 0 && old->association() != 0 && old->association() != options.association &&
          old->association() != options.rebind_from && !association_closing(old->association()))
        return Unexpected(HandlespaceError{ErrorCause::kNonUniquePeIdentifier,
                                           "PE is registered over another association"});
      const std::uint32_t seq = old->registration_seq() + 1;
      const PoolElementRecord* fresh = PoolElementRecord::create(pe, options.association, seq);
      pool->replace(slot, fresh);
      queue_retirement(*pool, slot, old, *fresh);
      SlotMeta& held_meta = pool->meta(slot);
      if (held_meta.held != 0) {
        // Back within its handover hold: offered again (it was out of the selector).
        held_meta.held = 0;
        pool->selector->insert(slot, pe.policy);
      } else if (pool->needs_selection_feedback || !(old->policy(pool->policy) == pe.policy)) {
        pool->selector->update(slot, pe.policy);
      }
      if (old->home() != pe.home_registrar) {
        owner_unlink(old->home(), *pool, slot, pe.id);
        owner_link(pe.home_registrar, *pool, slot, pe.id);
      }
      if (old->association() != options.association) {
        if (old->association() != 0) assoc_unlink(old->association(), *pool, slot);
        if (options.association != 0) assoc_link(options.association, *pool, slot);
      }
      set_expiry(*pool, slot, options.expires_at);
      SlotMeta& m = pool->meta(slot);
      m.marked = 0;
      m.unreachable_reports = 0;
      RegisterOutcome out{false, false, old->home(), seq};
      destroy_record(old, domain_);
      return out;
    }
    if (pool->size() >= limits_.max_pes_per_pool)
      return Unexpected(
          HandlespaceError{ErrorCause::kLackOfResources, "pool is full (limit max_pes_per_pool)"});
    if (total_pes_.load(std::memory_order_relaxed) >= limits_.max_pes_total)
      return Unexpected(
          HandlespaceError{ErrorCause::kLackOfResources, "handlespace is full (limit max_pes_total)"});
    if (limits_.reject_short_id_collisions && pool->short_ids.count(short_id(pe.id)) != 0)
      return Unexpected(HandlespaceError{ErrorCause::kNonUniquePeIdentifier,
                                         "another PE of the pool has the same 32-bit short ID"});
  } else {
    if (total_pools_.load(std::memory_order_relaxed) >= limits_.max_pools)
      return Unexpected(HandlespaceError{ErrorCause::kLackOfResources, "too many pools (limit max_pools)"});
    if (limits_.max_pes_per_pool == 0)
      return Unexpected(
          HandlespaceError{ErrorCause::kLackOfResources, "pool is full (limit max_pes_per_pool)"});
    if (total_pes_.load(std::memory_order_relaxed) >= limits_.max_pes_total)
      return Unexpected(
          HandlespaceError{ErrorCause::kLackOfResources, "handlespace is full (limit max_pes_total)"});
    pool = create_pool(handle, hash, pe);
    pool_created = true;
  }

  // ---- new PE ----
  const std::uint32_t slot = pool->allocate_slot(domain_);
  if (slot == kNoIndex) {
    // Only reachable with a fresh pool when max_pes_per_pool is 0 (checked above) or when a
    // pool has used all 2^24 - 2 slot numbers.
    if (pool_created) {
      pools_by_handle_.erase(pool->handle);
      pools_[pool->index] = nullptr;
      free_pool_indexes_.push_back(pool->index);
      pools_live_.fetch_sub(1, std::memory_order_relaxed);
      total_pools_.fetch_sub(1, std::memory_order_relaxed);
      delete pool;  // never published
    }
    return Unexpected(
        HandlespaceError{ErrorCause::kLackOfResources, "pool is full (slot space of 2^24 - 2 exhausted)"});
  }
  const PoolElementRecord* record = PoolElementRecord::create(pe, options.association, 1);
  pool->insert(slot, record);
  pool->meta(slot).held = 0;  // a reused slot starts offered
  pool->meta(slot).retirement_queued = 0;
  queue_retirement(*pool, slot, nullptr, *record);
  pool->selector->insert(slot, pe.policy);
  if (limits_.reject_short_id_collisions) pool->short_ids.emplace(short_id(pe.id), slot);
  owner_link(pe.home_registrar, *pool, slot, pe.id);
  if (options.association != 0) assoc_link(options.association, *pool, slot);
  if (options.expires_at != 0) set_expiry(*pool, slot, options.expires_at);
  pe_count_.fetch_add(1, std::memory_order_relaxed);
  total_pes_.fetch_add(1, std::memory_order_relaxed);
  if (pool_created) table_insert(pool);  // readers never see a pool without PEs being created
  return RegisterOutcome{true, pool_created, 0, 1};
}

// A PE's removal touches about ten places in unrelated memory (selector, neighbours in the
// owner list, heap, association list and index, ...). On a large handlespace each is a cache
// miss; asked for together, they overlap (the copy remove_pe builds meanwhile hides them too).
void Shard::prefetch_unlink(const Pool& pool, std::uint32_t slot, const PoolElementRecord& r) const noexcept {
  pool.selector->prefetch(slot);
  const SlotMeta& m = pool.meta(slot);
  if (m.owner_prev != kNoIndex) __builtin_prefetch(&pool.meta(m.owner_prev), 1);
  if (m.owner_next != kNoIndex) __builtin_prefetch(&pool.meta(m.owner_next), 1);
  if (m.heap_position != kNoIndex) __builtin_prefetch(&heap_[m.heap_position], 1);
  __builtin_prefetch(pool.owners.data(), 1);
  if (const std::uint64_t association = r.association(); association != 0) {
    if (slot < pool.assoc_links.size()) __builtin_prefetch(&pool.assoc_links[slot], 1);
    associations_.prefetch(association);
  }
}

RemovedPe Shard::remove_pe(Pool& pool, std::uint32_t slot) {
  const PoolElementRecord* r = pool.writer_record(slot);
  prefetch_unlink(pool, slot, *r);
  RemovedPe out{pool.handle, PoolElementView(*r, pool.policy, pool.protocol, pool.use).to_pool_element(),
                r->association(), pool.size() == 1};
  unlink_pe(pool, slot);
  return out;
}

void Shard::remove_pe(Pool& pool, std::uint32_t slot, RemovedVisitor on_removed) {
  const PoolElementRecord* r = pool.writer_record(slot);
  prefetch_unlink(pool, slot, *r);
  detach_pe(pool, slot, *r);
  // The record and the pool are still allocated: retired only below, after the visitor.
  on_removed(RemovedPeView{pool.handle, PoolElementView(*r, pool.policy, pool.protocol, pool.use),
                           r->association(), pool.size() == 0});
  retire_pe(pool, r);
}

void Shard::unlink_pe(Pool& pool, std::uint32_t slot) {
  const PoolElementRecord* r = pool.writer_record(slot);
  detach_pe(pool, slot, *r);
  retire_pe(pool, r);
}

void Shard::detach_pe(Pool& pool, std::uint32_t slot, const PoolElementRecord& r) {
  pool.selector->erase(slot);
  SlotMeta& m = pool.meta(slot);
  if (m.heap_position != kNoIndex) heap_remove(m.heap_position);
  owner_unlink(r.home(), pool, slot, r.id());
  if (r.association() != 0) assoc_unlink(r.association(), pool, slot);
  if (limits_.reject_short_id_collisions) {
    auto it = pool.short_ids.find(short_id(r.id()));
    if (it != pool.short_ids.end() && it->second == slot) pool.short_ids.erase(it);
  }
  pool.erase(slot, r.id(), domain_);
  pe_count_.fetch_sub(1, std::memory_order_relaxed);
  total_pes_.fetch_sub(1, std::memory_order_relaxed);
}

void Shard::retire_pe(Pool& pool, const PoolElementRecord* r) {
  destroy_record(r, domain_);
  if (pool.size() == 0) destroy_pool(&pool);  // ASAP-REG-02: the pool vanishes with its last PE
}

std::optional<RemovedPe> Shard::deregister(const PoolHandle& handle, std::uint64_t hash, PoolElementId id) {
  Pool* pool = writer_find(handle, hash);
  if (pool == nullptr) return std::nullopt;
  const std::uint32_t slot = pool->writer_find(id);
  if (slot == kNoIndex) return std::nullopt;
  return remove_pe(*pool, slot);
}

bool Shard::deregister(const PoolHandle& handle, std::uint64_t hash, PoolElementId id,
                       RemovedVisitor on_removed) {
  Pool* pool = writer_find(handle, hash);
  if (pool == nullptr) return false;
  const std::uint32_t slot = pool->writer_find(id);
  if (slot == kNoIndex) return false;
  remove_pe(*pool, slot, on_removed);
  return true;
}

// The SEC-02 check of deregister_from: a PE bound to another, live association stays.
static bool refused_by_owner(std::uint64_t bound, std::uint64_t association, bool bound_closing) {
  return association != 0 && bound != 0 && bound != association && !bound_closing;
}

Expected<std::optional<RemovedPe>, HandlespaceError> Shard::deregister_from(const PoolHandle& handle,
                                                                            std::uint64_t hash,
                                                                            PoolElementId id,
                                                                            std::uint64_t association) {
  Pool* pool = writer_find(handle, hash);
  if (pool == nullptr) return std::optional<RemovedPe>{};
  const std::uint32_t slot = pool->writer_find(id);
  if (slot == kNoIndex) return std::optional<RemovedPe>{};
  const std::uint64_t bound = pool->writer_record(slot)->association();
  if (refused_by_owner(bound, association, association_closing(bound)))
    return Unexpected(
        HandlespaceError{ErrorCause::kNonUniquePeIdentifier, "PE is registered over another association"});
  return std::optional<RemovedPe>{remove_pe(*pool, slot)};
}

Expected<bool, HandlespaceError> Shard::deregister_from(const PoolHandle& handle, std::uint64_t hash,
                                                        PoolElementId id, std::uint64_t association,
                                                        RemovedVisitor on_removed) {
  Pool* pool = writer_find(handle, hash);
  if (pool == nullptr) return false;
  const std::uint32_t slot = pool->writer_find(id);
  if (slot == kNoIndex) return false;
  const std::uint64_t bound = pool->writer_record(slot)->association();
  if (refused_by_owner(bound, association, association_closing(bound)))
    return Unexpected(
        HandlespaceError{ErrorCause::kNonUniquePeIdentifier, "PE is registered over another association"});
  remove_pe(*pool, slot, on_removed);
  return true;
}

bool Shard::remove(const PoolHandle& handle, std::uint64_t hash, PoolElementId id) {
  Pool* pool = writer_find(handle, hash);
  if (pool == nullptr) return false;
  const std::uint32_t slot = pool->writer_find(id);
  if (slot == kNoIndex) return false;
  prefetch_unlink(*pool, slot, *pool->writer_record(slot));
  unlink_pe(*pool, slot);
  return true;
}

// O(PEs removed): the association's list is consumed from its head. Stopping at `max` with PEs
// left marks the association closing until its last PE here is gone (assoc_unlink).
std::size_t Shard::remove_association(std::uint64_t association, RemovedVisitor on_removed, std::size_t max) {
  if (association == 0) return 0;
  std::size_t n = 0;
  while (n < max) {
    const PeRef* head = associations_.find(association);
    if (head == nullptr) return n;
    const PeRef ref = *head;
    remove_pe(*pools_[ref.pool], ref.slot, on_removed);
    ++n;
  }
  if (associations_.find(association) != nullptr) closing_.insert(association);
  return n;
}

// O(PEs of the association): its list is walked, nothing is unlinked. A PE already held stays
// held (a second call changes nothing). The closing mark lasts until its last PE here is gone.
std::size_t Shard::hold_association(std::uint64_t association, PoolPeVisitor on_held) {
  if (association == 0) return 0;
  const PeRef* head = associations_.find(association);
  if (head == nullptr) return 0;
  closing_.insert(association);
  std::size_t n = 0;
  for (PeRef ref = *head; ref.valid();) {
    Pool& pool = *pools_[ref.pool];
    const PeRef next = pool.association_link_of(ref.slot).next;
    SlotMeta& m = pool.meta(ref.slot);
    if (m.held == 0) {
      m.held = 1;
      pool.selector->erase(ref.slot);
      ++n;
      on_held(pool.handle, PoolElementView(*pool.writer_record(ref.slot), pool.policy, pool.protocol, pool.use));
    }
    ref = next;
  }
  return n;
}

bool Shard::held(const PoolHandle& handle, std::uint64_t hash, PoolElementId id) const {
  const Pool* pool = writer_find(handle, hash);
  if (pool == nullptr) return false;
  const std::uint32_t slot = pool->writer_find(id);
  return slot != kNoIndex && pool->meta(slot).held != 0;
}

std::size_t Shard::expire_due(TimeNs now, RemovedVisitor on_removed, std::size_t max) {
  std::size_t n = 0;
  while (n < max && !heap_.empty() && heap_.front().at <= now) {
    const PeRef ref = heap_.front().ref;
    const TimeNs actual = meta_of(ref).expires_at;
    if (actual > heap_.front().at) {
      // Lazily extended: re-key and let it sink (keeps removals in expiry order).
      heap_.front().at = actual;
      heap_down(0);
      continue;
    }
    remove_pe(*pools_[ref.pool], ref.slot, on_removed);
    ++n;
  }
  return n;
}

void Shard::queue_retirement(Pool& pool, std::uint32_t slot, const PoolElementRecord* old,
                             const PoolElementRecord& fresh) {
  const TimeNs at = fresh.earliest_retirement();
  if (at == 0) return;
  SlotMeta& m = pool.meta(slot);
  // Queued already for no later than the old record's earliest, which is <= this one: enough.
  if (m.retirement_queued != 0 && old != nullptr) {
    const TimeNs before = old->earliest_retirement();
    if (before != 0 && before <= at) return;
  }
  retirements_.push({at, pool.handle, fresh.id()});
  m.retirement_queued = 1;
}

std::size_t Shard::retire_due(TimeNs now, std::size_t max) {
  std::size_t n = 0;
  while (n < max && !retirements_.empty() && retirements_.top().at <= now) {
    const Retirement due = retirements_.top();
    retirements_.pop();
    Pool* pool = writer_find(due.handle, due.handle.hash());
    if (pool == nullptr) continue;
    const std::uint32_t slot = pool->writer_find(due.id);
    if (slot == kNoIndex) continue;
    pool->meta(slot).retirement_queued = 0;
    const PoolElementRecord* old = pool->writer_record(slot);
    const TimeNs earliest = old->earliest_retirement();
    if (earliest != 0 && earliest <= now) {
      PoolElement pe = PoolElementView(*old, pool->policy, pool->protocol, pool->use).to_pool_element();
      erase_user_addresses_if(pe, [now](const IpAddress&, const AddressTypeEntry& e) {
        return e.retiring && e.retire_at <= now;
      });
      // Same association, sequence, expiry, owner, hold and marks: only the address list changes.
      const PoolElementRecord* fresh = PoolElementRecord::create(pe, old->association(), old->registration_seq());
      pool->replace(slot, fresh);
      destroy_record(old, domain_);
      old = fresh;
      ++n;
    }
    queue_retirement(*pool, slot, nullptr, *old);
  }
  return n;
}

std::optional<TimeNs> Shard::next_retirement() const {
  if (retirements_.empty()) return std::nullopt;
  return retirements_.top().at;
}

std::optional<TimeNs> Shard::next_expiry() const {
  if (heap_.empty()) return std::nullopt;
  return heap_.front().at;
}

bool Shard::set_expiry(const PoolHandle& handle, std::uint64_t hash, PoolElementId id, TimeNs at) {
  Pool* pool = writer_find(handle, hash);
  if (pool == nullptr) return false;
  const std::uint32_t slot = pool->writer_find(id);
  if (slot == kNoIndex) return false;
  set_expiry(*pool, slot, at);
  return true;
}

std::size_t Shard::change_owner(RegistrarId from, RegistrarId to, bool clear_expiry) {
  auto it = owners_.find(from);
  if (it == owners_.end()) return 0;
  std::vector<PeRef> refs;
  refs.reserve(it->second.count);
  walk_owner(it->second, from, [&](Pool& pool, std::uint32_t slot) { refs.push_back(PeRef{pool.index, slot}); });
  for (const PeRef& ref : refs) {
    Pool& pool = *pools_[ref.pool];
    if (from != to) {
      const PoolElementRecord* old = pool.writer_record(ref.slot);
      pool.replace(ref.slot, PoolElementRecord::clone_with_home(*old, to));
      owner_unlink(from, pool, ref.slot, old->id());
      owner_link(to, pool, ref.slot, old->id());
      destroy_record(old, domain_);
    }
    if (clear_expiry) set_expiry(pool, ref.slot, 0);
  }
  return refs.size();
}

std::size_t Shard::pe_count_of_owner(RegistrarId owner) const {
  auto it = owners_.find(owner);
  return it == owners_.end() ? 0 : it->second.count;
}

void Shard::for_each_of_owner(RegistrarId owner, PoolPeVisitor visit) const {
  auto it = owners_.find(owner);
  if (it == owners_.end()) return;
  walk_owner(it->second, owner, [&](const Pool& pool, std::uint32_t slot) {
    visit(pool.handle, PoolElementView(*pool.writer_record(slot), pool.policy, pool.protocol, pool.use));
  });
}

std::size_t Shard::mark_owned_by(RegistrarId owner) {
  auto it = owners_.find(owner);
  if (it == owners_.end()) return 0;
  std::size_t n = 0;
  walk_owner(it->second, owner, [&](Pool& pool, std::uint32_t slot) {
    pool.meta(slot).marked = 1;
    ++n;
  });
  return n;
}

std::size_t Shard::purge_marked(RegistrarId owner, RemovedVisitor on_removed) {
  auto it = owners_.find(owner);
  if (it == owners_.end()) return 0;
  std::vector<PeRef> refs;
  walk_owner(it->second, owner, [&](Pool& pool, std::uint32_t slot) {
    if (pool.meta(slot).marked) refs.push_back(PeRef{pool.index, slot});
  });
  for (const PeRef& ref : refs) remove_pe(*pools_[ref.pool], ref.slot, on_removed);
  return refs.size();
}

std::optional<std::uint32_t> Shard::report_unreachable(const PoolHandle& handle, std::uint64_t hash,
                                                       PoolElementId id) {
  Pool* pool = writer_find(handle, hash);
  if (pool == nullptr) return std::nullopt;
  const std::uint32_t slot = pool->writer_find(id);
  if (slot == kNoIndex) return std::nullopt;
  SlotMeta& m = pool->meta(slot);
  if (m.unreachable_reports < UINT16_MAX) ++m.unreachable_reports;
  return m.unreachable_reports;
}

void Shard::reset_unreachable(const PoolHandle& handle, std::uint64_t hash, PoolElementId id) {
  Pool* pool = writer_find(handle, hash);
  if (pool == nullptr) return;
  const std::uint32_t slot = pool->writer_find(id);
  if (slot != kNoIndex) pool->meta(slot).unreachable_reports = 0;
}

ChecksumAccumulator Shard::accumulator(RegistrarId owner) const {
  auto it = owners_.find(owner);
  return it == owners_.end() ? ChecksumAccumulator{} : it->second.acc;
}

std::size_t Shard::drain_feedback() {
  std::size_t n = 0;
  SelectionFeedback item;
  // Bounded: at most one queue's worth per call, so readers cannot keep the writer here.
  for (std::size_t budget = feedback_.capacity(); budget > 0 && feedback_.try_pop(item); --budget) {
    if (item.pool_index >= pools_.size()) continue;
    Pool* pool = pools_[item.pool_index];
    if (pool == nullptr || pool->generation != item.pool_generation) continue;
    if (pool->record(item.slot) == nullptr) continue;
    pool->selector->on_selected(item.slot);
    ++n;
  }
  return n;
}

}  // namespace poolreg::handlespace
