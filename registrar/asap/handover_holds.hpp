// HandoverHolds: lost associations whose PEs are held (asap.handover_hold_ms, issue 14 item 3)
// and when each hold ends. The PEs themselves are marked in the handlespace
// (Handlespace::hold_association); this only remembers which association to tear down when.
//
// Contract: single-threaded (the registrar event loop that drives AsapServer); time comes in as
// arguments. One entry per lost association that had PEs (associations number thousands), so a
// sorted deque is enough: a hold is appended in O(1) when deadlines come in order (a constant
// hold time) and inserted in order otherwise (a reload changed the hold time).
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <vector>

#include "registrar/common/clock.hpp"
#include "registrar/common/connection.hpp"

namespace poolreg::asap {

class HandoverHolds {
 public:
  // The PEs of `connection` are held until `until`.
  void hold(ConnectionId connection, TimeNs until);
  // Appends the associations whose hold ended at `now` (deadline <= now), earliest first, and
  // forgets them.
  void take_due(TimeNs now, std::vector<ConnectionId>& out);
  // The earliest deadline, nullopt when nothing is held.
  std::optional<TimeNs> next_due() const noexcept;
  // Whether `connection`'s PEs are held (O(holds): only on association loss).
  bool contains(ConnectionId connection) const noexcept;
  bool empty() const noexcept { return holds_.empty(); }
  std::size_t size() const noexcept { return holds_.size(); }

 private:
  struct Hold {
    TimeNs until = 0;
    ConnectionId connection = kNoConnectionId;
  };
  std::deque<Hold> holds_;  // by deadline, earliest first
};

}  // namespace poolreg::asap
