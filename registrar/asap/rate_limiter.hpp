// TokenBucket: per-association rate limit for Handle Resolution and Endpoint Unreachable
// (SEC-01; RSPLIB MaxHRRate / MaxEURate, off by default). Single-threaded (event loop).
#pragma once

#include <algorithm>
#include <cstdint>

#include "registrar/common/clock.hpp"

namespace poolreg::asap {

// rate_per_second 0 (or negative) = unlimited. burst = bucket depth in messages (at least 1
// when limited; 0 is read as "rate, rounded up, but at least 1").
struct RateLimit {
  double rate_per_second = 0.0;
  double burst = 0.0;
  bool enabled() const noexcept { return rate_per_second > 0.0; }
  double depth() const noexcept {
    if (burst >= 1.0) return burst;
    return std::max(1.0, rate_per_second);
  }
};

class TokenBucket {
 public:
  TokenBucket() = default;
  // A new bucket starts full.
  TokenBucket(const RateLimit& limit, TimeNs now) noexcept
      : tokens_(limit.enabled() ? limit.depth() : 0.0), last_(now) {}

  // Takes one token; false = over the limit. Always true when the limit is disabled.
  bool try_take(const RateLimit& limit, TimeNs now) noexcept {
    if (!limit.enabled()) return true;
    if (now > last_) {
      const double elapsed_s = static_cast<double>(now - last_) / static_cast<double>(kNsPerSec);
      tokens_ = std::min(limit.depth(), tokens_ + elapsed_s * limit.rate_per_second);
      last_ = now;
    }
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

  double tokens() const noexcept { return tokens_; }

 private:
  double tokens_ = 0.0;
  TimeNs last_ = 0;
};

}  // namespace poolreg::asap
