// `poolctl events`: the registrar's live event stream (the control command `events`,
// dataplane/control/README.md). Prints one line per event (time, kind, pool, PE ID, home,
// transport, cause) or, with --json, every object as received, until --count events arrived,
// --timeout-ms ran out, the daemon closed the stream, Ctrl-C / SIGTERM, or stdout went away
// (SIGPIPE is ignored while it runs: a closed pipe ends it quietly with exit 0).
//
// Exit codes as the other commands: 0 done; 1 the daemon refused the subscription, or --count
// was not reached within --timeout-ms; 2 usage error (unknown kind, bad pool handle); 3 the
// daemon cannot be reached or closed the stream.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace poolreg::poolctl {

struct EventsOptions {
  std::string socket_path;
  std::vector<std::string> pools;  // as typed (validated by run_events: exit 2 when malformed)
  std::vector<std::string> kinds;  // kind names or families (pe, pool, peer, takeover, audit, all)
  std::uint64_t count = 0;         // 0 = until stopped
  std::uint64_t timeout_ms = 0;    // 0 = no time limit
  int connect_timeout_ms = 5000;   // connecting and the subscription's answer
  bool json_lines = false;
};

int run_events(const EventsOptions& options, std::ostream& out, std::ostream& err);

// One event object (or {"kind":"dropped","count":N}) as a line of text, without '\n'.
std::string render_event_line(const nlohmann::json& event);

}  // namespace poolreg::poolctl
