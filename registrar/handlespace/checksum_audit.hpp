// Checksum self-audit (`poolctl audit --verify`): recomputes every home registrar's Internet-16
// and Internet-32 accumulators and PE count from the PEs themselves (pool tables and handle
// bytes, not the owner indexes and cached handle parts the incremental accumulators follow) and
// compares them with what the handlespace keeps incrementally and announces in ENRP Presence.
// A mismatch means the incremental bookkeeping is wrong: ENRP audits would then sync forever.
//
// Threads: the caller is the writer of every shard and waits for the result (no write runs
// meanwhile). Shards are independent, so kParallel audits them on oneTBB's worker threads
// (tbb::parallel_for over shards); each worker only reads its shard and fills its own tally.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "registrar/common/ids.hpp"
#include "registrar/handlespace/handlespace.hpp"
#include "registrar/handlespace/pe_checksum.hpp"

namespace poolreg::handlespace {

struct OwnerTally {
  ChecksumAccumulator acc;
  std::size_t pes = 0;
};
using OwnerTallies = std::unordered_map<RegistrarId, OwnerTally>;

// One home registrar whose kept and recomputed views differ.
struct OwnerMismatch {
  RegistrarId owner = 0;
  OwnerTally kept;      // incremental (what Presence announces)
  OwnerTally counted;   // recomputed from the PEs
};

struct ChecksumAuditReport {
  std::size_t shards = 0;
  std::size_t pes_walked = 0;
  std::size_t owners = 0;  // home registrars seen in either view
  std::vector<OwnerMismatch> mismatches;  // sorted by owner
  bool ok() const noexcept { return mismatches.empty(); }
};

enum class AuditExecution : std::uint8_t { kSequential, kParallel };

ChecksumAuditReport audit_checksums(const Handlespace& hs, AuditExecution execution);

// The comparison alone (pure; audit_checksums uses it): owners whose tallies differ, in either
// direction (an owner missing from one view counts as zero PEs there).
std::vector<OwnerMismatch> compare_tallies(const OwnerTallies& kept, const OwnerTallies& counted);

}  // namespace poolreg::handlespace
