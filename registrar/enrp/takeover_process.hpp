// TakeoverProcess: our own attempt to take over a dead peer's PEs (enrp.md 4.7).
// Owned by TakeoverCoordinator (one per target); single-threaded.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "registrar/common/clock.hpp"
#include "registrar/common/ids.hpp"

namespace poolreg::enrp {

struct TakeoverProcess {
  RegistrarId target = 0;
  // Peers whose Init Takeover Ack is still missing (every known live peer except the target,
  // ourselves and ID 0 at start).
  std::vector<RegistrarId> outstanding;
  TimeNs started_at = 0;
  TimeNs expires_at = 0;  // TAKEOVER-EXPIRY: finish anyway (RSPSIM "assume consent")

  // Returns true when `from` was outstanding.
  bool acknowledge(RegistrarId from) {
    auto it = std::find(outstanding.begin(), outstanding.end(), from);
    if (it == outstanding.end()) return false;
    outstanding.erase(it);
    return true;
  }
  bool complete() const noexcept { return outstanding.empty(); }
};

// What takeover_status() reports for the control socket.
struct TakeoverStatus {
  RegistrarId target = 0;
  bool ours = false;                  // our own process (else: a foreign taker we acked)
  RegistrarId taker = 0;              // ours: own ID
  std::vector<RegistrarId> outstanding;  // ours only
  TimeNs expires_at = 0;              // ours only
};

// One takeover we won, for the operator's log (TakeoverCoordinator::recent_wins()).
struct WonTakeover {
  std::uint64_t number = 0;  // the takeovers_won count it made (1, 2, ...)
  RegistrarId target = 0;    // the dead peer
  std::size_t pes = 0;       // PEs that became ours
  TimeNs at = 0;
};

}  // namespace poolreg::enrp
