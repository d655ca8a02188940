// LatencyHistogram: a fixed log2 histogram of durations (handle resolution latency), cheap enough
// to feed from the message path: record() is a few integer operations, no allocation.
//
// Buckets: upper bounds 1 us, 2 us, 4 us, ... 2^20 us (about 1.05 s), plus +Inf. A sample goes to
// the first bucket whose bound is >= the sample (Prometheus "le" semantics).
//
// Contract: plain integers, one writer thread (the daemon's event loop feeds it, e.g. the time
// from receiving a Handle Resolution to handing its response to the transport); readers on the
// same thread (control commands, metrics) — other threads must copy it through the loop.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "dataplane/control/command_registry.hpp"
#include "registrar/common/clock.hpp"

namespace poolreg::control {

class LatencyHistogram {
 public:
  static constexpr std::size_t kFiniteBuckets = 21;  // 2^0 .. 2^20 microseconds

  void record(TimeNs duration) noexcept;
  void reset() noexcept { *this = LatencyHistogram{}; }

  std::uint64_t count() const noexcept { return count_; }
  TimeNs sum() const noexcept { return sum_; }  // nanoseconds
  // Upper bound of finite bucket i in nanoseconds (1000 << i).
  static constexpr TimeNs bound(std::size_t i) noexcept { return static_cast<TimeNs>(1000) << i; }
  // Samples in bucket i (not cumulative); i == kFiniteBuckets is the +Inf overflow bucket.
  std::uint64_t bucket(std::size_t i) const noexcept { return buckets_[i]; }
  // Estimated q-quantile (0..1) in nanoseconds by linear interpolation inside the bucket;
  // 0 when empty. Samples in the overflow bucket read as the largest finite bound.
  TimeNs quantile(double q) const noexcept;

 private:
  std::array<std::uint64_t, kFiniteBuckets + 1> buckets_{};
  std::uint64_t count_ = 0;
  TimeNs sum_ = 0;
};

// {"unit":"ns","count":N,"sum_ns":S,"p50_ns":..,"p90_ns":..,"p99_ns":..,
//  "buckets":[{"le_ns":1000,"count":cumulative},...,{"le_ns":null,"count":N}]}
json histogram_json(const LatencyHistogram& histogram);

}  // namespace poolreg::control
