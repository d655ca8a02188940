// EventStreamCounters: what the live event stream (EventHub, poolctl events) did, for `stats`
// ("events") and /metrics (poolreg_events_*_total, poolreg_event_subscribers).
#pragma once

#include <cstdint>

namespace poolreg::control {

struct EventStreamCounters {
  std::uint64_t subscribers = 0;    // now
  std::uint64_t subscriptions = 0;  // since start
  std::uint64_t events = 0;         // events the registrar published to the hub
  std::uint64_t lines_queued = 0;   // event lines queued to subscribers
  std::uint64_t dropped = 0;        // event lines dropped: a subscriber's queue was full
};

}  // namespace poolreg::control
