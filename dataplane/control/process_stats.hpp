// ProcessStats: the daemon's own CPU, memory and descriptor use, read from /proc/self, for the
// Prometheus process_* metrics every exporter carries (process_cpu_seconds_total,
// process_resident_memory_bytes, ...) and the `process` object of `poolctl stats`.
// Control thread; a scrape reads three small /proc files and counts /proc/self/fd.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace poolreg::control {

struct ProcessStats {
  double cpu_seconds = 0;          // user + system
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double start_time_seconds = 0;   // since the Unix epoch
  std::uint64_t threads = 0;
  std::uint64_t open_fds = 0;
  std::uint64_t max_fds = 0;       // RLIMIT_NOFILE soft limit
};

// The fields of /proc/<pid>/stat this needs (proc(5); the command name in parentheses may hold
// spaces and parentheses, so fields are counted after its last ')').
struct ProcStat {
  std::uint64_t utime_ticks = 0;      // field 14
  std::uint64_t stime_ticks = 0;      // field 15
  std::uint64_t threads = 0;          // field 20
  std::uint64_t starttime_ticks = 0;  // field 22: since boot
  std::uint64_t vsize_bytes = 0;      // field 23
  std::uint64_t rss_pages = 0;        // field 24
};
std::optional<ProcStat> parse_proc_stat(std::string_view text);

// nullopt when /proc is not readable.
std::optional<ProcessStats> read_process_stats();

}  // namespace poolreg::control
