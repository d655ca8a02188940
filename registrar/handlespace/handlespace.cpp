#include "registrar/handlespace/handlespace.hpp"

#include <algorithm>
#include <stdexcept>

#include "registrar/handlespace/shard.hpp"
#include "registrar/policy/selector.hpp"

namespace poolreg::handlespace {

static_assert(kMaxResolveItems == policy::kMaxSelectItems);

ReaderContext::ReaderContext(QsbrDomain& domain, std::uint64_t seed)
    : reader_(domain), selector_context_(std::make_unique<policy::SelectorContext>(seed)) {}

ReaderContext::~ReaderContext() = default;

Handlespace::Handlespace(const HandlespaceConfig& config, QsbrDomain& domain) : domain_(domain), config_(config) {
  if (config_.shard_count == 0 || config_.shard_count > 64)
    throw std::invalid_argument("Handlespace: shard_count must be 1..64");
  shards_.reserve(config_.shard_count);
  for (std::size_t i = 0; i < config_.shard_count; ++i)
    shards_.push_back(std::make_unique<Shard>(domain_, config_.limits, pool_count_, total_pe_count_,
                                              config_.feedback_queue_capacity));
}

Handlespace::~Handlespace() = default;

std::size_t Handlespace::shard_count() const noexcept { return shards_.size(); }
std::size_t Handlespace::shard_of(const PoolHandle& handle) const noexcept { return handle.hash() % shards_.size(); }
const HandlespaceLimits& Handlespace::limits() const noexcept { return config_.limits; }
// The shards hold a reference to config_.limits: assigning in place reaches all of them.
void Handlespace::set_limits(const HandlespaceLimits& limits) noexcept { config_.limits = limits; }

// ---------------------------------------------------------------- writer side

Expected<RegisterOutcome, HandlespaceError> Handlespace::register_pe(const PoolHandle& handle,
                                                                     const PoolElement& pe,
                                                                     const RegistrationOptions& options) {
  const std::uint64_t h = handle.hash();
  return shards_[h % shards_.size()]->register_pe(handle, h, pe, options);
}

std::optional<RemovedPe> Handlespace::deregister(const PoolHandle& handle, PoolElementId id) {
  const std::uint64_t h = handle.hash();
  return shards_[h % shards_.size()]->deregister(handle, h, id);
}

bool Handlespace::deregister(const PoolHandle& handle, PoolElementId id, RemovedVisitor on_removed) {
  const std::uint64_t h = handle.hash();
  return shards_[h % shards_.size()]->deregister(handle, h, id, on_removed);
}

Expected<bool, HandlespaceError> Handlespace::deregister_from(const PoolHandle& handle, PoolElementId id,
                                                              std::uint64_t association,
                                                              RemovedVisitor on_removed) {
  const std::uint64_t h = handle.hash();
  return shards_[h % shards_.size()]->deregister_from(handle, h, id, association, on_removed);
}

bool Handlespace::remove(const PoolHandle& handle, PoolElementId id) {
  const std::uint64_t h = handle.hash();
  return shards_[h % shards_.size()]->remove(handle, h, id);
}

Expected<std::optional<RemovedPe>, HandlespaceError> Handlespace::deregister_from(const PoolHandle& handle,
                                                                                  PoolElementId id,
                                                                                  std::uint64_t association) {
  const std::uint64_t h = handle.hash();
  return shards_[h % shards_.size()]->deregister_from(handle, h, id, association);
}

std::size_t Handlespace::remove_association(std::uint64_t association, RemovedVisitor on_removed, std::size_t max) {
  std::size_t n = 0;
  // Every shard is visited, also with no budget left: it marks its remaining PEs closing.
  for (auto& s : shards_) n += s->remove_association(association, on_removed, max - n);
  return n;
}
std::size_t Handlespace::remove_association(std::size_t shard, std::uint64_t association, RemovedVisitor on_removed,
                                            std::size_t max) {
  return shards_[shard]->remove_association(association, on_removed, max);
}

std::size_t Handlespace::hold_association(std::uint64_t association, PoolPeVisitor on_held) {
  std::size_t n = 0;
  for (auto& s : shards_) n += s->hold_association(association, on_held);
  return n;
}

bool Handlespace::held(const PoolHandle& handle, PoolElementId id) const {
  const std::uint64_t h = handle.hash();
  return shards_[h % shards_.size()]->held(handle, h, id);
}

std::size_t Handlespace::expire_due(TimeNs now, RemovedVisitor on_removed, std::size_t max) {
  std::size_t n = 0;
  for (auto& s : shards_) n += s->expire_due(now, on_removed, max - n);
  return n;
}
std::size_t Handlespace::expire_due(std::size_t shard, TimeNs now, RemovedVisitor on_removed, std::size_t max) {
  return shards_[shard]->expire_due(now, on_removed, max);
}

std::optional<TimeNs> Handlespace::next_expiry() const {
  std::optional<TimeNs> best;
  for (auto& s : shards_) {
    auto t = s->next_expiry();
    if (t && (!best || *t < *best)) best = t;
  }
  return best;
}
std::optional<TimeNs> Handlespace::next_expiry(std::size_t shard) const { return shards_[shard]->next_expiry(); }

std::size_t Handlespace::retire_due(TimeNs now, std::size_t max) {
  std::size_t n = 0;
  for (auto& s : shards_) n += s->retire_due(now, max - n);
  return n;
}

std::optional<TimeNs> Handlespace::next_retirement() const {
  std::optional<TimeNs> best;
  for (auto& s : shards_) {
    auto t = s->next_retirement();
    if (t && (!best || *t < *best)) best = t;
  }
  return best;
}

bool Handlespace::set_expiry(const PoolHandle& handle, PoolElementId id, TimeNs expires_at) {
  const std::uint64_t h = handle.hash();
  return shards_[h % shards_.size()]->set_expiry(handle, h, id, expires_at);
}

std::size_t Handlespace::change_owner(RegistrarId from, RegistrarId to, bool clear_expiry) {
  std::size_t n = 0;
  for (auto& s : shards_) n += s->change_owner(from, to, clear_expiry);
  return n;
}
std::size_t Handlespace::change_owner(std::size_t shard, RegistrarId from, RegistrarId to, bool clear_expiry) {
  return shards_[shard]->change_owner(from, to, clear_expiry);
}

std::size_t Handlespace::pe_count_of_owner(RegistrarId owner) const {
  std::size_t n = 0;
  for (auto& s : shards_) n += s->pe_count_of_owner(owner);
  return n;
}

void Handlespace::for_each_of_owner(RegistrarId owner, PoolPeVisitor visit) const {
  for (auto& s : shards_) s->for_each_of_owner(owner, visit);
}
void Handlespace::for_each_of_owner(std::size_t shard, RegistrarId owner, PoolPeVisitor visit) const {
  shards_[shard]->for_each_of_owner(owner, visit);
}

std::size_t Handlespace::mark_owned_by(RegistrarId owner) {
  std::size_t n = 0;
  for (auto& s : shards_) n += s->mark_owned_by(owner);
  return n;
}

std::size_t Handlespace::purge_marked(RegistrarId owner, RemovedVisitor on_removed) {
  std::size_t n = 0;
  for (auto& s : shards_) n += s->purge_marked(owner, on_removed);
  return n;
}

std::optional<std::uint32_t> Handlespace::report_unreachable(const PoolHandle& handle, PoolElementId id) {
  const std::uint64_t h = handle.hash();
  return shards_[h % shards_.size()]->report_unreachable(handle, h, id);
}

void Handlespace::reset_unreachable(const PoolHandle& handle, PoolElementId id) {
  const std::uint64_t h = handle.hash();
  shards_[h % shards_.size()]->reset_unreachable(handle, h, id);
}

void Handlespace::for_each_pe(std::size_t shard, PoolPeVisitor visit) const {
  shards_[shard]->for_each_pool([&](const Pool& pool) {
    for (std::uint32_t s = 0; s < pool.slot_high_water(); ++s) {
      if (const PoolElementRecord* r = pool.record(s))
        visit(pool.handle, PoolElementView(*r, pool.policy, pool.protocol, pool.use));
    }
  });
}

void Handlespace::for_each_owner_accumulator(
    std::size_t shard, FunctionRef<void(RegistrarId, const ChecksumAccumulator&, std::size_t)> visit) const {
  shards_[shard]->for_each_owner([&](RegistrarId owner, const ChecksumAccumulator& acc, std::size_t count) {
    visit(owner, acc, count);
  });
}

bool Handlespace::for_each_in_pool(const PoolHandle& handle, PeVisitor visit) const {
  const std::uint64_t h = handle.hash();
  const Pool* pool = shards_[h % shards_.size()]->find_pool(handle, h);
  if (pool == nullptr) return false;
  for (std::uint32_t s = 0; s < pool->slot_high_water(); ++s) {
    if (const PoolElementRecord* r = pool->record(s)) visit(PoolElementView(*r, pool->policy, pool->protocol, pool->use));
  }
  return true;
}

SnapshotResult Handlespace::snapshot(const SnapshotCursor& cursor, std::optional<RegistrarId> owner,
                                     std::size_t max_pes, PoolPeVisitor visit) const {
  if (max_pes == 0) max_pes = SIZE_MAX;
  SnapshotResult result;
  bool have = cursor.started;
  PoolHandle current = cursor.handle;
  std::uint32_t slot = cursor.next_slot;
  bool after_current = false;  // true once `current` is exhausted
  for (;;) {
    // Smallest pool handle >= current (or > current) over all shards.
    const Pool* best = nullptr;
    for (auto& s : shards_) {
      const Pool* p = s->pool_at_or_after(have ? &current : nullptr, after_current);
      if (p != nullptr && (best == nullptr || p->handle < best->handle)) best = p;
    }
    if (best == nullptr) {
      result.more = false;
      result.next = SnapshotCursor{true, have ? current : PoolHandle{}, UINT32_MAX};
      return result;
    }
    std::uint32_t s = (have && !after_current && best->handle == current) ? slot : 0;
    for (; s < best->slot_high_water(); ++s) {
      const PoolElementRecord* r = best->record(s);
      if (r == nullptr || (owner && r->home() != *owner)) continue;
      if (result.delivered == max_pes) {
        result.more = true;
        result.next = SnapshotCursor{true, best->handle, s};
        return result;
      }
      visit(best->handle, PoolElementView(*r, best->policy, best->protocol, best->use));
      ++result.delivered;
    }
    have = true;
    current = best->handle;
    after_current = true;
  }
}

std::uint16_t Handlespace::checksum16(RegistrarId owner) const { return checksum_accumulator(owner).checksum16(); }
std::uint32_t Handlespace::checksum32(RegistrarId owner) const { return checksum_accumulator(owner).checksum32(); }

ChecksumAccumulator Handlespace::checksum_accumulator(RegistrarId owner) const {
  ChecksumAccumulator acc;
  for (auto& s : shards_) acc.add(s->accumulator(owner));
  return acc;
}
ChecksumAccumulator Handlespace::checksum_accumulator(std::size_t shard, RegistrarId owner) const {
  return shards_[shard]->accumulator(owner);
}

std::size_t Handlespace::drain_feedback(std::size_t shard) { return shards_[shard]->drain_feedback(); }
std::size_t Handlespace::drain_feedback() {
  std::size_t n = 0;
  for (auto& s : shards_) n += s->drain_feedback();
  return n;
}

// ---------------------------------------------------------------- reader side

ResolveStatus Handlespace::resolve(const PoolHandle& handle, std::size_t k, ReaderContext& context,
                                   PeVisitor visit) const {
  const std::uint64_t h = handle.hash();
  const Shard& shard = *shards_[h % shards_.size()];
  const Pool* pool = shard.find_pool(handle, h);
  if (pool == nullptr) return ResolveStatus::kUnknownPool;
  k = std::min(k, kMaxResolveItems);
  if (k == 0) return ResolveStatus::kOk;
  policy::Slot* out = context.scratch_.data();
  const std::size_t n = pool->selector->select(k, *context.selector_context_, out);
  // Slot records are loaded after select(): a slot the selector returns was published first.
  for (std::size_t i = 0; i < n; ++i) {
    if (const PoolElementRecord* r = pool->record(out[i]))
      visit(PoolElementView(*r, pool->policy, pool->protocol, pool->use));
  }
  if (n > 0 && pool->needs_selection_feedback) shard.push_feedback(*pool, out[0]);
  return ResolveStatus::kOk;
}

bool Handlespace::lookup(const PoolHandle& handle, PoolElementId id, PeVisitor visit) const {
  const std::uint64_t h = handle.hash();
  const Pool* pool = shards_[h % shards_.size()]->find_pool(handle, h);
  if (pool == nullptr) return false;
  const PoolElementRecord* r = pool->find_record(id);
  if (r == nullptr) return false;
  visit(PoolElementView(*r, pool->policy, pool->protocol, pool->use));
  return true;
}

namespace {
PoolSummary summary_of(const Pool& p) {
  return PoolSummary{&p.handle, p.policy, p.protocol, p.use, p.size()};
}
}  // namespace

void Handlespace::for_each_pool(FunctionRef<void(const PoolSummary&)> visit) const {
  for (auto& s : shards_) s->for_each_pool([&](const Pool& p) { visit(summary_of(p)); });
}

std::optional<PoolSummary> Handlespace::pool_summary(const PoolHandle& handle) const {
  const std::uint64_t h = handle.hash();
  const Pool* pool = shards_[h % shards_.size()]->find_pool(handle, h);
  if (pool == nullptr) return std::nullopt;
  PoolSummary s = summary_of(*pool);
  s.handle = nullptr;
  return s;
}

HandlespaceCounters Handlespace::counters() const noexcept {
  HandlespaceCounters c;
  for (auto& s : shards_) {
    c.pools += s->pool_count();
    c.pes += s->pe_count();
    c.feedback_dropped += s->feedback_dropped();
  }
  return c;
}

}  // namespace poolreg::handlespace
