// The control thread's all-shard takeover job at 10^6 PEs: Handlespace's all-shard call (shards
// one after another, what poolregd runs) against the same per-shard calls spread over oneTBB workers
// with tbb::parallel_reduce (safe while the caller, writer of every shard, waits: one writer per
// shard at a time; shards share only atomics and the mutex-guarded QSBR retire list). It decides
// whether poolregd should run it on oneTBB. Results: perf/registrar/bulk_results.md.
//   ChangeOwner/shards:S/parallel:P   takeover: every PE of one home registrar gets a new home
//                                     (each record cloned, the old one retired through QSBR)
// Each iteration moves all 10^6 PEs (back and forth between two home IDs).
//   AuditChecksums/shards:S/parallel:P   poolctl audit --verify: every owner's checksums and PE
//                                     count recomputed from the PEs and compared with the kept
//                                     ones (checksum_audit.hpp; read-only, nothing retired)
// jemalloc linked, as in poolregd (records are allocated and freed on the worker threads).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>

#include "perf/registrar/bench_support.hpp"
#include "registrar/common/function_ref.hpp"
#include "registrar/handlespace/checksum_audit.hpp"
#include "registrar/handlespace/handlespace.hpp"

namespace {

using namespace poolreg;
using namespace poolreg::handlespace;

constexpr std::size_t kPes = 1'000'000;
constexpr std::size_t kPerPool = 1000;
constexpr RegistrarId kHomeA = 0x1001;
constexpr RegistrarId kHomeB = 0x1002;

PoolElement bulk_pe(PoolElementId id) {
  return bench::sctp_pe_with_asap(id, kHomeA, 0x0a000000u + static_cast<std::uint32_t>(id), 3863);
}

struct World {
  QsbrDomain domain{8};
  Handlespace hs;
  RegistrarId home = kHomeA;  // current home of every PE
  explicit World(std::size_t shards) : hs(make_config(shards), domain) {
    for (std::size_t i = 0; i < kPes; ++i)
      (void)hs.register_pe(*PoolHandle::from_string("bulk-pool-" + std::to_string(i / kPerPool)), bulk_pe(i + 1),
                           {.association = 0, .expires_at = 1'000'000'000'000ULL + i});
    domain.reclaim();
  }
  static HandlespaceConfig make_config(std::size_t shards) {
    HandlespaceConfig c;
    c.shard_count = shards;
    c.limits.max_pools = 1'000'000;
    c.limits.max_pes_per_pool = 100'000'000;
    c.limits.max_pes_total = 100'000'000;
    return c;
  }
};

// The per-shard job on every shard, shards in parallel on oneTBB workers; summed.
std::size_t over_shards_in_parallel(std::size_t shards, FunctionRef<std::size_t(std::size_t)> job) {
  return tbb::parallel_reduce(
      tbb::blocked_range<std::size_t>(0, shards, 1), std::size_t{0},
      [&](const tbb::blocked_range<std::size_t>& r, std::size_t n) {
        for (std::size_t i = r.begin(); i != r.end(); ++i) n += job(i);
        return n;
      },
      [](std::size_t a, std::size_t b) { return a + b; });
}

// One populated handlespace per shard count, shared by the serial and the parallel case.
World& world(std::size_t shards) {
  static std::map<std::size_t, std::unique_ptr<World>> cache;
  auto& w = cache[shards];
  if (!w) w = std::make_unique<World>(shards);
  return *w;
}

void ChangeOwner(benchmark::State& state) {
  World& w = world(static_cast<std::size_t>(state.range(0)));
  const bool parallel = state.range(1) != 0;
  std::size_t moved = 0;
  for (auto _ : state) {
    const RegistrarId to = w.home == kHomeA ? kHomeB : kHomeA;
    std::size_t n = 0;
    const RegistrarId from = w.home;
    if (parallel) {
      n = over_shards_in_parallel(w.hs.shard_count(),
                                  [&](std::size_t s) { return w.hs.change_owner(s, from, to, false); });
    } else {
      n = w.hs.change_owner(from, to, /*clear_expiry=*/false);
    }
    w.home = to;
    moved += n;
    state.PauseTiming();
    w.domain.reclaim();
    state.ResumeTiming();
  }
  if (moved != kPes * state.iterations()) state.SkipWithError("not every PE moved");
  state.SetItemsProcessed(static_cast<std::int64_t>(moved));
}

// Serial and parallel back to back per shard count, so both see about the same machine load.
BENCHMARK(ChangeOwner)
    ->ArgNames({"shards", "parallel"})
    ->Args({2, 0})->Args({2, 1})->Args({4, 0})->Args({4, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void AuditChecksums(benchmark::State& state) {
  World& w = world(static_cast<std::size_t>(state.range(0)));
  const AuditExecution execution = state.range(1) != 0 ? AuditExecution::kParallel : AuditExecution::kSequential;
  std::size_t walked = 0;
  for (auto _ : state) {
    const ChecksumAuditReport r = audit_checksums(w.hs, execution);
    if (!r.ok()) state.SkipWithError("checksum mismatch");
    walked += r.pes_walked;
  }
  if (walked != kPes * state.iterations()) state.SkipWithError("not every PE walked");
  state.SetItemsProcessed(static_cast<std::int64_t>(walked));
}

BENCHMARK(AuditChecksums)
    ->ArgNames({"shards", "parallel"})
    ->Args({2, 0})->Args({2, 1})->Args({4, 0})->Args({4, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
