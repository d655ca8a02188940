// The `capture` control command's arguments and result (poolctl capture; issue 15 item 4): an
// operator capture of the DPDK ports' traffic into a pcapng file written by poolregd. The
// control folder knows no backend: the daemon binds RegistrarBindings::capture to the DPDK
// backend's CaptureSession and leaves it empty on kernel sockets (the command then answers
// "unavailable" with what to use instead).
//
// Arguments (JSON object):
//   action       "start" | "stop" | "status" (default "status")
//   file         start: absolute path of a file poolregd creates (never overwritten)
//   ports        start: ethdev port ids (array; default every port)
//   lanes        start: lane indexes (array; default every lane)
//   snaplen      start: bytes kept per frame (default and maximum 2048)
//   count        start: stop after this many frames (0 / absent: no limit)
//   duration_ms  start: stop after this long (default 10000, at most 3600000)
// Result: {"active","file","frames","bytes","dropped","elapsed_ms","ended"} (ended: count,
// duration, stopped or write_error once a capture ended, "" before).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/control/command_registry.hpp"

namespace poolreg::control {

struct CaptureRequest {
  enum class Action : std::uint8_t { kStatus, kStart, kStop };
  Action action = Action::kStatus;
  std::string file;
  std::vector<std::uint16_t> ports;
  std::vector<std::uint32_t> lanes;
  std::uint32_t snaplen = 2048;
  std::uint64_t count = 0;
  std::uint64_t duration_ms = 10'000;
};

struct CaptureState {
  bool active = false;
  std::string file;
  std::uint64_t frames = 0;
  std::uint64_t bytes = 0;
  std::uint64_t dropped = 0;
  std::uint64_t elapsed_ms = 0;
  std::string ended;
};

// Throws CommandError(bad_request) naming the argument that is wrong.
CaptureRequest parse_capture_request(const json& args);
json capture_state_json(const CaptureState& state);

}  // namespace poolreg::control
