// run_lane_commands: a lane executes what the control thread asked of its engine (lane_rings.hpp:
// send, connect, close, abort, keep-alive watches), the same on a DPDK poll lcore and a kernel lane thread.
// Bounded: at most `max` commands per call, so a flood of sends cannot starve the lane's packet input. Lane
// thread only.
#pragma once

#include <memory>
#include <span>

#include "dataplane/runtime/lane_keepalives.hpp"
#include "dataplane/runtime/lane_rings.hpp"
#include "dataplane/sctp/sctp_engine.hpp"

namespace poolreg::runtime {

// Returns the number of commands executed. keepalives: the lane's (null: keep-alive commands are dropped).
inline unsigned run_lane_commands(LaneRing& commands, sctp::SctpEngine& engine, unsigned max = 64,
                                  LaneKeepAlives* keepalives = nullptr) {
  void* batch[64];
  unsigned done = 0;
  while (done < max) {
    const unsigned want = max - done < 64 ? max - done : 64;
    const unsigned n = commands.pop_burst(batch, want);
    for (unsigned i = 0; i < n; ++i) {
      std::unique_ptr<LaneCommand> c(static_cast<LaneCommand*>(batch[i]));
      switch (c->kind) {
        case LaneCommand::Kind::kSend:
          engine.send(c->id, c->protocol, std::span<const std::uint8_t>(c->data, c->length));
          break;
        case LaneCommand::Kind::kConnect:
          engine.connect(c->id, c->protocol, c->addresses, c->port, c->udp_port);
          break;
        case LaneCommand::Kind::kClose:
          engine.close(c->id);
          break;
        case LaneCommand::Kind::kAbort:
          engine.abort(c->id);
          break;
        case LaneCommand::Kind::kWatchKeepAlives:
          if (keepalives != nullptr) keepalives->watch(c->watch);
          break;
        case LaneCommand::Kind::kUnwatchKeepAlives:
          if (keepalives != nullptr) keepalives->unwatch(c->id, c->watch.handle, c->watch.id);
          break;
        case LaneCommand::Kind::kKeepAliveTimers:
          if (keepalives != nullptr) keepalives->set_timers(c->interval, c->timeout);
          break;
      }
    }
    done += n;
    if (n < want) break;
  }
  return done;
}

}  // namespace poolreg::runtime
