// KeepAliveWatch / KeepAliveReport: the vocabulary of endpoint keep-alives monitored away from the
// ASAP server (issue 16 item 2: on the lane that runs the PE's SCTP association). AsapServer hands
// a PE over with a KeepAliveWatch (MessageOutput::watch_keepalives) and takes it back with
// unwatch_keepalives; what decides the PE's fate without an Ack comes back as a KeepAliveReport.
//
// ticket: chosen by AsapServer per hand-over (never 0). A report carries the ticket of the watch
// it ends, so a report that crossed a newer hand-over of the same PE (re-registration, rebind)
// on its way back is recognised as stale and ignored.
#pragma once

#include <cstdint>

#include "registrar/common/connection.hpp"
#include "registrar/common/ids.hpp"
#include "registrar/common/pool_handle.hpp"

namespace poolreg {

struct KeepAliveWatch {
  ConnectionId connection = kNoConnectionId;  // the association the PE is registered over
  PoolHandle handle;
  PoolElementId id = 0;
  std::uint32_t ticket = 0;
  bool next_gen = false;  // encode the Keep-Alives in next-gen mode (the association's last registration)
};

struct KeepAliveReport {
  enum class Kind : std::uint8_t {
    kTimedOut,  // a Keep-Alive went unanswered for keepalive_timeout (ASAP-KA-02 applies)
    kNotOurs,   // before a Keep-Alive: the PE is no longer ours over that association (dropped)
  };
  Kind kind = Kind::kTimedOut;
  ConnectionId connection = kNoConnectionId;
  PoolHandle handle;
  PoolElementId id = 0;
  std::uint32_t ticket = 0;
};

}  // namespace poolreg
