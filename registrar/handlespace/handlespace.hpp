// Handlespace: the registrar's lock-free sharded store of pools and pool elements.
//
// Concurrency contract
// - Pools are sharded by PoolHandle::hash() % shard_count. Every WRITER-SIDE call touching a
//   shard must be made by that shard's single writer: the caller guarantees that at most one
//   thread at a time runs writer calls on a given shard (the daemon gives each shard an owner
//   thread; tests and tools with one thread are trivially fine). Calls that span all shards
//   (the ones without a shard argument below: remove_association, expire_due, change_owner,
//   for_each_of_owner, mark/purge, snapshot, checksum16/32) require the caller to be the
//   writer of EVERY shard; most also have a per-shard variant (`shard` argument) for a
//   map-reduce over shard owners. max_pools is checked against an atomic count shared by all
//   shards (concurrent shard writers may overshoot it by at most shard_count - 1).
// - READER-SIDE calls (resolve, lookup, for_each_pool, counters) may run on any thread at any
//   time, concurrently with the writers, without locks: the caller must be an ONLINE QSBR
//   reader of the domain the handlespace was built with (ReaderContext holds the reader slot)
//   and must report quiescent states regularly (ReaderContext::quiescent()).
// - Readers see every PE either completely before or completely after a change (records are
//   immutable and replaced by pointer swap; see pool_element_record.hpp).
// - Memory unlinked by writers is retired to the QsbrDomain; writers should call
//   QsbrDomain::reclaim() periodically (retire() also does it every few hundred objects).
// - Callbacks given to writer-side calls must not call writer-side functions themselves.
//
// Layout (internal: shard.hpp, pool.hpp)
// - Shard: open-addressing pool table (readers) replaced by a rebuilt copy on growth; writer-
//   only indexes: pools by handle order (snapshots), per-owner pool lists with the checksum
//   accumulators, a binary min-heap of expiry times in chunked storage (lazily re-keyed),
//   association -> its PEs (a flat table of list heads, association_index.hpp; the lists run
//   through the pools' AssocLink arrays, O(1) link/unlink), and the selection-feedback queue.
// - Pool: slot table (32-byte entries: atomic record pointer + the slot's writer-only metadata,
//   i.e. expiry, heap position, per-pool owner list links with 32-bit slot numbers; RCU-grown),
//   ID index (open addressing, 8-bit fingerprint + 24-bit slot, tombstones, RCU-rebuilt), the
//   policy::Selector over slots. Freed slots are reused only after a QSBR grace period.
// - Records are immutable and compact (pool_element_record.hpp): 32-byte header, then only the
//   association / policy values a PE actually has, then packed addresses.
// - Checksum contributions are not stored per PE: the pool caches its handle's part and the PE
//   ID's part is recomputed in O(1) (pe_checksum.hpp).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "registrar/common/clock.hpp"
#include "registrar/common/error_cause.hpp"
#include "registrar/common/expected.hpp"
#include "registrar/common/ids.hpp"
#include "registrar/common/policy.hpp"
#include "registrar/common/pool_element.hpp"
#include "registrar/common/pool_handle.hpp"
#include "registrar/common/transport.hpp"
#include "registrar/common/function_ref.hpp"
#include "registrar/handlespace/pe_checksum.hpp"
#include "registrar/handlespace/pool_element_record.hpp"
#include "registrar/handlespace/qsbr.hpp"

namespace poolreg::policy {
class SelectorContext;
}

