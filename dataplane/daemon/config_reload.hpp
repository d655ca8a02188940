// Which configuration keys poolregd applies while running (SIGHUP, `poolctl reload`), and the
// plan for one reload: the running configuration with the changed live keys taken from the file,
// the other changed keys refused (they need a restart).
//
// Contract: pure functions over values (no logging, no I/O); the Application applies the plan
// on its event-loop thread. A key is live only when every component that reads it reads it
// again after the reload (the event-loop thread's AsapServer and Handlespace writers, the
// logger); copies held by other threads (the lanes) make a key restart-only.
#pragma once

#include <string_view>
#include <vector>

#include "config/config_diff.hpp"
#include "config/registrar_config.hpp"

namespace poolreg::daemon {

struct ReloadPlan {
  config::RegistrarConfig config;             // running configuration + the live keys changed
  std::vector<config::ConfigChange> applied;  // live keys that changed
  std::vector<config::ConfigChange> refused;  // other keys that changed: restart needed
};

// The live keys ("section.key"). With `resolutions_on_lanes` (the lanes answer Handle
// Resolutions with their own copy of the rate limit) asap.max_hr_rate / max_hr_burst are not.
std::vector<std::string_view> live_config_keys(bool resolutions_on_lanes);
bool is_live_config_key(std::string_view key, bool resolutions_on_lanes);

// `running` with every changed live key of `file`; the other changes listed as refused.
ReloadPlan plan_reload(const config::RegistrarConfig& running, const config::RegistrarConfig& file,
                       bool resolutions_on_lanes);

}  // namespace poolreg::daemon
