// Selection index costs: select 1 / 3 items from 10, 10^3, 10^6 PEs (RR, LU, WRAND) and
// writer operations at 10^6 PEs. Single thread; memory reclaimed with a DeferredReclaimer.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "registrar/common/reclaimer.hpp"
#include "registrar/policy/selector.hpp"

namespace poolreg::policy {
namespace {

PolicyParams random_params(PolicyType type, Xoshiro256& rng) {
  PolicyParams p;
  p.type = type;
  p.weight = 1 + static_cast<std::uint32_t>(rng.below(1000));
  p.load = static_cast<std::uint32_t>(rng.next());  // all distinct: worst case for LU groups
  p.load_degradation = 1 + static_cast<std::uint32_t>(rng.below(1u << 20));  // LUD moves on each selection
  return p;
}

struct Fixture {
  Fixture(PolicyType type, std::size_t n) : selector(make_selector(type, reclaimer)) {
    Xoshiro256 rng(n);
    for (Slot s = 0; s < n; ++s) selector->insert(s, random_params(type, rng));
    reclaimer.drain();
  }
  DeferredReclaimer reclaimer;
  std::unique_ptr<Selector> selector;
};

void select_bench(benchmark::State& state, PolicyType type) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto k = static_cast<std::size_t>(state.range(1));
  Fixture fixture(type, n);
  SelectorContext ctx(1);
  Slot out[kMaxSelectItems];
  for (auto _ : state) {
    benchmark::DoNotOptimize(fixture.selector->select(k, ctx, out));
    benchmark::DoNotOptimize(out[0]);
  }
  state.counters["bytes_per_pe"] = static_cast<double>(fixture.selector->memory_bytes()) / static_cast<double>(n);
}

void select_args(benchmark::internal::Benchmark* b) {
  for (std::int64_t n : {10, 1000, 1000000}) {
    for (std::int64_t k : {1, 3}) b->Args({n, k});
  }
}

void BM_SelectRoundRobin(benchmark::State& state) { select_bench(state, PolicyType::kRoundRobin); }
void BM_SelectLeastUsed(benchmark::State& state) { select_bench(state, PolicyType::kLeastUsed); }
void BM_SelectWeightedRandom(benchmark::State& state) { select_bench(state, PolicyType::kWeightedRandom); }
BENCHMARK(BM_SelectRoundRobin)->Apply(select_args);
BENCHMARK(BM_SelectLeastUsed)->Apply(select_args);
BENCHMARK(BM_SelectWeightedRandom)->Apply(select_args);

constexpr std::size_t kBig = 1000000;

// update(): re-registration with new values (moves the PE in LU's order).
void update_bench(benchmark::State& state, PolicyType type) {
  Fixture fixture(type, kBig);
  Xoshiro256 rng(5);
  std::uint64_t i = 0;
  for (auto _ : state) {
    fixture.selector->update(static_cast<Slot>(rng.below(kBig)), random_params(type, rng));
    if ((++i & 1023) == 0) fixture.reclaimer.drain();
  }
}

// erase() followed by insert() of the same slot: size stays at 10^6; cost of the pair.
void erase_insert_bench(benchmark::State& state, PolicyType type) {
  Fixture fixture(type, kBig);
  Xoshiro256 rng(6);
  std::uint64_t i = 0;
  for (auto _ : state) {
    const auto slot = static_cast<Slot>(rng.below(kBig));
    fixture.selector->erase(slot);
    fixture.selector->insert(slot, random_params(type, rng));
    if ((++i & 1023) == 0) fixture.reclaimer.drain();
  }
}

// insert() of 10^6 PEs into an empty selector; reported per insert.
void fill_bench(benchmark::State& state, PolicyType type) {
  for (auto _ : state) {
    Fixture fixture(type, kBig);
    benchmark::DoNotOptimize(fixture.selector->size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBig));
}

// on_selected() for a degrading policy at 10^6 PEs (LUD moves the PE to a higher key).
void BM_OnSelectedLeastUsedDegradation(benchmark::State& state) {
  Fixture fixture(PolicyType::kLeastUsedDegradation, kBig);
  Xoshiro256 rng(7);
  std::uint64_t i = 0;
  for (auto _ : state) {
    fixture.selector->on_selected(static_cast<Slot>(rng.below(kBig)));
    if ((++i & 1023) == 0) fixture.reclaimer.drain();
  }
}
BENCHMARK(BM_OnSelectedLeastUsedDegradation);

void BM_UpdateRoundRobin(benchmark::State& state) { update_bench(state, PolicyType::kRoundRobin); }
void BM_UpdateLeastUsed(benchmark::State& state) { update_bench(state, PolicyType::kLeastUsed); }
void BM_UpdateWeightedRandom(benchmark::State& state) { update_bench(state, PolicyType::kWeightedRandom); }
void BM_EraseInsertRoundRobin(benchmark::State& state) { erase_insert_bench(state, PolicyType::kRoundRobin); }
void BM_EraseInsertLeastUsed(benchmark::State& state) { erase_insert_bench(state, PolicyType::kLeastUsed); }
void BM_EraseInsertWeightedRandom(benchmark::State& state) {
  erase_insert_bench(state, PolicyType::kWeightedRandom);
}
void BM_FillRoundRobin(benchmark::State& state) { fill_bench(state, PolicyType::kRoundRobin); }
void BM_FillLeastUsed(benchmark::State& state) { fill_bench(state, PolicyType::kLeastUsed); }
void BM_FillWeightedRandom(benchmark::State& state) { fill_bench(state, PolicyType::kWeightedRandom); }
BENCHMARK(BM_UpdateRoundRobin);
BENCHMARK(BM_UpdateLeastUsed);
BENCHMARK(BM_UpdateWeightedRandom);
BENCHMARK(BM_EraseInsertRoundRobin);
BENCHMARK(BM_EraseInsertLeastUsed);
BENCHMARK(BM_EraseInsertWeightedRandom);
BENCHMARK(BM_FillRoundRobin)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_FillLeastUsed)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_FillWeightedRandom)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace poolreg::policy

BENCHMARK_MAIN();