namespace poolreg::handlespace {

class Shard;

// Hard cap of PEs one resolution returns (RSPLIB's 128); larger k is clamped.
inline constexpr std::size_t kMaxResolveItems = 128;

struct HandlespaceLimits {
  std::size_t max_pools = 100'000;
  std::size_t max_pes_per_pool = 10'000'000;  // hard ceiling: 2^24 - 2 slots per pool
  // PEs in the whole handlespace, every owner; checked like max_pools against a count shared
  // by all shards (concurrent shard writers may overshoot it by at most shard_count - 1).
  std::size_t max_pes_total = std::numeric_limits<std::size_t>::max();
  std::size_t max_addresses_per_pe = kMaxAddressesPerTransport;  // per transport (user, ASAP)
  // Next-gen ID64 mode: refuse (0x4) a PE whose low 32 bits equal those of a different PE
  // of the same pool (the RFC short form would be ambiguous).
  bool reject_short_id_collisions = false;
};

struct HandlespaceConfig {
  std::size_t shard_count = 1;  // 1..64
  HandlespaceLimits limits;
  // Per shard selection-feedback queue (readers -> shard writer), rounded up to a power of 2.
  std::size_t feedback_queue_capacity = 4096;
};

// A refused writer operation: the RFC 5354 cause to send plus an operator-readable reason
// (static string, never freed). Fallible writer calls return Expected<T, HandlespaceError>
// (registrar/common/expected.hpp); a default-constructed Expected<RegisterOutcome, ...> holds a
// default value, which is what register_batch's output arrays start from.
struct HandlespaceError {
  ErrorCause cause = ErrorCause::kUnspecified;
  const char* reason = "";
};

struct RegistrationOptions {
  // Identity of the ASAP association the registration came over; 0 = learned from a peer
  // (ENRP) or unknown. A PE bound to a non-zero association can be re-registered only with
  // association 0 or the same one (SEC-02).
  std::uint64_t association = 0;
  // The association a PE bound elsewhere may be moved off (AsapServer's rebind after a failed
  // liveness probe, issue 14 item 2): a PE bound to it passes the SEC-02 check. 0 = none.
  std::uint64_t rebind_from = 0;
  // Absolute expiry time (peer-owned PEs: now + registration life); 0 = never (own PEs).
  TimeNs expires_at = 0;
};

// One registration of a batch (Handlespace::register_batch). The handle and the PE are
// referenced, not copied: they must stay valid during the call.
struct RegistrationRequest {
  const PoolHandle* handle = nullptr;
  const PoolElement* pe = nullptr;
  RegistrationOptions options;
};

struct RegisterOutcome {
  bool pe_created = false;    // false: re-registration of an existing PE
  bool pool_created = false;
  RegistrarId previous_home = 0;  // home before a re-registration (0 when created)
  std::uint32_t registration_seq = 0;  // 1 on creation, +1 per re-registration
};

// A PE removed from the handlespace, with everything needed for an ENRP Handle Update DEL.
struct RemovedPe {
  PoolHandle handle;
  PoolElement pe;
  std::uint64_t association = 0;
  bool pool_removed = false;  // it was the pool's last PE: the pool is gone with it
};

// What a removal's visitor sees of the removed PE, valid only during the call. The visitor runs
// once the PE is out of every index (lookups, counts, expiry and checksums read as after the
// removal; a pool it emptied is still listed, with no PE, until the visitor returns) and before
// its record (and, when `pool_removed`, the pool holding `handle`) is retired to QSBR. Copy
// what must outlive the call: copy_to() into reused storage, or the implicit conversion to
// RemovedPe (a fresh copy, so visitors written for RemovedPe still work, at the old cost).
struct RemovedPeView {
  const PoolHandle& handle;
  PoolElementView pe;
  std::uint64_t association = 0;
  bool pool_removed = false;

  void copy_to(RemovedPe& out) const {
    out.handle = handle;
    pe.copy_to(out.pe);
    out.association = association;
    out.pool_removed = pool_removed;
  }
  operator RemovedPe() const {  // NOLINT(google-explicit-constructor): see above
    RemovedPe out{handle, pe.to_pool_element(), association, pool_removed};
    return out;
  }
};

enum class ResolveStatus : std::uint8_t {
  kOk,           // 0..k PEs delivered (0 only if every PE is held or its weight excludes it)
  kUnknownPool,  // answer cause 0x9
};

struct PoolSummary {
  const PoolHandle* handle = nullptr;  // valid during the callback
  PolicyType policy = PolicyType::kRoundRobin;
  TransportProtocol protocol = TransportProtocol::kSctp;
  TransportUse use = TransportUse::kDataOnly;
  std::size_t pe_count = 0;
};

struct HandlespaceCounters {
  std::size_t pools = 0;
  std::size_t pes = 0;
  std::uint64_t feedback_dropped = 0;  // selection feedback lost because a queue was full
};

// Continuation point of a handle-table walk. Order: pools by PoolHandle byte order, PEs of a
// pool by slot index. Guarantee: a sync that keeps calling snapshot() with the returned
// cursor until more == false delivers every PE that existed (with the matching owner) during
// the whole walk at least once — slots of existing PEs never move, later-added PEs may or may
// not be delivered. Re-registrations keep the slot.
struct SnapshotCursor {
  bool started = false;
  PoolHandle handle;
  std::uint32_t next_slot = 0;
};

struct SnapshotResult {
  SnapshotCursor next;
  bool more = false;      // true: call again with `next`
  std::size_t delivered = 0;
};

// Per reader thread: its QSBR reader slot, its selector state (random generator...) and a
// scratch buffer. Not shared between threads. Construction allocates (start-up only) and
// throws std::runtime_error when the QsbrDomain has no free reader slot. Starts OFFLINE.
class ReaderContext {
 public:
  ReaderContext(QsbrDomain& domain, std::uint64_t seed);
  ~ReaderContext();
  ReaderContext(const ReaderContext&) = delete;
  ReaderContext& operator=(const ReaderContext&) = delete;

