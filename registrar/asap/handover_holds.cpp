#include "registrar/asap/handover_holds.hpp"

#include <algorithm>

namespace poolreg::asap {

void HandoverHolds::hold(ConnectionId connection, TimeNs until) {
  // upper_bound: equal deadlines keep their arrival order.
  const auto at = std::upper_bound(holds_.begin(), holds_.end(), until,
                                   [](TimeNs t, const Hold& h) { return t < h.until; });
  holds_.insert(at, Hold{until, connection});
}

void HandoverHolds::take_due(TimeNs now, std::vector<ConnectionId>& out) {
  while (!holds_.empty() && holds_.front().until <= now) {
    out.push_back(holds_.front().connection);
    holds_.pop_front();
  }
}

bool HandoverHolds::contains(ConnectionId connection) const noexcept {
  return std::any_of(holds_.begin(), holds_.end(), [&](const Hold& h) { return h.connection == connection; });
}

std::optional<TimeNs> HandoverHolds::next_due() const noexcept {
  if (holds_.empty()) return std::nullopt;
  return holds_.front().until;
}

}  // namespace poolreg::asap
