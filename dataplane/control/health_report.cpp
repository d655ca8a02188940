#include "dataplane/control/health_report.hpp"

#include <algorithm>

#include "dataplane/control/operator_arguments.hpp"

namespace poolreg::control {
namespace {

std::string id_list(const std::vector<std::string>& ids) {
  std::string text;
  for (const std::string& id : ids) text += (text.empty() ? "" : ", ") + id;
  return text;
}

HealthCheck peers_check(const std::vector<enrp::PeerSnapshot>& peers) {
  std::vector<std::string> out_of_sync, syncing, unheard, dead;
  std::size_t live = 0;
  for (const enrp::PeerSnapshot& p : peers) {
    const std::string id = format_id(p.id != 0 ? p.id : p.last_id);
    switch (p.state) {
      case enrp::PeerState::kUnknown:
        unheard.push_back(id);
        break;
      case enrp::PeerState::kDead:
        dead.push_back(id);
        break;
      case enrp::PeerState::kAlive:
      case enrp::PeerState::kProbing:
        ++live;
        if (p.sync_running) {
          syncing.push_back(id);
        } else if (!p.in_sync) {
          out_of_sync.push_back(id);
        }
        break;
    }
  }
  HealthCheck c{"peers_in_sync", out_of_sync.empty() && syncing.empty(), ""};
  if (!out_of_sync.empty()) c.detail = "checksum differs from peer(s) " + id_list(out_of_sync) + " (poolctl audit)";
  if (!syncing.empty())
    c.detail += (c.detail.empty() ? "" : "; ") + std::string("handle table sync running with ") + id_list(syncing);
  if (c.ok) c.detail = peers.empty() ? "no ENRP peers" : std::to_string(live) + " live peer(s) in sync";
  if (!unheard.empty()) c.detail += "; never heard from: " + id_list(unheard);
  if (!dead.empty()) c.detail += "; presumed dead: " + id_list(dead);
  return c;
}

}  // namespace

bool HealthReport::healthy() const noexcept {
  return std::all_of(checks.begin(), checks.end(), [](const HealthCheck& c) { return c.ok; });
}

std::vector<std::string> HealthReport::reasons() const {
  std::vector<std::string> r;
  for (const HealthCheck& c : checks)
    if (!c.ok) r.push_back(c.name + ": " + c.detail);
  return r;
}

HealthReport evaluate_health(const HealthInputs& inputs) {
  HealthReport report;
  report.checks.push_back({"listening", !inputs.listeners.empty(),
                           inputs.listeners.empty() ? "no listener is open"
                                                    : std::to_string(inputs.listeners.size()) + " listener(s)"});
  if (!inputs.enrp_startup_complete) {
    report.checks.push_back({"enrp_startup", true, "ENRP off"});
  } else {
    report.checks.push_back({"enrp_startup", *inputs.enrp_startup_complete,
                             *inputs.enrp_startup_complete
                                 ? "start-up complete"
                                 : "waiting for the mentor's handle table or the end of the discovery window"});
  }
  report.checks.push_back(peers_check(inputs.peers));
  return report;
}

std::pair<bool, std::string> readiness_text(const HealthReport& report) {
  if (report.healthy()) return {true, "ready"};
  std::string text = "not ready";
  for (const std::string& reason : report.reasons()) text += "\n" + reason;
  return {false, text};
}

json health_json(const HealthReport& report) {
  json checks = json::array();
  for (const HealthCheck& c : report.checks) checks.push_back({{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}});
  return {{"healthy", report.healthy()}, {"checks", std::move(checks)}, {"reasons", report.reasons()}};
}

}  // namespace poolreg::control