  void online() noexcept { reader_.online(); }
  void offline() noexcept { reader_.offline(); }
  void quiescent() noexcept { reader_.quiescent(); }
  QsbrReader& reader() noexcept { return reader_; }

 private:
  friend class Handlespace;
  QsbrReader reader_;
  std::unique_ptr<policy::SelectorContext> selector_context_;
  std::array<std::uint32_t, kMaxResolveItems> scratch_{};
};

using PeVisitor = FunctionRef<void(const PoolElementView&)>;
using PoolPeVisitor = FunctionRef<void(const PoolHandle&, const PoolElementView&)>;
// Removals hand their visitor a view (RemovedPeView); one written for `const RemovedPe&` gets
// a copy through the view's conversion.
using RemovedVisitor = FunctionRef<void(const RemovedPeView&)>;

class Handlespace {
 public:
  // `domain` must outlive the handlespace; it is the reclaimer of all handlespace memory.
  Handlespace(const HandlespaceConfig& config, QsbrDomain& domain);
  ~Handlespace();
  Handlespace(const Handlespace&) = delete;
  Handlespace& operator=(const Handlespace&) = delete;

  std::size_t shard_count() const noexcept;
  std::size_t shard_of(const PoolHandle& handle) const noexcept;
  const HandlespaceLimits& limits() const noexcept;
  // Replaces the limits (a configuration reload). WRITER of EVERY shard only: the shards read
  // them on their writer paths; readers never do. Lowered limits refuse new pools/PEs only;
  // what is stored stays.
  void set_limits(const HandlespaceLimits& limits) noexcept;

  // ---- Writer side (the shard's writer; see file comment) ----

  // Registration and re-registration (same handle + PE ID: updated in place, keeping its
  // slot; home := pe.home_registrar; expiry := options.expires_at; policy values via the
  // selector). Refusals change nothing: kInconsistentPoolingPolicy (0x5),
  // kInconsistentTransportType (0x7), kInconsistentDataControlConfiguration (0x8),
  // kNonUniquePeIdentifier (0x4: other association owns it, or short-ID collision),
  // kLackOfResources (0x6: limits), kInvalidValues (0x3: PE ID 0, no address, port 0 is NOT
  // checked here — that is the ASAP layer's job).
  Expected<RegisterOutcome, HandlespaceError> register_pe(const PoolHandle& handle, const PoolElement& pe,
                                                          const RegistrationOptions& options = {});

  // Batched registration: the same effects, outcomes and errors as calling register_pe() for
  // requests[0], requests[1], ... in this order (outcomes[i] := the result of requests[i]),
  // also when several requests name the same PE. The caller must be the writer of every shard
  // the requests hash to. outcomes.size() must be >= requests.size() (else nothing is done).
  // Why: on a large handlespace a registration is bound by a chain of dependent cache misses
  // (pool -> ID index -> slot entry -> old record). This path hashes each handle once and
  // prefetches those lines for the requests a few positions ahead while it applies the
  // current one (a software pipeline, see register_batch.cpp), so the misses of different
  // requests overlap. The prefetching is only a hint: each request is then applied by the
  // ordinary single-request code, which is what makes the batch equal to the sequence.
  void register_batch(std::span<const RegistrationRequest> requests,
                      std::span<Expected<RegisterOutcome, HandlespaceError>> outcomes);

