// TimeseriesWriter: poolgen --timeseries FILE, one JSON object per line for every second of the run
// (JSON Lines; fields in perf/poolgen/README.md, "Timeseries"): achieved rates of that second,
// targets, p50/p99/p99.9 of the samples of that second only (RunStats::window), errors, skipped
// resolutions. perf/poolgen/poolgen-plot draws it.
// Contract: loop thread only (called from LoadDriver's one-second timer).
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "perf/poolgen/poolgen_config.hpp"
#include "perf/poolgen/run_stats.hpp"
#include "registrar/common/expected.hpp"

namespace poolreg::poolgen {

class TimeseriesWriter {
 public:
  // Creates (truncates) the file; the error names it when it cannot be written.
  static Expected<std::unique_ptr<TimeseriesWriter>, std::string> open(const std::string& path,
                                                                      const PoolgenConfig& config);

  // The line of the second that ended at t_s (seconds since the start) from the counters'
  // change since the previous line and the window histograms. False when the write failed.
  bool write_second(const RunStats& stats, double t_s, std::string_view phase);

 private:
  nlohmann::json line(const RunStats& stats, double t_s, std::string_view phase) const;
  TimeseriesWriter(std::ofstream out, const PoolgenConfig& config) : out_(std::move(out)), config_(config) {}

  std::ofstream out_;
  const PoolgenConfig& config_;
  RunCounters last_{};
  std::uint64_t last_errors_ = 0;
  double last_t_s_ = 0;
};

}  // namespace poolreg::poolgen
