// `poolctl watch`: a live, top-like view of the registrar (status line, rates per second from
// counter deltas, resolution latency, pools sorted by PE count), refreshed every interval.
//
// Interactive mode (a terminal): raw keyboard input, alternate screen, hidden cursor, plain ANSI
// escape codes; 'q' or Ctrl-C (SIGINT) / SIGTERM quits, and the terminal is restored on every
// exit path. Non-interactive mode (pipes, tests): frames are printed one after another without
// escape codes. `count` > 0 stops after that many frames.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

namespace poolreg::poolctl {

struct WatchOptions {
  std::string socket_path;
  double interval_s = 1.0;
  std::uint64_t count = 0;  // 0 = until 'q' / Ctrl-C
  int timeout_ms = 5000;
  bool interactive = false;
  bool json_lines = false;  // --json: one JSON object per frame and line, no text frame
};

// Handle Resolution latency of one interval: the difference of two `stats` resolution_latency
// objects' fine buckets. Quantiles are the upper edge of the bucket holding the nearest rank
// (at most one bucket width, about 3 %, above the true value). count 0: no sample in between.
struct WindowLatency {
  std::uint64_t count = 0;
  std::uint64_t p50_ns = 0, p90_ns = 0, p99_ns = 0, max_ns = 0;
};
WindowLatency window_latency(const nlohmann::json& now, const nlohmann::json* before);

// One frame as a JSON object (--json): time, interval, summary counts, per-second rates (null
// on the first frame), window and cumulative latency, pools (handle, pe_count).
nlohmann::json watch_frame_json(const nlohmann::json& status, const nlohmann::json& pools, const nlohmann::json& stats,
                                const nlohmann::json* previous_stats, double elapsed_s);

int run_watch(const WatchOptions& options, std::ostream& out, std::ostream& err);

// One frame as text (rows/columns: terminal size; columns 0 = do not cut lines, for pipes).
// previous_stats may be null (first frame).
std::string render_watch_frame(const nlohmann::json& status, const nlohmann::json& pools, const nlohmann::json& stats,
                               const nlohmann::json* previous_stats, const nlohmann::json* previous_pools,
                               double elapsed_s, double interval_s, int rows, int columns);

}  // namespace poolreg::poolctl
