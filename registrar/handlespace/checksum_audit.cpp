#include "registrar/handlespace/checksum_audit.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>

namespace poolreg::handlespace {
namespace {

struct ShardTallies {
  OwnerTallies kept;
  OwnerTallies counted;
  std::size_t pes = 0;
};

ShardTallies tally_shard(const Handlespace& hs, std::size_t shard) {
  ShardTallies t;
  hs.for_each_owner_accumulator(shard, [&](RegistrarId owner, const ChecksumAccumulator& acc, std::size_t pes) {
    OwnerTally& k = t.kept[owner];
    k.acc.add(acc);
    k.pes += pes;
  });
  hs.for_each_pe(shard, [&](const PoolHandle& handle, const PoolElementView& pe) {
    OwnerTally& c = t.counted[pe.home()];
    c.acc.add(checksum16_contribution(handle.bytes(), pe.id()), checksum32_contribution(handle.bytes(), pe.id()));
    ++c.pes;
    ++t.pes;
  });
  return t;
}

void merge_into(OwnerTallies& into, const OwnerTallies& from) {
  for (const auto& [owner, tally] : from) {
    OwnerTally& t = into[owner];
    t.acc.add(tally.acc);
    t.pes += tally.pes;
  }
}

}  // namespace

std::vector<OwnerMismatch> compare_tallies(const OwnerTallies& kept, const OwnerTallies& counted) {
  std::vector<OwnerMismatch> out;
  auto check = [&](RegistrarId owner) {
    const auto k = kept.find(owner);
    const auto c = counted.find(owner);
    const OwnerTally kt = k != kept.end() ? k->second : OwnerTally{};
    const OwnerTally ct = c != counted.end() ? c->second : OwnerTally{};
    if (kt.pes != ct.pes || !(kt.acc == ct.acc)) out.push_back({owner, kt, ct});
  };
  for (const auto& [owner, tally] : kept) check(owner);
  for (const auto& [owner, tally] : counted)
    if (kept.count(owner) == 0) check(owner);
  std::sort(out.begin(), out.end(), [](const OwnerMismatch& a, const OwnerMismatch& b) { return a.owner < b.owner; });
  return out;
}

ChecksumAuditReport audit_checksums(const Handlespace& hs, AuditExecution execution) {
  const std::size_t n = hs.shard_count();
  std::vector<ShardTallies> per_shard(n);
  if (execution == AuditExecution::kParallel) {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n), [&](const tbb::blocked_range<std::size_t>& r) {
      for (std::size_t s = r.begin(); s != r.end(); ++s) per_shard[s] = tally_shard(hs, s);
    });
  } else {
    for (std::size_t s = 0; s < n; ++s) per_shard[s] = tally_shard(hs, s);
  }
  OwnerTallies kept, counted;
  ChecksumAuditReport report;
  report.shards = n;
  for (const ShardTallies& t : per_shard) {
    merge_into(kept, t.kept);
    merge_into(counted, t.counted);
    report.pes_walked += t.pes;
  }
  OwnerTallies all = kept;
  merge_into(all, counted);
  report.owners = all.size();
  report.mismatches = compare_tallies(kept, counted);
  return report;
}

}  // namespace poolreg::handlespace
