// LatencyHistogram: an HDR-style log-bucketed histogram of latencies in nanoseconds.
// Values are grouped by their most significant bit (power-of-two "exponent") and each power of two
// is split into 2^kSubBits linear sub-buckets, so every bucket is at most 1/32 (about 3 %) wide
// relative to its value, from 1 ns up to 2^63 ns, in a fixed array (no allocation while recording).
// min, max, count and sum are exact. Single-threaded (the poolgen loop thread).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>

namespace poolreg::poolgen {

class LatencyHistogram {
 public:
  static constexpr unsigned kSubBits = 5;
  static constexpr std::uint64_t kSub = 1ull << kSubBits;
  static constexpr std::size_t kBuckets = (64 - kSubBits + 1) * kSub;

  void record(std::int64_t value_ns) noexcept {
    const std::uint64_t v = value_ns < 0 ? 0 : static_cast<std::uint64_t>(value_ns);
    ++buckets_[index_of(v)];
    min_ = count_ == 0 ? v : std::min(min_, v);
    max_ = std::max(max_, v);
    sum_ += static_cast<double>(v);
    ++count_;
  }

  void merge(const LatencyHistogram& o) noexcept {
    if (o.count_ == 0) return;
    for (std::size_t i = 0; i < kBuckets; ++i) buckets_[i] += o.buckets_[i];
    min_ = count_ == 0 ? o.min_ : std::min(min_, o.min_);
    max_ = std::max(max_, o.max_);
    sum_ += o.sum_;
    count_ += o.count_;
  }

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t min() const noexcept { return min_; }
  std::uint64_t max() const noexcept { return max_; }
  double mean() const noexcept { return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_); }

  // Value at quantile q (0..1): the middle of the bucket holding the ceil(q * count)-th value,
  // clamped to [min, max]. 0 when empty.
  std::uint64_t percentile(double q) const noexcept {
    if (count_ == 0) return 0;
    q = std::clamp(q, 0.0, 1.0);
    const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += buckets_[i];
      if (seen >= rank) {
        const std::uint64_t lo = lower_bound(i);
        const std::uint64_t hi = lower_bound(i + 1);
        return std::clamp(lo + (hi - lo) / 2, min_, max_);
      }
    }
    return max_;
  }

  static std::size_t index_of(std::uint64_t v) noexcept {
    if (v < kSub) return static_cast<std::size_t>(v);
    const unsigned msb = 63u - static_cast<unsigned>(std::countl_zero(v));
    const unsigned shift = msb - kSubBits;
    return static_cast<std::size_t>((shift + 1) * kSub + ((v >> shift) - kSub));
  }
  // Smallest value that falls in bucket i (i == kBuckets: one past the largest).
  static std::uint64_t lower_bound(std::size_t i) noexcept {
    if (i < kSub) return i;
    if (i >= kBuckets) return ~0ull;
    const std::uint64_t shift = i / kSub - 1;
    return (kSub + i % kSub) << shift;
  }

 private:
  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t min_ = 0;
  std::uint64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace poolreg::poolgen
