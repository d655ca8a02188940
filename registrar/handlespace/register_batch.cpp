// Handlespace::register_batch: registrations in a software pipeline (see handlespace.hpp).
//
// Request i goes through five prefetch stages, kStageDistance requests apart, before it is
// applied; each stage reads only what the previous one prefetched, so the load it needs is
// (usually) in cache and the misses of ~kStages * kStageDistance requests are in flight at once:
//   S0 hash the handle once, pick the shard, prefetch the pool table line
//   S1 prefetch the pool object found there
//   S2 find the pool, prefetch the ID index line of the PE ID
//   S3 read that line, prefetch the slot entry of the first fingerprint match
//   S4 read the slot entry, prefetch the PE's current record
//   apply: Shard::register_pe() with the precomputed hash and the pool found in S2 (the
//          ordinary path; it looks the pool up itself when S2 found none).
// Correctness does not depend on the hints: every stage works on the tables as they are at
// that moment (it re-reads the table pointers, keeps only the hash, the pool and numbers), and
// the apply step performs the PE lookup again. A pool pointer kept between stages stays valid
// and stays the pool of its handle: registrations never remove a published pool. Earlier
// requests of the same batch may change what a later one finds (same PE twice, a new pool, a
// grown table): then a hint is stale, which costs a miss, never a wrong result.
#include <array>

#include "registrar/handlespace/handlespace.hpp"
#include "registrar/handlespace/shard.hpp"

namespace poolreg::handlespace {
namespace {

constexpr std::size_t kStageDistance = 4;
constexpr std::size_t kStages = 5;
constexpr std::size_t kLead = kStages * kStageDistance;  // requests between S0 and apply
constexpr std::size_t kRing = 32;                        // > kLead, power of 2
static_assert(kRing > kLead && (kRing & (kRing - 1)) == 0);

struct InFlight {
  std::uint64_t hash = 0;
  std::uint64_t mixed_id = 0;
  Shard* shard = nullptr;
  Pool* pool = nullptr;
  std::uint32_t slot = kNoIndex;
};

}  // namespace

void Handlespace::register_batch(std::span<const RegistrationRequest> requests,
                                 std::span<Expected<RegisterOutcome, HandlespaceError>> outcomes) {
  const std::size_t n = requests.size();
  if (outcomes.size() < n) return;
  std::array<InFlight, kRing> ring;
  // Stage k handles request step - k * kStageDistance; the apply step request step - kLead.
  for (std::size_t step = 0; step < n + kLead; ++step) {
    if (step < n) {  // S0
      const RegistrationRequest& rq = requests[step];
      InFlight& f = ring[step % kRing];
      f.hash = rq.handle->hash();
      f.shard = shards_[f.hash % shards_.size()].get();
      f.mixed_id = mix_id(rq.pe->id);
      f.pool = nullptr;
      f.slot = kNoIndex;
      f.shard->prefetch_pool_table(f.hash);
    }
    if (step >= kStageDistance && step - kStageDistance < n) {  // S1
      const InFlight& f = ring[(step - kStageDistance) % kRing];
      f.shard->prefetch_pool(f.hash);
    }
    if (step >= 2 * kStageDistance && step - 2 * kStageDistance < n) {  // S2
      const std::size_t i = step - 2 * kStageDistance;
      InFlight& f = ring[i % kRing];
      f.pool = f.shard->writer_find(*requests[i].handle, f.hash);
      if (f.pool != nullptr) f.pool->prefetch_id_probe(f.mixed_id);
    }
    if (step >= 3 * kStageDistance && step - 3 * kStageDistance < n) {  // S3
      InFlight& f = ring[(step - 3 * kStageDistance) % kRing];
      if (f.pool != nullptr) {
        f.slot = f.pool->id_candidate(f.mixed_id);
        if (f.slot != kNoIndex) f.pool->prefetch_slot(f.slot);
      }
    }
    if (step >= 4 * kStageDistance && step - 4 * kStageDistance < n) {  // S4
      const InFlight& f = ring[(step - 4 * kStageDistance) % kRing];
      if (f.pool != nullptr && f.slot != kNoIndex) f.pool->prefetch_record(f.slot);
    }
    if (step >= kLead) {  // apply
      const std::size_t i = step - kLead;
      const RegistrationRequest& rq = requests[i];
      const InFlight& f = ring[i % kRing];
      // f.pool (found in S2) is still the pool of the handle: nothing in a batch removes pools.
      outcomes[i] = f.shard->register_pe(*rq.handle, f.hash, *rq.pe, rq.options, f.pool);
    }
  }
}

}  // namespace poolreg::handlespace
