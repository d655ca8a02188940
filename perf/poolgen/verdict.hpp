// Verdict of a poolgen run: what a reader must be warned about (resolutions that were due but never
// sent, achieved rates below 95 % of their target), the SLO gates (--max-p99-ms OP=MS,
// --min-rate-ratio R) and the exit code that follows from them and from the run's errors.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "perf/poolgen/poolgen_config.hpp"
#include "perf/poolgen/run_stats.hpp"
#include "registrar/common/expected.hpp"

namespace poolreg::poolgen {

// poolgen's exit codes (also in --help and perf/poolgen/README.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;        // usage or set-up error
inline constexpr int kExitErrors = 2;       // the run counted errors (they win over a gate)
inline constexpr int kExitGateFailed = 3;   // no errors, but an SLO gate failed

// Below this share of its target an achieved rate is warned about.
inline constexpr double kRateWarningRatio = 0.95;

// "OP=MS", OP a report name (registration, reregistration, deregistration, resolution,
// resolution_raw, move_to_visible) or a verb (register, reregister/move, deregister, resolve,
// resolve_raw, m2v); MS > 0. The error names what is wrong.
Expected<LatencyGate, std::string> parse_latency_gate(std::string_view text);

// Achieved against target for each operation that has a target rate in this run: resolutions
// (pus > 0 and resolve_rate > 0) and the registration ramp when it is planned to last >= 1 s (a
// shorter ramp is mostly answer latency, not rate).
struct RateCheck {
  std::string operation;
  double target_per_s = 0;
  double achieved_per_s = 0;
  double ratio = 0;  // achieved / target
};
std::vector<RateCheck> rate_checks(const PoolgenConfig& config, const RunStats& stats);

struct GateResult {
  std::string gate;    // "p99(resolution) <= 2 ms", "rate ratio >= 0.9"
  bool passed = false;
  std::string detail;  // the measured figure, or why it could not be measured
};

struct Verdict {
  std::vector<std::string> warnings;
  std::vector<RateCheck> rates;
  std::vector<GateResult> gates;
  int exit_code = kExitOk;
};

Verdict judge(const PoolgenConfig& config, const RunStats& stats);

}  // namespace poolreg::poolgen
