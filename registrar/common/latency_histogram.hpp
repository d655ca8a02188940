// LatencyHistogram: the one latency histogram of the tree (Handle Resolution latency on the
// control thread and on every poll lane, poolgen's request latencies). Durations in nanoseconds.
//
// Buckets (log-linear, HDR-style): every power-of-two range is split into kSubBuckets = 32 linear
// sub-buckets, so a bucket is at most 1/31 of its lower edge wide and quantile() (the middle of
// the bucket holding the wanted rank, clamped to the exact min/max) is within 1.6 % of the exact
// nearest-rank quantile from 1 us up (tests/registrar/common/latency_histogram_test.cpp measures
// it). The power-of-two ranges are counted in units of 1000/1024 ns, so every 2^k microseconds
// (1 us, 2 us, 4 us, ... 2^28 us) is an exact bucket edge: the coarse log2 view for exports
// (kCoarseBounds, count_at_or_below) is exact, not interpolated. Bucket i holds the durations in
// (upper_bound(i - 1), upper_bound(i)] ("le" semantics). Durations above kMaxFiniteNs (2^28 us,
// about 268 s) go to one overflow bucket; max() stays exact for them.
//
// Memory: a fixed array of kBuckets counters (about 8.7 KiB) inside the object; nothing is
// allocated, ever. Construction zeroes it.
//
// Thread contract: ONE WRITER, any number of concurrent READERS.
// - Writer operations (record, merge into this, reset) must come from one thread at a time (the
//   owner: the lane, the event loop, the poolgen loop).
// - record() costs one relaxed load + store on the sample's bucket and one on the sum (no locked
//   instruction: a plain add on x86-64), plus a relaxed compare against min/max that stores only
//   when the sample is a new extreme.
// - Readers (count, sum, min, max, quantile, count_at_or_below, bucket_count, for_each_bucket, the
//   copy constructor = snapshot, merge(other) reading `other`) use relaxed loads. Each counter is
//   monotonic between resets, so a reader sees every bucket at some value between its state at
//   the start and at the end of the read; count() is the sum of the buckets, sum/min/max may be
//   one or a few samples ahead or behind it. No ordering with other memory is implied: to publish
//   a histogram together with other data, use the surrounding handover (ring, QSBR) for that.
// - reset() while a reader runs gives that reader a mixture of old and new values (harmless for
//   statistics, never undefined behaviour).
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "registrar/common/clock.hpp"

namespace poolreg {

class LatencyHistogram {
 public:
  static constexpr unsigned kSubBucketBits = 5;
  static constexpr std::size_t kSubBuckets = std::size_t{1} << kSubBucketBits;  // per power of two
  // Largest finite bucket edge: 2^kMaxPowerUs microseconds.
  static constexpr unsigned kMaxPowerUs = 28;
  static constexpr TimeNs kMaxFiniteNs = TimeNs{1000} << kMaxPowerUs;
  // Scaled units (1000/1024 ns) below kMaxFiniteNs: [0, 2^kScaledBits).
  static constexpr unsigned kScaledBits = kMaxPowerUs + 10;
  static constexpr std::size_t kFiniteBuckets = (kScaledBits - kSubBucketBits + 1) * kSubBuckets;
  static constexpr std::size_t kOverflowBucket = kFiniteBuckets;
  static constexpr std::size_t kBuckets = kFiniteBuckets + 1;

  // Coarse log2 view for exports with few buckets (Prometheus `le`, poolctl stats, DPDK
  // telemetry): upper bounds 1 us, 2 us, ... 2^20 us (about 1.05 s), then +Inf. Exact edges.
  static constexpr std::size_t kCoarseBounds = 21;
  static constexpr TimeNs coarse_bound(std::size_t i) noexcept { return TimeNs{1000} << i; }

  LatencyHistogram() noexcept = default;
  // Copies are snapshots taken with relaxed loads (a reader operation on `other`).
  LatencyHistogram(const LatencyHistogram& other) noexcept { copy_from(other); }
  LatencyHistogram& operator=(const LatencyHistogram& other) noexcept {
    if (this != &other) copy_from(other);
    return *this;
  }

