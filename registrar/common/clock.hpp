// Clock: the only way registrar/ code learns the time, so protocol logic runs on a fake clock in tests.
#pragma once

#include <chrono>
#include <cstdint>

namespace poolreg {

// Monotonic nanoseconds since an arbitrary epoch.
using TimeNs = std::uint64_t;
inline constexpr TimeNs kNsPerMs = 1'000'000;
inline constexpr TimeNs kNsPerSec = 1'000'000'000;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeNs now() const noexcept = 0;
};

class SteadyClock final : public Clock {
 public:
  TimeNs now() const noexcept override {
    return static_cast<TimeNs>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
  }
};

// Manually advanced clock for tests and simulations.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimeNs start = 0) : now_(start) {}
  TimeNs now() const noexcept override { return now_; }
  void advance(TimeNs delta) noexcept { now_ += delta; }
  void set(TimeNs t) noexcept { now_ = t; }

 private:
  TimeNs now_;
};

}  // namespace poolreg
