// The handlespace as poolregd uses it (Google Benchmark, jemalloc linked as in poolregd):
// every PE registered over an ASAP association (one association per PE, or 1000 PEs per
// association), owned here (no expiry: keep-alives watch them), 100 PEs per pool, and the
// records scattered by two rounds of re-registration in random order (mobile PEs) before
// anything is measured. handlespace_bench.cpp measures fresh pools without associations.
//   DaemonResolve3/<pes>/<per_assoc>      resolve k=3 in a random pool (RR)
//   DaemonReregister/<pes>/<per_assoc>    a random PE re-registers over its association
//   DaemonDeregister/<pes>/<per_assoc>    random PEs deregistered (a fresh RemovedPe copy each)
//   DaemonRemove/<pes>/<per_assoc>        the same through remove() (no copy; where it exists)
//   DaemonDeregisterView/<pes>/<per_assoc> the same through deregister(h, id, visitor) (where it
//                                         exists), the visitor copying the view into one reused
//                                         RemovedPe as AsapServer does (no allocation once warm)
//   DaemonRegisterChurn/<pes>             PEs arrive (registration of a new PE, a new association
//                                         each) in a handlespace of <pes> PEs; every 1000 arrivals
//                                         the timer pauses and they leave again (pools never vanish)
//   DaemonDeregisterChurn/<pes>           PEs leave (deregister, a fresh RemovedPe copy each) in
//                                         batches of 1000, re-registered with the timer paused
//   DaemonTeardown/<assoc_pes>            one association with that many PEs (spread over the
//                                         pools of 10^6 one-PE-association PEs) removed whole;
//                                         counter max_pass_ms: longest remove_association pass of
//                                         512 PEs (AsapConfig::teardown_batch; where bounded removal exists)
//   DaemonMemory/<pes>/<per_assoc>        RSS growth per PE after build + scatter (_10M: 10^7)
// Written against the API common to the old and the new handlespace (what exists only in the
// new one is compiled in with requires-expressions), so one source measures both in one run
// (perf/registrar/daemon_results.md).
#include <benchmark/benchmark.h>
#include <jemalloc/jemalloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "perf/registrar/bench_support.hpp"
#include "registrar/handlespace/handlespace.hpp"

namespace {

using namespace poolreg;
using namespace poolreg::handlespace;

constexpr std::size_t kPerPool = 100;
constexpr RegistrarId kOwnId = 0x0a0b0c0d;
constexpr std::size_t kTeardownPass = 512;  // AsapConfig::teardown_batch

template <typename H>
constexpr bool kHasBoundedRemoval = requires(H& h, RemovedVisitor v) {
  h.remove_association(std::uint64_t{1}, v, std::size_t{1});
};
template <typename H>
constexpr bool kHasRemove = requires(H& h, const PoolHandle& p) { h.remove(p, PoolElementId{1}); };
// Templates, so that the branch for the API the tree lacks is never instantiated.
template <typename H>
bool remove_without_copy(H& hs, const PoolHandle& h, PoolElementId id) {
  if constexpr (kHasRemove<H>) return hs.remove(h, id);
  std::abort();
}
// deregister(h, id, visitor) with a RemovedPeView that copy_to() fills reused storage from.
template <typename H>
constexpr bool kHasRemovalView = requires(H& h, const PoolHandle& p) {
  h.deregister(p, PoolElementId{1}, [](const auto&) {});
};
template <typename H>
bool deregister_into(H& hs, const PoolHandle& h, PoolElementId id, RemovedPe& out) {
  if constexpr (kHasRemovalView<H>) return hs.deregister(h, id, [&](const auto& r) { r.copy_to(out); });
  std::abort();
}
template <typename H>
std::size_t remove_association_step(H& hs, std::uint64_t association, RemovedVisitor visit, std::size_t max) {
  if constexpr (kHasBoundedRemoval<H>) return hs.remove_association(association, visit, max);
  return hs.remove_association(association, visit);  // everything at once
}

// Owned here; the ASAP transport is the association's address and port.
PoolElement daemon_pe(PoolElementId id, std::uint32_t address) {
  return bench::sctp_pe_with_asap(id, kOwnId, address, 40000);
}

struct DaemonWorld {
  QsbrDomain domain{64};
  Handlespace hs;
  std::vector<PoolHandle> handles;
  std::size_t pes;
  std::size_t per_assoc;

