// registrar/common/latency_histogram.hpp: the cost of record() on the hot path (lanes, event
// loop), of merging a lane into a total and of a quantile read (control thread).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "registrar/common/latency_histogram.hpp"

namespace poolreg {
namespace {

// Durations like the daemon's: mostly a few microseconds, a tail to milliseconds.
std::vector<TimeNs> durations() {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> d(8.0, 1.0);  // median about 3 us
  std::vector<TimeNs> v(4096);
  for (TimeNs& x : v) x = static_cast<TimeNs>(d(rng));
  return v;
}

void BM_Record(benchmark::State& state) {
  const std::vector<TimeNs> v = durations();
  LatencyHistogram h;
  std::size_t i = 0;
  for (auto _ : state) {
    h.record(v[i++ & 4095]);
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(h.count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Record);

void BM_Merge(benchmark::State& state) {
  LatencyHistogram lane, total;
  for (TimeNs x : durations()) lane.record(x);
  for (auto _ : state) {
    total.merge(lane);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_Merge);

void BM_Quantile(benchmark::State& state) {
  LatencyHistogram h;
  for (TimeNs x : durations()) h.record(x);
  for (auto _ : state) benchmark::DoNotOptimize(h.quantile(0.99));
}
BENCHMARK(BM_Quantile);

}  // namespace
}  // namespace poolreg

BENCHMARK_MAIN();
