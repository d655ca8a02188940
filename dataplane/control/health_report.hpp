// HealthReport: is this registrar ready to serve? The checks behind `poolctl health` (exit 0 only
// when healthy) and the metrics listener's /readyz, each with a reason an operator can act on.
// Pure: built from a snapshot of the daemon's state, so it is tested without a daemon.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/control/command_registry.hpp"
#include "registrar/enrp/enrp_server.hpp"

namespace poolreg::control {

struct HealthInputs {
  std::vector<std::string> listeners;         // StatusInfo::listeners
  std::optional<bool> enrp_startup_complete;  // nullopt: ENRP off
  std::vector<enrp::PeerSnapshot> peers;      // empty with ENRP off or no peer known
};

struct HealthCheck {
  std::string name;  // "listening", "enrp_startup", "peers_in_sync"
  bool ok = false;
  std::string detail;
};

struct HealthReport {
  std::vector<HealthCheck> checks;
  bool healthy() const noexcept;
  // The details of the failed checks, in check order.
  std::vector<std::string> reasons() const;
};

// - listening: at least one ASAP/ENRP listener is open.
// - enrp_startup: the mentor's handle table arrived or the discovery window ran out (RFC 5353
//   initialization); ok when ENRP is off.
// - peers_in_sync: every peer heard from (alive or being probed) announced the checksum we compute
//   for its PEs and no handle-table sync with it is running. Peers never heard from and peers
//   presumed dead are listed in the detail but do not fail the check: their PEs are either with
//   us by takeover or with a registrar we cannot reach, and neither is fixed by not serving.
HealthReport evaluate_health(const HealthInputs& inputs);

// {"healthy":bool,"checks":[{"name","ok","detail"}...],"reasons":[...]}
json health_json(const HealthReport& report);

// The /readyz answer: ready, and "ready" or "not ready" followed by one reason per line.
std::pair<bool, std::string> readiness_text(const HealthReport& report);

}  // namespace poolreg::control