  DaemonWorld(std::size_t n, std::size_t per_association) : hs(config(), domain), pes(n), per_assoc(per_association) {
    const std::size_t pools = (n + kPerPool - 1) / kPerPool;
    handles.reserve(pools);
    for (std::size_t p = 0; p < pools; ++p) handles.push_back(*PoolHandle::from_string("daemon-pool-" + std::to_string(p)));
    for (std::size_t i = 0; i < n; ++i) put(i, 0x0a000000u + static_cast<std::uint32_t>(i));
    // Scatter: mobile PEs re-register with a new address in random order, twice.
    std::vector<std::uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    std::mt19937_64 rng(7);
    for (std::uint32_t round = 1; round <= 2; ++round) {
      std::shuffle(order.begin(), order.end(), rng);
      for (std::uint32_t i : order) put(i, 0x0b000000u + round * 7919u + i);
      domain.reclaim();
    }
  }
  static HandlespaceConfig config() {
    HandlespaceConfig c;
    c.limits.max_pools = 10'000'000;
    return c;
  }
  // PE i: pool i % pools (an association's PEs spread over many pools), association
  // 1 + i / per_assoc.
  const PoolHandle& pool_of(std::size_t i) const { return handles[i % handles.size()]; }
  std::uint64_t association_of(std::size_t i) const { return 1 + i / per_assoc; }
  void put(std::size_t i, std::uint32_t address) {
    if (!hs.register_pe(pool_of(i), daemon_pe(i + 1, address), {.association = association_of(i)}).has_value())
      std::abort();
  }
};

// One world per shape for the read-mostly cases (Google Benchmark calls a case several times).
std::shared_ptr<DaemonWorld> shared_world(std::size_t n, std::size_t per_assoc) {
  static std::shared_ptr<DaemonWorld> cached;
  if (!cached || cached->pes != n || cached->per_assoc != per_assoc) {
    cached.reset();
    cached = std::make_shared<DaemonWorld>(n, per_assoc);
  }
  return cached;
}

std::vector<std::uint32_t> random_indexes(std::size_t count, std::size_t bound, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint32_t> out(count);
  for (auto& x : out) x = static_cast<std::uint32_t>(rng() % bound);
  return out;
}

void DaemonResolve3(benchmark::State& state) {
  auto w = shared_world(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)));
  ReaderContext ctx(w->domain, 1);
  ctx.online();
  const auto pools = random_indexes(1 << 16, w->handles.size(), 3);
  std::uint64_t sum = 0;
  std::size_t i = 0;
  for (auto _ : state) {
    w->hs.resolve(w->handles[pools[i & 0xffff]], 3, ctx, [&](const PoolElementView& v) { sum += v.id(); });
    if ((++i & 31) == 0) ctx.quiescent();
  }
  benchmark::DoNotOptimize(sum);
  ctx.offline();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void DaemonReregister(benchmark::State& state) {
  auto w = shared_world(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)));
  const auto which = random_indexes(1 << 20, w->pes, 4);
  std::size_t i = 0;
  for (auto _ : state) {
    const std::size_t pe = which[i & ((1 << 20) - 1)];
    w->put(pe, 0x0c000000u + static_cast<std::uint32_t>(pe));
    if ((++i & 4095) == 0) w->domain.reclaim();
  }
  w->domain.reclaim();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// Removes a tenth of the PEs in random order from a fresh world.