  // Writer. One sample; hot path (see the thread contract above).
  void record(TimeNs duration) noexcept {
    bump(buckets_[bucket_index(duration)], 1);
    bump(sum_, duration);
    if (duration > max_.load(std::memory_order_relaxed)) max_.store(duration, std::memory_order_relaxed);
    if (duration < min_.load(std::memory_order_relaxed)) min_.store(duration, std::memory_order_relaxed);
  }
  // Writer (of this); reads `other` as a reader. Adds other's samples (lanes + control).
  void merge(const LatencyHistogram& other) noexcept;
  // Writer. Back to empty.
  void reset() noexcept;

  // Readers.
  std::uint64_t count() const noexcept;
  TimeNs sum() const noexcept { return sum_.load(std::memory_order_relaxed); }
  TimeNs min() const noexcept;                                                  // exact; 0 when empty
  TimeNs max() const noexcept { return max_.load(std::memory_order_relaxed); }  // exact; 0 when empty
  double mean() const noexcept;                                                 // ns; 0 when empty
  // Estimated q-quantile (q in 0..1, clamped) in ns: the middle of the bucket that holds the
  // ceil(q * count)-th smallest sample, clamped to [min, max]; 0 when empty.
  TimeNs quantile(double q) const noexcept;
  // Samples <= bound_ns. Exact when bound_ns is a bucket upper bound (every coarse_bound(i) is);
  // otherwise the samples of the buckets entirely at or below it.
  std::uint64_t count_at_or_below(TimeNs bound_ns) const noexcept;
  std::uint64_t bucket_count(std::size_t i) const noexcept {
    return buckets_[i].load(std::memory_order_relaxed);
  }
  // Every non-empty bucket in ascending order: visit(TimeNs upper_bound_ns, std::uint64_t count).
  // The overflow bucket reports std::numeric_limits<TimeNs>::max() as its bound.
  template <typename Visit>
  void for_each_bucket(Visit&& visit) const {
    for (std::size_t i = 0; i < kBuckets; ++i) {
      const std::uint64_t n = bucket_count(i);
      if (n != 0) visit(upper_bound(i), n);
    }
  }

  // Bucket geometry (pure functions).
  static std::size_t bucket_index(TimeNs duration) noexcept {
    if (duration > kMaxFiniteNs) return kOverflowBucket;
    // ceil(duration * 1024 / 1000) - 1 scaled units: (t, t + 1] scaled units map to t.
    const std::uint64_t scaled = (duration * 128 + 124) / 125;
    const std::uint64_t t = scaled == 0 ? 0 : scaled - 1;
    if (t < kSubBuckets) return static_cast<std::size_t>(t);
    const unsigned shift = static_cast<unsigned>(std::bit_width(t)) - 1 - kSubBucketBits;
    return static_cast<std::size_t>(shift * kSubBuckets + (t >> shift));
  }
  // Largest duration (ns) that falls in bucket i; the overflow bucket: TimeNs max.
  static TimeNs upper_bound(std::size_t i) noexcept {
    if (i >= kOverflowBucket) return std::numeric_limits<TimeNs>::max();
    return scaled_edge(i + 1) * 125 / 128;
  }
  // Largest duration (ns) below bucket i (its exclusive lower edge); 0 for bucket 0, whose
  // range [0, upper_bound(0)] includes 0.
  static TimeNs lower_bound(std::size_t i) noexcept { return i == 0 ? 0 : upper_bound(i - 1); }

 private:
  using Counter = std::atomic<std::uint64_t>;
  // Single writer: load + store instead of fetch_add (no lock prefix).
  static void bump(Counter& c, std::uint64_t n) noexcept {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  // First scaled unit of bucket i (i <= kFiniteBuckets).
  static std::uint64_t scaled_edge(std::size_t i) noexcept {
    if (i < kSubBuckets) return i;
    const std::size_t shift = i / kSubBuckets - 1;
    return static_cast<std::uint64_t>(kSubBuckets + i % kSubBuckets) << shift;
  }
  void copy_from(const LatencyHistogram& other) noexcept;

  Counter sum_{0};
  Counter min_{std::numeric_limits<TimeNs>::max()};
  Counter max_{0};
  std::array<Counter, kBuckets> buckets_{};
};

}  // namespace poolreg
