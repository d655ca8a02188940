// Handlespace benchmarks (Google Benchmark). Built twice: handlespace_bench links jemalloc as
// poolregd does; handlespace_bench_system_malloc (POOLREG_BENCH_JEMALLOC=0) keeps glibc malloc,
// so Memory figures of both allocators come from one run (perf/registrar/memory_results.md).
//   Resolve/<pool size>/<k>/<policy>        reader path (policy: 0 RR, 1 LU, 2 WRAND)
//   Reregister|RegisterFresh|Deregister/<resident PEs>/<0 sequential, 1 random keys>   writer path
//   ReregisterBatch|RegisterFreshBatch/<resident>/<random>/<batch>   the same through register_batch
//   RegisterDeregister/<resident PEs>
//   *_10M variants: 10^7 resident PEs (slow to populate: filter with --benchmark_filter)
//   Memory/<PEs>/<moves>                    RSS growth per PE (IPv4 PE + ASAP transport, expiry set),
//                                           after <moves> rounds of every PE re-registering with a
//                                           new address (mobility: each record replaced and freed)
//   ResolveUnderChurn/threads:N             N readers resolving while one writer re-registers
//   ResolveUnderPacedChurn/<policy>/threads:N   the same, writer paced at 10^5 writes/s, RR or WRAND
#include <benchmark/benchmark.h>
#ifndef POOLREG_BENCH_JEMALLOC
#define POOLREG_BENCH_JEMALLOC 1
#endif
#if POOLREG_BENCH_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "perf/registrar/bench_support.hpp"
#include "registrar/handlespace/handlespace.hpp"