template <typename Remove>
void run_removal(benchmark::State& state, Remove&& remove_one) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  auto w = std::make_unique<DaemonWorld>(n, static_cast<std::size_t>(state.range(1)));
  std::vector<std::uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(5));
  std::size_t i = 0;
  for (auto _ : state) {
    const std::uint32_t pe = order[i++];
    if (!remove_one(*w, w->pool_of(pe), PoolElementId{pe + 1u})) std::abort();
    if ((i & 4095) == 0) w->domain.reclaim();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void DaemonDeregister(benchmark::State& state) {
  run_removal(state, [](DaemonWorld& w, const PoolHandle& h, PoolElementId id) {
    auto r = w.hs.deregister(h, id);
    benchmark::DoNotOptimize(r);
    return r.has_value();
  });
}

void DaemonRemove(benchmark::State& state) {
  if constexpr (kHasRemove<Handlespace>) {
    run_removal(state, [](DaemonWorld& w, const PoolHandle& h, PoolElementId id) {
      return remove_without_copy(w.hs, h, id);
    });
  } else {
    state.SkipWithError("no Handlespace::remove in this tree");
  }
}

void DaemonDeregisterView(benchmark::State& state) {
  if constexpr (kHasRemovalView<Handlespace>) {
    RemovedPe storage;
    run_removal(state, [&](DaemonWorld& w, const PoolHandle& h, PoolElementId id) {
      const bool removed = deregister_into(w.hs, h, id, storage);
      benchmark::DoNotOptimize(storage);
      return removed;
    });
  } else {
    state.SkipWithError("no Handlespace::deregister with a visitor in this tree");
  }
}

// Arrivals and departures in a handlespace of n PEs (the 10^4-PE / 100-pool goal of issue 16):
// batches of kChurnBatch random PEs, the other half of each batch's work done with the timer
// paused, so the population stays between n and n + kChurnBatch (arrivals) or n - kChurnBatch
// and n (departures) and no pool vanishes or is created.
constexpr std::size_t kChurnBatch = 1000;

void DaemonRegisterChurn(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  DaemonWorld w(n, 1);
  // The arriving PEs are n .. n + kChurnBatch - 1 (absent between batches), in random order.
  std::vector<std::uint32_t> order(kChurnBatch);
  std::iota(order.begin(), order.end(), static_cast<std::uint32_t>(n));
  std::mt19937_64 rng(8);
  std::shuffle(order.begin(), order.end(), rng);
  std::size_t in_batch = 0;
  std::uint32_t round = 0;
  for (auto _ : state) {
    w.put(order[in_batch], 0x0e000000u + round * 4099u + order[in_batch]);
    if (++in_batch == kChurnBatch) {
      state.PauseTiming();
      for (std::uint32_t pe : order)
        if (!w.hs.deregister(w.pool_of(pe), PoolElementId{pe + 1u}).has_value()) std::abort();
      w.domain.reclaim();
      std::shuffle(order.begin(), order.end(), rng);
      in_batch = 0;
      ++round;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void DaemonDeregisterChurn(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  DaemonWorld w(n, 1);
  std::vector<std::uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::mt19937_64 rng(9);
  std::shuffle(order.begin(), order.end(), rng);
  std::size_t next = 0, in_batch = 0;
  for (auto _ : state) {
    const std::uint32_t pe = order[next + in_batch];
    auto r = w.hs.deregister(w.pool_of(pe), PoolElementId{pe + 1u});
    if (!r.has_value()) std::abort();
    benchmark::DoNotOptimize(r);
    if (++in_batch == kChurnBatch) {
      state.PauseTiming();
      for (std::size_t j = 0; j < kChurnBatch; ++j) w.put(order[next + j], 0x0f000000u + order[next + j]);
      w.domain.reclaim();
      next = next + 2 * kChurnBatch <= n ? next + kChurnBatch : 0;
      in_batch = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void DaemonTeardown(benchmark::State& state) {
  const std::size_t assoc_pes = static_cast<std::size_t>(state.range(0));
  constexpr std::size_t kBackground = 1'000'000;
  constexpr std::uint64_t kBig = 1ULL << 40;
  auto w = std::make_unique<DaemonWorld>(kBackground, 1);
  for (std::size_t j = 0; j < assoc_pes; ++j)
    if (!w->hs.register_pe(w->pool_of(j * 7 + 3), daemon_pe(kBackground + 1 + j, 0x0d000000u + static_cast<std::uint32_t>(j)),
                           {.association = kBig})
             .has_value())
      std::abort();
  w->domain.reclaim();
  std::size_t removed = 0;
  double max_pass_ms = 0;
  for (auto _ : state) {
    if constexpr (kHasBoundedRemoval<Handlespace>) {
      for (;;) {
        const auto t0 = std::chrono::steady_clock::now();
        const std::size_t n = remove_association_step(
            w->hs, kBig, [&](const auto& r) { benchmark::DoNotOptimize(&r); }, kTeardownPass);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        max_pass_ms = std::max(max_pass_ms, ms);
        removed += n;
        if (n < kTeardownPass) break;
      }
    } else {
      removed += remove_association_step(
          w->hs, kBig, [&](const auto& r) { benchmark::DoNotOptimize(&r); }, SIZE_MAX);
    }
  }
  if (removed != assoc_pes || w->hs.counters().pes != kBackground) std::abort();
  state.SetItemsProcessed(static_cast<std::int64_t>(removed));
  if constexpr (kHasBoundedRemoval<Handlespace>) state.counters["max_pass_ms"] = max_pass_ms;
}

void DaemonMemory(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  double per_pe = 0;
  for (auto _ : state) {
    const std::size_t before = bench::rss_bytes();
    auto w = std::make_unique<DaemonWorld>(n, static_cast<std::size_t>(state.range(1)));
    per_pe = static_cast<double>(bench::rss_bytes() - before) / static_cast<double>(n);
  }
  state.counters["rss_bytes_per_pe"] = per_pe;
}

BENCHMARK(DaemonResolve3)->ArgNames({"pes", "per_assoc"})->ArgsProduct({{1'000'000}, {1, 1000}});
BENCHMARK(DaemonReregister)->ArgNames({"pes", "per_assoc"})->ArgsProduct({{1'000'000}, {1, 1000}});
BENCHMARK(DaemonDeregister)->ArgNames({"pes", "per_assoc"})->ArgsProduct({{1'000'000}, {1, 1000}})->Iterations(100'000);
BENCHMARK(DaemonDeregisterView)
    ->ArgNames({"pes", "per_assoc"})
    ->ArgsProduct({{1'000'000}, {1, 1000}})
    ->Iterations(100'000);
BENCHMARK(DaemonRemove)->ArgNames({"pes", "per_assoc"})->ArgsProduct({{1'000'000}, {1, 1000}})->Iterations(100'000);
BENCHMARK(DaemonRegisterChurn)->ArgName("pes")->Arg(10'000);
BENCHMARK(DaemonDeregisterChurn)->ArgName("pes")->Arg(10'000);
BENCHMARK(DaemonTeardown)->ArgName("assoc_pes")->Arg(100'000)->Arg(1'000'000)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(DaemonMemory)->ArgNames({"pes", "per_assoc"})->ArgsProduct({{1'000'000}, {1, 1000}})->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(DaemonMemory)->Name("DaemonMemory_10M")->ArgNames({"pes", "per_assoc"})->Args({10'000'000, 1})->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  const char* version = nullptr;
  std::size_t len = sizeof(version);
  if (mallctl("version", &version, &len, nullptr, 0) == 0) std::printf("allocator: jemalloc %s\n", version);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
