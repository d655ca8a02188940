// `poolctl capture`: an operator capture of poolregd's DPDK port traffic into a pcapng file that
// poolregd writes (control commands `capture` and `capture-status`, dataplane/control/
// capture_command.hpp). Starts the capture and, unless --no-wait, polls its progress until it
// ends (--count frames, --duration-ms, or `poolctl capture --stop` from elsewhere), then prints
// the file, frames, bytes, drops and why it ended. poolregd ends every capture by itself at its
// duration, so an interrupted poolctl leaves nothing running for long.
//
// Exit codes as the other commands: 0 done; 1 poolregd refused (no DPDK backend, a capture
// already running, the file exists or cannot be created, a bad port/lane) or writing failed;
// 2 usage error; 3 poolregd unreachable.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace poolreg::poolctl {

struct CaptureOptions {
  std::string socket_path;
  int timeout_ms = 5000;  // per control call
  bool json_output = false;
  enum class Mode : std::uint8_t { kStart, kStop, kStatus } mode = Mode::kStart;
  std::string file;  // relative paths are made absolute here: poolregd has another working directory
  std::vector<std::uint16_t> ports;
  std::vector<std::uint32_t> lanes;
  std::uint32_t snaplen = 2048;
  std::uint64_t count = 0;
  std::uint64_t duration_ms = 10'000;
  bool wait = true;
  int poll_interval_ms = 200;
};

int run_capture(const CaptureOptions& options, std::ostream& out, std::ostream& err);

// "capture /tmp/x.pcapng: 12 frames, 1840 bytes, 0 dropped, 1.204 s, ended: count\n"
// (or "... running" while active, "no capture yet" before the first).
std::string render_capture(const nlohmann::json& state);

}  // namespace poolreg::poolctl
