// Final report (JSON and human summary) and the live progress display of a poolgen run.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "perf/poolgen/poolgen_config.hpp"
#include "perf/poolgen/run_stats.hpp"
#include "perf/poolgen/verdict.hpp"

namespace poolreg::poolgen {

// The report of a finished run, with its verdict (warnings, rate checks, gates, exit code).
nlohmann::json report_json(const PoolgenConfig& config, const RunStats& stats, const Verdict& verdict);
std::string report_text(const PoolgenConfig& config, const RunStats& stats, const Verdict& verdict);

// Once a second: an in-place ANSI block on a terminal, one plain line otherwise. Rates and
// percentiles are those of the second that just ended (RunStats::window), not cumulative.
class ProgressDisplay {
 public:
  ProgressDisplay(const PoolgenConfig& config, bool ansi, std::FILE* out) : config_(config), ansi_(ansi), out_(out) {}
  void update(const RunStats& stats, double elapsed_s, bool final);

 private:
  const PoolgenConfig& config_;
  bool ansi_;
  std::FILE* out_;
  RunCounters last_{};
  double last_elapsed_ = 0;
  int lines_drawn_ = 0;
};

}  // namespace poolreg::poolgen