namespace {

using namespace poolreg;
using namespace poolreg::handlespace;

PoolHandle pool_name(std::size_t i) { return *PoolHandle::from_string("bench-pool-" + std::to_string(i)); }

PoolElement bench_pe(PoolElementId id, PolicyType policy, std::uint32_t address) {
  PoolElement pe;
  pe.id = id;
  pe.home_registrar = 0x1000 + id % 4;
  pe.registration_life_ms = 30000;
  pe.user_transport.protocol = TransportProtocol::kSctp;
  pe.user_transport.port = 5000;
  pe.user_transport.addresses = {IpAddress::v4(address)};
  pe.policy.type = policy;
  pe.policy.weight = 1 + id % 100;
  pe.policy.load = static_cast<std::uint32_t>(id * 2654435761u);
  TransportEndpoint asap;
  asap.port = 3863;
  asap.addresses = {IpAddress::v4(address)};
  pe.asap_transport = asap;
  return pe;
}

PolicyType policy_of(std::int64_t code) {
  switch (code) {
    case 1: return PolicyType::kLeastUsed;
    case 2: return PolicyType::kWeightedRandom;
    default: return PolicyType::kRoundRobin;
  }
}

struct World {
  QsbrDomain domain{64};
  Handlespace hs;
  std::size_t pools;
  std::size_t per_pool;
  explicit World(std::size_t shards) : hs(make_config(shards), domain) {}
  static HandlespaceConfig make_config(std::size_t shards) {
    HandlespaceConfig c;
    c.shard_count = shards;
    c.limits.max_pools = 1'000'000;
    c.limits.max_pes_per_pool = 100'000'000;
    return c;
  }
};

// Populated handlespaces are cached per shape: Google Benchmark calls a benchmark several times.
std::shared_ptr<World> world(std::size_t total, std::size_t per_pool, PolicyType policy, bool expiry) {
  static std::mutex mutex;
  static std::map<std::tuple<std::size_t, std::size_t, PolicyType, bool>, std::shared_ptr<World>> cache;
  std::lock_guard lock(mutex);
  auto key = std::make_tuple(total, per_pool, policy, expiry);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  if (total >= 1'000'000) cache.clear();  // keep at most one big world in memory
  auto w = std::make_shared<World>(1);
  w->per_pool = per_pool;
  w->pools = (total + per_pool - 1) / per_pool;
  for (std::size_t i = 0; i < total; ++i) {
    const auto r = w->hs.register_pe(pool_name(i / per_pool), bench_pe(i + 1, policy, 0x0a000000u + static_cast<std::uint32_t>(i)),
                                     {.association = 0, .expires_at = expiry ? 1'000'000'000'000ULL + i : 0});
    if (!r.has_value()) std::abort();
  }
  w->domain.reclaim();
  cache[key] = w;
  return w;
}

// ---------------------------------------------------------------- reader path

void Resolve(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const std::size_t k = static_cast<std::size_t>(state.range(1));
  const PolicyType policy = policy_of(state.range(2));
  auto w = world(n, n, policy, false);
  ReaderContext ctx(w->domain, 1);
  ctx.online();
  const PoolHandle h = pool_name(0);
  std::uint64_t sum = 0, i = 0;
  for (auto _ : state) {
    w->hs.resolve(h, k, ctx, [&](const PoolElementView& v) { sum += v.id() + v.user_port(); });
    if ((++i & 31) == 0) ctx.quiescent();
  }
  benchmark::DoNotOptimize(sum);
  ctx.offline();
  w->hs.drain_feedback();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(std::string(policy_short_name(policy)));
}
BENCHMARK(Resolve)
    ->ArgNames({"pool", "k", "policy"})
    ->ArgsProduct({{10, 100, 1000, 1'000'000}, {1, 3}, {0, 1, 2}});

// ---------------------------------------------------------------- writer path

constexpr std::size_t kPerPool = 1000;

// Access pattern of the writer benchmarks (second argument): 0 = sequential (PE i, i+1, ...),
// 1 = random PE among the resident ones (realistic: registrations arrive in no order). The
// keys are drawn before the timed loop: the loop measures the handlespace, not the RNG.
constexpr std::size_t kKeys = 1 << 20;
std::vector<std::uint32_t> access_keys(std::size_t range, bool random, std::uint64_t seed) {
  std::vector<std::uint32_t> keys(kKeys);
  std::mt19937_64 rng(seed);
  for (std::size_t i = 0; i < kKeys; ++i)
    keys[i] = static_cast<std::uint32_t>(random ? rng() % range : i % range);
  return keys;
}
std::vector<PoolHandle> all_handles(std::size_t pools) {
  std::vector<PoolHandle> handles;
  handles.reserve(pools);
  for (std::size_t p = 0; p < pools; ++p) handles.push_back(pool_name(p));
  return handles;
}
// Makes `pe` the resident PE with index idx (as world() registered it) without allocating.
void set_resident(PoolElement& pe, std::size_t idx) {
  const PoolElementId id = idx + 1;
  pe.id = id;
  pe.home_registrar = 0x1000 + id % 4;
  pe.policy.weight = 1 + id % 100;
  pe.policy.load = static_cast<std::uint32_t>(id * 2654435761u);
}

void Reregister(benchmark::State& state) {
  const std::size_t resident = static_cast<std::size_t>(state.range(0));
  const bool random = state.range(1) != 0;
  auto w = world(resident, kPerPool, PolicyType::kRoundRobin, true);
  const auto keys = access_keys(resident, random, 1);
  const auto handles = all_handles(w->pools);
  PoolElement pe = bench_pe(1, PolicyType::kRoundRobin, 0);
  std::uint32_t address = 0x0b000000;
  std::size_t i = 0;
  for (auto _ : state) {
    const std::size_t idx = keys[i++ & (kKeys - 1)];
    set_resident(pe, idx);
    pe.user_transport.addresses[0] = IpAddress::v4(++address);  // mobile PE: new address
    auto r = w->hs.register_pe(handles[idx / kPerPool], pe, {.association = 0, .expires_at = 2'000'000'000'000ULL + i});
    benchmark::DoNotOptimize(r);
  }
  w->domain.reclaim();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(random ? "random" : "sequential");
}

// Reregister through Handlespace::register_batch: the same operations (same keys, same PEs,
// same new addresses) in batches of `batch` requests, as a daemon would apply one RX burst.
void ReregisterBatch(benchmark::State& state) {
  const std::size_t resident = static_cast<std::size_t>(state.range(0));
  const bool random = state.range(1) != 0;
  const std::size_t batch = static_cast<std::size_t>(state.range(2));
  auto w = world(resident, kPerPool, PolicyType::kRoundRobin, true);
  const auto keys = access_keys(resident, random, 1);
  const auto handles = all_handles(w->pools);
  std::vector<PoolElement> pes(batch, bench_pe(1, PolicyType::kRoundRobin, 0));
  std::vector<RegistrationRequest> requests(batch);
  std::vector<Expected<RegisterOutcome, HandlespaceError>> outcomes(batch);
  std::uint32_t address = 0x0b000000;
  std::size_t i = 0;
  for (auto _ : state) {
    for (std::size_t j = 0; j < batch; ++j) {
      const std::size_t idx = keys[i++ & (kKeys - 1)];
      set_resident(pes[j], idx);
      pes[j].user_transport.addresses[0] = IpAddress::v4(++address);
      requests[j] = {
          &handles[idx / kPerPool], &pes[j], {.association = 0, .expires_at = 2'000'000'000'000ULL + i}};
    }
    w->hs.register_batch(requests, outcomes);
    benchmark::DoNotOptimize(outcomes.data());
  }
  for (const auto& r : outcomes)
    if (!r.has_value() || r->pe_created) state.SkipWithError("re-registration failed");
  w->domain.reclaim();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
  state.SetLabel(random ? "random" : "sequential");
}

// Untimed, before a fresh-registration loop of `count` PEs: registers and removes the same PEs
// once, so the pools' tables have already grown to hold them. Without it the result depends on
// which benchmark ran first on the cached world (the first one pays every table doubling).
void pregrow(World& w, const std::vector<std::uint32_t>& keys, const std::vector<PoolHandle>& handles,
             PoolElementId first, std::size_t count) {
  PoolElement pe = bench_pe(1, PolicyType::kRoundRobin, 0x0c000001);
  for (PoolElementId id = first; id < first + count; ++id) {
    pe.id = id;
    (void)w.hs.register_pe(handles[keys[id & (kKeys - 1)]], pe,
                           {.association = 0, .expires_at = 3'000'000'000'000ULL + id});
  }
  for (PoolElementId id = first; id < first + count; ++id)
    w.hs.deregister(handles[keys[id & (kKeys - 1)]], id);
  w.domain.reclaim();
}

// New PEs into existing pools (random or round-robin pool choice); removed again untimed.
void RegisterFresh(benchmark::State& state) {
  const std::size_t resident = static_cast<std::size_t>(state.range(0));
  const bool random = state.range(1) != 0;
  auto w = world(resident, kPerPool, PolicyType::kRoundRobin, true);
  const auto keys = access_keys(w->pools, random, 2);
  const auto handles = all_handles(w->pools);
  PoolElementId next = 1'000'000'000'000ULL;
  const PoolElementId first = next;
  pregrow(*w, keys, handles, first, static_cast<std::size_t>(state.max_iterations));
  PoolElement pe = bench_pe(1, PolicyType::kRoundRobin, 0x0c000001);
  for (auto _ : state) {
    pe.id = next++;
    auto r = w->hs.register_pe(handles[keys[pe.id & (kKeys - 1)]], pe,
                               {.association = 0, .expires_at = 3'000'000'000'000ULL + pe.id});
    benchmark::DoNotOptimize(r);
  }
  for (PoolElementId id = first; id < next; ++id) w->hs.deregister(handles[keys[id & (kKeys - 1)]], id);  // untimed
  w->domain.reclaim();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(random ? "random" : "sequential");
}

// RegisterFresh through Handlespace::register_batch (same PEs, same pools).
void RegisterFreshBatch(benchmark::State& state) {
  const std::size_t resident = static_cast<std::size_t>(state.range(0));
  const bool random = state.range(1) != 0;
  const std::size_t batch = static_cast<std::size_t>(state.range(2));
  auto w = world(resident, kPerPool, PolicyType::kRoundRobin, true);
  const auto keys = access_keys(w->pools, random, 2);
  const auto handles = all_handles(w->pools);
  PoolElementId next = 1'000'000'000'000ULL;
  const PoolElementId first = next;
  pregrow(*w, keys, handles, first, static_cast<std::size_t>(state.max_iterations) * batch);
  std::vector<PoolElement> pes(batch, bench_pe(1, PolicyType::kRoundRobin, 0x0c000001));
  std::vector<RegistrationRequest> requests(batch);
  std::vector<Expected<RegisterOutcome, HandlespaceError>> outcomes(batch);
  for (auto _ : state) {
    for (std::size_t j = 0; j < batch; ++j) {
      pes[j].id = next++;
      requests[j] = {&handles[keys[pes[j].id & (kKeys - 1)]], &pes[j],
                     {.association = 0, .expires_at = 3'000'000'000'000ULL + pes[j].id}};
    }
    w->hs.register_batch(requests, outcomes);
    benchmark::DoNotOptimize(outcomes.data());
  }
  for (PoolElementId id = first; id < next; ++id) w->hs.deregister(handles[keys[id & (kKeys - 1)]], id);  // untimed
  w->domain.reclaim();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
  state.SetLabel(random ? "random" : "sequential");
}

// Deregistration of PEs registered untimed before the loop (spread over the pools), removed
// in registration order (sequential) or in a random order.
void Deregister(benchmark::State& state) {
  const std::size_t resident = static_cast<std::size_t>(state.range(0));
  const bool random = state.range(1) != 0;
  auto w = world(resident, kPerPool, PolicyType::kRoundRobin, true);
  const PoolElementId first = 2'000'000'000'000ULL;
  const auto count = static_cast<std::size_t>(state.max_iterations);
  const auto pool_keys = access_keys(w->pools, true, 3);
  const auto handles = all_handles(w->pools);
  PoolElement pe = bench_pe(1, PolicyType::kRoundRobin, 0x0c000001);
  std::vector<std::pair<std::uint32_t, PoolElementId>> order;  // (pool, id)
  order.reserve(count);
  for (std::size_t n = 0; n < count; ++n) {
    pe.id = first + n;
    const std::uint32_t pool = pool_keys[n & (kKeys - 1)];
    (void)w->hs.register_pe(handles[pool], pe, {.association = 0, .expires_at = 3'000'000'000'000ULL + n});
    order.emplace_back(pool, pe.id);
  }
  if (random) std::shuffle(order.begin(), order.end(), std::mt19937_64(4));
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& [pool, id] = order[i++];
    auto r = w->hs.deregister(handles[pool], id);
    benchmark::DoNotOptimize(r);
  }
  w->domain.reclaim();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(random ? "random" : "sequential");
}

