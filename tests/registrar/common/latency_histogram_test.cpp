// Tests registrar/common/latency_histogram.hpp: bucket geometry, quantile error against exact
// quantiles of random samples (1 us .. 10 s), the coarse log2 view, merge, snapshot copies and
// one writer recording while a reader reads.
#include "registrar/common/latency_histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

namespace poolreg {
namespace {

using H = LatencyHistogram;

TEST(LatencyHistogramTest, EmptyReadsZero) {
  H h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.sum(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.quantile(0.5), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  EXPECT_EQ(h.count_at_or_below(H::coarse_bound(0)), 0u);
}

TEST(LatencyHistogramTest, BucketsTileTheRangeWithoutGaps) {
  EXPECT_EQ(H::bucket_index(0), 0u);
  EXPECT_EQ(H::lower_bound(0), 0u);
  for (std::size_t i = 0; i < H::kFiniteBuckets; ++i) {
    ASSERT_LE(H::lower_bound(i), H::upper_bound(i)) << i;
    // Units are 1000/1024 ns: a few buckets below 64 ns hold no whole nanosecond.
    if (H::lower_bound(i) == H::upper_bound(i) && H::upper_bound(i) < 64) continue;
    ASSERT_LT(H::lower_bound(i), H::upper_bound(i)) << i;
    EXPECT_EQ(H::bucket_index(H::upper_bound(i)), i) << i;
    EXPECT_EQ(H::bucket_index(H::lower_bound(i) + 1), i) << i;
    EXPECT_EQ(H::bucket_index(H::upper_bound(i) + 1),
              H::upper_bound(i + 1) == H::upper_bound(i) ? i + 2 : i + 1)
        << i;
  }
  EXPECT_EQ(H::upper_bound(H::kFiniteBuckets - 1), H::kMaxFiniteNs);
  EXPECT_EQ(H::bucket_index(H::kMaxFiniteNs + 1), H::kOverflowBucket);
  EXPECT_EQ(H::bucket_index(~TimeNs{0}), H::kOverflowBucket);
  // From 1 us up a bucket is at most 1/31 of its lower edge wide.
  for (std::size_t i = H::bucket_index(1000); i < H::kFiniteBuckets; ++i) {
    const double width = static_cast<double>(H::upper_bound(i) - H::lower_bound(i));
    EXPECT_LE(width / static_cast<double>(H::lower_bound(i)), 1.0 / 31) << i;
  }
}

TEST(LatencyHistogramTest, PowerOfTwoMicrosecondsAreExactEdges) {
  for (unsigned k = 0; k <= H::kMaxPowerUs; ++k) {
    const TimeNs bound = TimeNs{1000} << k;
    EXPECT_EQ(H::upper_bound(H::bucket_index(bound)), bound) << k;
  }
  H h;
  h.record(0);
  h.record(1000);  // <= 1 us
  h.record(1001);  // <= 2 us
  h.record(3000);
  h.record(4000);  // <= 4 us
  h.record(4001);
  h.record(5 * kNsPerSec);
  h.record(400 * kNsPerSec);  // overflow
  EXPECT_EQ(h.count_at_or_below(H::coarse_bound(0)), 2u);
  EXPECT_EQ(h.count_at_or_below(H::coarse_bound(1)), 3u);
  EXPECT_EQ(h.count_at_or_below(H::coarse_bound(2)), 5u);
  EXPECT_EQ(h.count_at_or_below(H::coarse_bound(3)), 6u);
  EXPECT_EQ(h.count_at_or_below(H::coarse_bound(H::kCoarseBounds - 1)), 6u);
  EXPECT_EQ(h.count_at_or_below(H::kMaxFiniteNs), 7u);
  EXPECT_EQ(h.count_at_or_below(~TimeNs{0}), 8u);
  EXPECT_EQ(h.count(), 8u);
  EXPECT_EQ(h.sum(), 13002u + 405 * kNsPerSec);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 400 * kNsPerSec);
  EXPECT_EQ(h.quantile(1.0), 400 * kNsPerSec);  // overflow reads as the exact max
  std::uint64_t visited = 0;
  TimeNs previous = 0;
  h.for_each_bucket([&](TimeNs upper, std::uint64_t n) {
    EXPECT_GE(upper, previous);
    previous = upper;
    visited += n;
  });
  EXPECT_EQ(visited, 8u);
}

// The brief: <= 3 % relative error against exact quantiles across 1 us .. 10 s.
TEST(LatencyHistogramTest, QuantilesWithinThreePercentOfExact) {
  std::mt19937_64 rng(20261206);
  double worst = 0;
  for (int trial = 0; trial < 20; ++trial) {
    H h;
    std::vector<TimeNs> samples;
    const std::size_t n = trial % 2 == 0 ? 100'000 : 997;
    // Log-uniform over 1 us .. 10 s, plus a narrow cluster (the case interpolation gets wrong).
    std::uniform_real_distribution<double> log_spread(std::log(1e3), std::log(1e10));
    std::normal_distribution<double> cluster(20'000.0 * (trial + 1), 300.0);
    for (std::size_t i = 0; i < n; ++i) {
      const double v = i % 4 == 0 ? std::clamp(cluster(rng), 1e3, 1e10) : std::exp(log_spread(rng));
      samples.push_back(static_cast<TimeNs>(v));
      h.record(samples.back());
    }
    std::sort(samples.begin(), samples.end());
    for (double q : {0.0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999, 1.0}) {
      const std::size_t rank =
          std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(q * static_cast<double>(n))));
      const double exact = static_cast<double>(samples[rank - 1]);
      const double error = std::abs(static_cast<double>(h.quantile(q)) - exact) / exact;
      worst = std::max(worst, error);
      EXPECT_LE(error, 0.03) << "q=" << q << " exact=" << exact << " estimate=" << h.quantile(q);
    }
  }
  std::printf("latency histogram: max relative quantile error %.4f %%\n", worst * 100);
  RecordProperty("max_relative_quantile_error_percent", std::to_string(worst * 100));
}

TEST(LatencyHistogramTest, MergeSumsLanesAndControl) {
  H lane1, lane2, control;
  for (TimeNs v = 1000; v < 2'000'000; v += 997) lane1.record(v);
  for (TimeNs v = 5; v < 900; v += 3) lane2.record(v);
  control.record(3 * kNsPerSec);
  H total;
  total.merge(lane1);
  total.merge(lane2);
  total.merge(control);
  EXPECT_EQ(total.count(), lane1.count() + lane2.count() + control.count());
  EXPECT_EQ(total.sum(), lane1.sum() + lane2.sum() + control.sum());
  EXPECT_EQ(total.min(), 5u);
  EXPECT_EQ(total.max(), 3 * kNsPerSec);
  for (std::size_t i = 0; i < H::kBuckets; ++i)
    ASSERT_EQ(total.bucket_count(i), lane1.bucket_count(i) + lane2.bucket_count(i) + control.bucket_count(i));
  H empty;
  total.merge(empty);
  EXPECT_EQ(total.min(), 5u);
  const H copy = total;  // snapshot
  EXPECT_EQ(copy.count(), total.count());
  EXPECT_EQ(copy.quantile(0.5), total.quantile(0.5));
  total.reset();
  EXPECT_EQ(total.count(), 0u);
  EXPECT_EQ(total.min(), 0u);
  EXPECT_EQ(total.max(), 0u);
  EXPECT_EQ(copy.count(), lane1.count() + lane2.count() + 1);
}

// One writer records while another thread reads: the reader's counts never go backwards and
// end at the writer's total (run under TSan to check the contract).
TEST(LatencyHistogramTest, OneWriterConcurrentReader) {
  H h;
  constexpr std::uint64_t kSamples = 200'000;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (std::uint64_t i = 0; i < kSamples; ++i) h.record(1000 + (i % 5000) * 37);
    done.store(true, std::memory_order_release);
  });
  std::uint64_t last = 0;
  bool finished = false;
  while (!finished) {
    finished = done.load(std::memory_order_acquire);
    const std::uint64_t n = h.count();
    ASSERT_GE(n, last);
    last = n;
    const std::uint64_t below = h.count_at_or_below(H::coarse_bound(4));
    ASSERT_LE(below, h.count());
    (void)h.quantile(0.99);
  }
  writer.join();
  EXPECT_EQ(h.count(), kSamples);
}

}  // namespace
}  // namespace poolreg
