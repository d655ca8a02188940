#include "dataplane/control/latency_histogram.hpp"

#include <bit>

namespace poolreg::control {

void LatencyHistogram::record(TimeNs duration) noexcept {
  const std::uint64_t us = (duration + 999) / 1000;
  std::size_t index = us <= 1 ? 0 : static_cast<std::size_t>(std::bit_width(us - 1));
  if (index > kFiniteBuckets) index = kFiniteBuckets;
  ++buckets_[index];
  ++count_;
  sum_ += duration;
}

TimeNs LatencyHistogram::quantile(double q) const noexcept {
  if (count_ == 0) return 0;
  if (q < 0) q = 0;
  if (q > 1) q = 1;
  const double rank = q * static_cast<double>(count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i <= kFiniteBuckets; ++i) {
    if (buckets_[i] == 0) continue;
    if (static_cast<double>(seen + buckets_[i]) >= rank) {
      if (i == kFiniteBuckets) return bound(kFiniteBuckets - 1);
      const double lower = i == 0 ? 0.0 : static_cast<double>(bound(i - 1));
      const double upper = static_cast<double>(bound(i));
      const double fraction = (rank - static_cast<double>(seen)) / static_cast<double>(buckets_[i]);
      return static_cast<TimeNs>(lower + (upper - lower) * fraction);
    }
    seen += buckets_[i];
  }
  return bound(kFiniteBuckets - 1);
}

json histogram_json(const LatencyHistogram& histogram) {
  json buckets = json::array();
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < LatencyHistogram::kFiniteBuckets; ++i) {
    cumulative += histogram.bucket(i);
    buckets.push_back({{"le_ns", LatencyHistogram::bound(i)}, {"count", cumulative}});
  }
  buckets.push_back({{"le_ns", nullptr}, {"count", histogram.count()}});
  return {{"unit", "ns"},
          {"count", histogram.count()},
          {"sum_ns", histogram.sum()},
          {"p50_ns", histogram.quantile(0.5)},
          {"p90_ns", histogram.quantile(0.9)},
          {"p99_ns", histogram.quantile(0.99)},
          {"buckets", std::move(buckets)}};
}

}  // namespace poolreg::control