void RegisterDeregister(benchmark::State& state) {
  const std::size_t resident = static_cast<std::size_t>(state.range(0));
  auto w = world(resident, kPerPool, PolicyType::kRoundRobin, true);
  const auto keys = access_keys(w->pools, true, 5);
  const auto handles = all_handles(w->pools);
  PoolElementId next = 3'000'000'000'000ULL;
  PoolElement pe = bench_pe(1, PolicyType::kRoundRobin, 0x0c000001);
  for (auto _ : state) {
    pe.id = next++;
    const PoolHandle& h = handles[keys[pe.id & (kKeys - 1)]];
    (void)w->hs.register_pe(h, pe, {.association = 0, .expires_at = 3'000'000'000'000ULL});
    auto r = w->hs.deregister(h, pe.id);
    benchmark::DoNotOptimize(r);
  }
  w->domain.reclaim();
  state.SetItemsProcessed(2 * static_cast<std::int64_t>(state.iterations()));
}

BENCHMARK(Reregister)->ArgNames({"resident", "random"})->ArgsProduct({{10'000, 1'000'000}, {0, 1}});
BENCHMARK(RegisterFresh)->ArgNames({"resident", "random"})->ArgsProduct({{10'000, 1'000'000}, {0, 1}});
BENCHMARK(ReregisterBatch)
    ->ArgNames({"resident", "random", "batch"})
    ->ArgsProduct({{10'000, 1'000'000}, {0, 1}, {32}});
BENCHMARK(ReregisterBatch)
    ->ArgNames({"resident", "random", "batch"})
    ->ArgsProduct({{1'000'000}, {1}, {8, 256}});
BENCHMARK(RegisterFreshBatch)
    ->ArgNames({"resident", "random", "batch"})
    ->ArgsProduct({{10'000, 1'000'000}, {1}, {32}});
BENCHMARK(Deregister)->ArgNames({"resident", "random"})->ArgsProduct({{10'000, 1'000'000}, {0, 1}});
BENCHMARK(RegisterDeregister)->Arg(10'000)->Arg(1'000'000);
BENCHMARK(Reregister)->Name("Reregister_10M")->ArgNames({"resident", "random"})->ArgsProduct({{10'000'000}, {0, 1}});
BENCHMARK(ReregisterBatch)
    ->Name("ReregisterBatch_10M")
    ->ArgNames({"resident", "random", "batch"})
    ->ArgsProduct({{10'000'000}, {0, 1}, {32}});
BENCHMARK(RegisterFreshBatch)
    ->Name("RegisterFreshBatch_10M")
    ->ArgNames({"resident", "random", "batch"})
    ->ArgsProduct({{10'000'000}, {1}, {32}});
BENCHMARK(RegisterFresh)->Name("RegisterFresh_10M")->ArgNames({"resident", "random"})->ArgsProduct({{10'000'000}, {0, 1}});
BENCHMARK(Deregister)->Name("Deregister_10M")->ArgNames({"resident", "random"})->ArgsProduct({{10'000'000}, {0, 1}});

// ---------------------------------------------------------------- memory

void Memory(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const std::int64_t moves = state.range(1);
  double per_pe = 0;
  for (auto _ : state) {
    const std::size_t before = bench::rss_bytes();
    {
      auto w = std::make_unique<World>(1);
      for (std::size_t i = 0; i < n; ++i)
        (void)w->hs.register_pe(
            pool_name(i / kPerPool),
            bench_pe(i + 1, PolicyType::kRoundRobin, 0x0a000000u + static_cast<std::uint32_t>(i)),
            {.association = 0, .expires_at = 1'000'000'000'000ULL + i});
      // Moves in a shuffled order, as mobile PEs re-register: freed records are scattered over
      // the heap, which is where allocators differ in what they give back or reuse.
      std::vector<std::uint32_t> order(n);
      for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint32_t>(i);
      std::mt19937_64 rng(42);
      for (std::int64_t round = 1; round <= moves; ++round) {
        std::shuffle(order.begin(), order.end(), rng);
        for (std::size_t k = 0; k < n; ++k) {
          const std::size_t i = order[k];
          (void)w->hs.register_pe(
              pool_name(i / kPerPool),
              bench_pe(i + 1, PolicyType::kRoundRobin,
                       0x0b000000u + static_cast<std::uint32_t>(round * 7919 + static_cast<std::int64_t>(i))),
              {.association = 0, .expires_at = 1'000'000'000'000ULL + i});
        }
        w->domain.reclaim();
      }
      order = {};
      w->domain.reclaim();
      per_pe = static_cast<double>(bench::rss_bytes() - before) / static_cast<double>(n);
      state.counters["record_bytes"] = static_cast<double>(PoolElementRecord::allocation_size(bench_pe(1, PolicyType::kRoundRobin, 1)));
    }
  }
  state.counters["rss_bytes_per_pe"] = per_pe;
}
BENCHMARK(Memory)
    ->ArgNames({"pes", "moves"})
    ->ArgsProduct({{1'000'000}, {0, 2}})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(Memory)
    ->Name("Memory_10M")
    ->ArgNames({"pes", "moves"})
    ->Args({10'000'000, 0})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------- readers + writer

struct ChurnWorld {
  std::shared_ptr<World> w;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> writes{0};
  std::thread writer;
  std::mutex mutex;
  int users = 0;
  std::int64_t writes_per_ms = 0;  // 0: the writer re-registers back to back
  PolicyType policy = PolicyType::kRoundRobin;
};
ChurnWorld& churn_world() {
  static ChurnWorld cw;
  return cw;
}

// Readers resolving 3 of a 100-PE pool while one writer re-registers its PEs. The paced
// variant limits the writer to `writes_per_ms` (still 10^5 re-registrations/s for 100): on a
// machine with fewer cores than readers + 1 the unpaced writer takes a core away from the
// readers, and reader scaling cannot show. Policy: RR selection advances one atomic cursor per
// pool (shared by all readers: RFC 5356 round robin is one cycle per pool), WRAND writes nothing.
void run_resolve_under_churn(benchmark::State& state, std::int64_t writes_per_ms, PolicyType policy) {
  ChurnWorld& cw = churn_world();
  {
    std::lock_guard lock(cw.mutex);
    if (cw.users++ == 0) {
      cw.w = world(100, 100, policy, false);
      cw.stop = false;
      cw.writes_per_ms = writes_per_ms;
      cw.policy = policy;
      cw.writer = std::thread([&cw] {
        std::uint32_t address = 0x0d000000;
        std::uint64_t i = 0;
        auto tick = std::chrono::steady_clock::now();
        while (!cw.stop.load(std::memory_order_relaxed)) {
          auto pe = bench_pe(1 + i % 100, cw.policy, ++address);
          (void)cw.w->hs.register_pe(pool_name(0), pe, {});
          if ((++i & 255) == 0) cw.w->domain.reclaim();
          cw.writes.fetch_add(1, std::memory_order_relaxed);
          if (cw.writes_per_ms > 0 && i % static_cast<std::uint64_t>(cw.writes_per_ms) == 0) {
            tick += std::chrono::milliseconds(1);
            std::this_thread::sleep_until(tick);
          }
        }
      });
    }
  }
  ReaderContext ctx(cw.w->domain, 7 + static_cast<std::uint64_t>(state.thread_index()));
  ctx.online();
  const PoolHandle h = pool_name(0);
  std::uint64_t sum = 0, i = 0;
  for (auto _ : state) {
    cw.w->hs.resolve(h, 3, ctx, [&](const PoolElementView& v) { sum += v.id(); });
    if ((++i & 31) == 0) ctx.quiescent();
  }
  benchmark::DoNotOptimize(sum);
  ctx.offline();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  {
    std::lock_guard lock(cw.mutex);
    if (--cw.users == 0) {
      cw.stop = true;
      cw.writer.join();
    }
  }
}
void ResolveUnderChurn(benchmark::State& state) { run_resolve_under_churn(state, 0, PolicyType::kRoundRobin); }
void ResolveUnderPacedChurn(benchmark::State& state) {
  run_resolve_under_churn(state, 100, policy_of(state.range(0)));
  state.SetLabel(std::string(policy_short_name(policy_of(state.range(0)))));
}
BENCHMARK(ResolveUnderChurn)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(ResolveUnderPacedChurn)->ArgName("policy")->Arg(0)->Arg(2)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
#if POOLREG_BENCH_JEMALLOC
  const char* version = nullptr;
  std::size_t len = sizeof(version);
  if (mallctl("version", &version, &len, nullptr, 0) == 0) std::printf("allocator: jemalloc %s\n", version);
#else
  std::printf("allocator: system malloc (glibc)\n");
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