  // Removes the PE; nullopt when unknown. The pool disappears with its last PE.
  std::optional<RemovedPe> deregister(const PoolHandle& handle, PoolElementId id);
  // The same without the copy: `on_removed` sees the removed PE (RemovedPeView: after the
  // removal, before the record is retired); false (and no call) when unknown.
  bool deregister(const PoolHandle& handle, PoolElementId id, RemovedVisitor on_removed);
  // deregister() for a caller that needs no copy of the removed PE (no allocation for the
  // RemovedPe and its address vectors); false when unknown.
  bool remove(const PoolHandle& handle, PoolElementId id);
  // ASAP deregistration with the SEC-02 owner check: a PE bound to a different non-zero
  // association is refused with kNonUniquePeIdentifier (0x4) and stays; association 0 skips the
  // check. Value: the removed PE, or nullopt when unknown.
  Expected<std::optional<RemovedPe>, HandlespaceError> deregister_from(const PoolHandle& handle,
                                                                       PoolElementId id,
                                                                       std::uint64_t association);
  // The same with a visitor instead of the copy (as deregister(handle, id, on_removed)); value:
  // whether a PE was removed. A refusal or an unknown PE calls nothing.
  Expected<bool, HandlespaceError> deregister_from(const PoolHandle& handle, PoolElementId id,
                                                   std::uint64_t association, RemovedVisitor on_removed);

  // ASAP-KA-04: removes the PEs registered over `association` (!= 0), at most `max` of them
  // (all shards together), O(PEs removed); returns the count. A return value < max means none
  // is left. When PEs are left, the association is marked closing until its last PE is gone:
  // a registration over another association may then take its PEs over (no 0x4 refusal, as if
  // they had been removed already), and deregister_from() skips the owner check for them. The
  // PEs left stay in the handlespace (and in resolutions) until a later call removes them.
  // The caller must not register new PEs over a closing association (its connection is gone).
  std::size_t remove_association(std::uint64_t association, RemovedVisitor on_removed,
                                 std::size_t max = SIZE_MAX);
  std::size_t remove_association(std::size_t shard, std::uint64_t association, RemovedVisitor on_removed,
                                 std::size_t max = SIZE_MAX);

  // Handover hold (AsapServer, issue 14 item 3): marks every PE registered over `association`
  // (!= 0) held and the association closing, in every shard; calls on_held for each PE newly
  // held. A held PE is taken out of its pool's selector, so no policy returns it in resolve();
  // it stays in the pool (pe_count, lookup, snapshots, for_each_*), keeps its home, expiry and
  // association, and keeps counting in its owner's checksums (it is still registered). Any
  // register_pe of the PE ends its hold (it is offered again, with the new values; a
  // registration over another association is not refused with 0x4 while the old one is
  // closing); removing it ends it too. remove_association() later removes the PEs still bound
  // to the association. O(PEs of the association).
  std::size_t hold_association(std::uint64_t association, PoolPeVisitor on_held);
  // Whether the PE is held (false when unknown). Writer side: the flag is writer-only state.
  bool held(const PoolHandle& handle, PoolElementId id) const;

  // Removes PEs whose expiry time is <= now (earliest first), at most `max` of them. Refreshing
  // an expiry (re-registration, set_expiry) is O(1) when it moves later, O(log n) otherwise.
  std::size_t expire_due(TimeNs now, RemovedVisitor on_removed, std::size_t max = SIZE_MAX);
  std::size_t expire_due(std::size_t shard, TimeNs now, RemovedVisitor on_removed, std::size_t max = SIZE_MAX);
  // Earliest time at which expire_due() may have work (a lower bound of the earliest expiry:
  // extended expiries are re-keyed lazily), nullopt when no PE has an expiry.
  std::optional<TimeNs> next_expiry() const;
  std::optional<TimeNs> next_expiry(std::size_t shard) const;
  // RFC 8653 kept graceful addresses (registrar/wire/README.md "Address types"): removes from
  // each PE the retiring user addresses whose retire time is <= now, at most `max` PEs. Only
  // the address list changes (owner, expiry, association, hold, sequence and checksums stay),
  // and nothing is sent: every registrar that holds the PE drops them at the same time.
  // next_retirement(): earliest queued time (a lower bound), nullopt when none.
  std::size_t retire_due(TimeNs now, std::size_t max = SIZE_MAX);
  std::optional<TimeNs> next_retirement() const;
  // Sets or clears (0) the expiry time of one PE; false when unknown.
  bool set_expiry(const PoolHandle& handle, PoolElementId id, TimeNs expires_at);

