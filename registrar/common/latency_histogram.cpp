// LatencyHistogram readers, merge and reset (record() is inline in the header).
#include "registrar/common/latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace poolreg {

void LatencyHistogram::copy_from(const LatencyHistogram& other) noexcept {
  for (std::size_t i = 0; i < kBuckets; ++i)
    buckets_[i].store(other.bucket_count(i), std::memory_order_relaxed);
  sum_.store(other.sum_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  min_.store(other.min_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  max_.store(other.max_.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
  for (std::size_t i = 0; i < kBuckets; ++i) {
    const std::uint64_t n = other.bucket_count(i);
    if (n != 0) bump(buckets_[i], n);
  }
  bump(sum_, other.sum());
  const TimeNs other_min = other.min_.load(std::memory_order_relaxed);
  if (other_min < min_.load(std::memory_order_relaxed)) min_.store(other_min, std::memory_order_relaxed);
  const TimeNs other_max = other.max();
  if (other_max > max()) max_.store(other_max, std::memory_order_relaxed);
}

void LatencyHistogram::reset() noexcept {
  for (Counter& c : buckets_) c.store(0, std::memory_order_relaxed);
  sum_.store(0, std::memory_order_relaxed);
  min_.store(std::numeric_limits<TimeNs>::max(), std::memory_order_relaxed);
  max_.store(0, std::memory_order_relaxed);
}

std::uint64_t LatencyHistogram::count() const noexcept {
  std::uint64_t n = 0;
  for (const Counter& c : buckets_) n += c.load(std::memory_order_relaxed);
  return n;
}

TimeNs LatencyHistogram::min() const noexcept {
  const TimeNs m = min_.load(std::memory_order_relaxed);
  return m == std::numeric_limits<TimeNs>::max() && max() == 0 ? 0 : m;
}

double LatencyHistogram::mean() const noexcept {
  const std::uint64_t n = count();
  return n == 0 ? 0.0 : static_cast<double>(sum()) / static_cast<double>(n);
}

TimeNs LatencyHistogram::quantile(double q) const noexcept {
  const std::uint64_t n = count();
  if (n == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank =
      std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n))));
  const TimeNs lo = min(), hi = max();
  // Counters only grow between resets, so this second pass reaches `rank` (a concurrent reset
  // aside, which falls through to max()).
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += bucket_count(i);
    if (seen < rank) continue;
    if (i == kOverflowBucket) return hi;
    const TimeNs lower = lower_bound(i), upper = upper_bound(i);
    return std::clamp(lower + (upper - lower + 1) / 2, std::min(lo, hi), hi);
  }
  return hi;
}

std::uint64_t LatencyHistogram::count_at_or_below(TimeNs bound_ns) const noexcept {
  std::size_t end = bucket_index(bound_ns);  // buckets [0, end) lie entirely at or below bound_ns
  if (end != kOverflowBucket && upper_bound(end) == bound_ns) ++end;
  if (bound_ns == std::numeric_limits<TimeNs>::max()) end = kBuckets;
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < end; ++i) n += bucket_count(i);
  return n;
}

}  // namespace poolreg