  // Takeover: every PE whose home is `from` gets home := `to` (checksums move along),
  // O(number of from's PEs). clear_expiry: also cancel their expiry timers (the new owner
  // monitors them with keep-alives instead). Returns the number of PEs moved.
  std::size_t change_owner(RegistrarId from, RegistrarId to, bool clear_expiry);
  std::size_t change_owner(std::size_t shard, RegistrarId from, RegistrarId to, bool clear_expiry);
  std::size_t pe_count_of_owner(RegistrarId owner) const;
  void for_each_of_owner(RegistrarId owner, PoolPeVisitor visit) const;
  void for_each_of_owner(std::size_t shard, RegistrarId owner, PoolPeVisitor visit) const;

  // Handle-table sync repair (enrp.md 4.6): mark every PE of `owner`; any later register_pe of
  // a PE clears its mark; purge_marked removes the PEs of `owner` still marked.
  std::size_t mark_owned_by(RegistrarId owner);
  std::size_t purge_marked(RegistrarId owner, RemovedVisitor on_removed);

  // Endpoint Unreachable: increments the PE's report counter, returns the new value
  // (nullopt: unknown PE). The caller removes the PE at MAX-BAD-PE-REPORT.
  std::optional<std::uint32_t> report_unreachable(const PoolHandle& handle, PoolElementId id);
  // Starts the PE's report count again from 0 (the PE answered a probe: the reports so far were
  // wrong). No-op for an unknown PE.
  void reset_unreachable(const PoolHandle& handle, PoolElementId id);

  // Writer-side iteration of one pool (false: unknown pool).
  bool for_each_in_pool(const PoolHandle& handle, PeVisitor visit) const;

  // Bounded handle-table walk (see SnapshotCursor); owner nullopt = every PE.
  SnapshotResult snapshot(const SnapshotCursor& cursor, std::optional<RegistrarId> owner,
                          std::size_t max_pes, PoolPeVisitor visit) const;

  // Audit checksums of the PEs owned by `owner` (checksum.md), incrementally maintained.
  std::uint16_t checksum16(RegistrarId owner) const;
  std::uint32_t checksum32(RegistrarId owner) const;
  ChecksumAccumulator checksum_accumulator(RegistrarId owner) const;
  ChecksumAccumulator checksum_accumulator(std::size_t shard, RegistrarId owner) const;
  // The checksum self-audit's two views of one shard (checksum_audit.hpp): every PE walked from
  // the pool tables (not from the owner indexes the accumulators follow), and the incrementally
  // kept accumulator and PE count of every owner. Writer side: the caller holds the shard's
  // writer role for the whole call (another thread may run it while the writer waits for it).
  void for_each_pe(std::size_t shard, PoolPeVisitor visit) const;
  void for_each_owner_accumulator(std::size_t shard,
                                  FunctionRef<void(RegistrarId, const ChecksumAccumulator&, std::size_t)> visit) const;

  // Applies queued selection feedback (Selector::on_selected) of the shard; returns how many.
  std::size_t drain_feedback(std::size_t shard);
  std::size_t drain_feedback();  // all shards

  // ---- Reader side (any thread, online QSBR reader, lock-free, no allocation) ----

  // Selects up to k (clamped to kMaxResolveItems) PEs with the pool's policy and calls
  // `visit` for each (distinct PEs).
  ResolveStatus resolve(const PoolHandle& handle, std::size_t k, ReaderContext& context, PeVisitor visit) const;
  // Calls visit for the PE if it exists; false when pool or PE is unknown.
  bool lookup(const PoolHandle& handle, PoolElementId id, PeVisitor visit) const;
  void for_each_pool(FunctionRef<void(const PoolSummary&)> visit) const;
  std::optional<PoolSummary> pool_summary(const PoolHandle& handle) const;  // handle ptr null
  HandlespaceCounters counters() const noexcept;

 private:
  QsbrDomain& domain_;
  HandlespaceConfig config_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<std::size_t> pool_count_{0};
  std::atomic<std::size_t> total_pe_count_{0};
};

}  // namespace poolreg::handlespace
