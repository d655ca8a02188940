// The live keys of a reload, each with how it is copied from the file into the running config.
#include "dataplane/daemon/config_reload.hpp"

#include <array>

namespace poolreg::daemon {
namespace {

using config::RegistrarConfig;

struct LiveKey {
  std::string_view key;
  void (*copy)(RegistrarConfig& to, const RegistrarConfig& from);
  bool lanes_hold_a_copy;  // restart-only while the lanes answer resolutions
};

// What Application::Runtime::apply_live_config() hands on: the logger's level, the handlespace
// limits and AsapServer::apply_live_settings(). Keep the three in step.
constexpr std::array kLiveKeys{
    LiveKey{"registrar.log_level", [](RegistrarConfig& t, const RegistrarConfig& f) { t.registrar.log_level = f.registrar.log_level; }, false},
    LiveKey{"asap.keepalive_interval_ms", [](RegistrarConfig& t, const RegistrarConfig& f) { t.asap.keepalive_interval_ms = f.asap.keepalive_interval_ms; }, false},
    LiveKey{"asap.keepalive_timeout_ms", [](RegistrarConfig& t, const RegistrarConfig& f) { t.asap.keepalive_timeout_ms = f.asap.keepalive_timeout_ms; }, false},
    LiveKey{"asap.keepalive_on_lanes", [](RegistrarConfig& t, const RegistrarConfig& f) { t.asap.keepalive_on_lanes = f.asap.keepalive_on_lanes; }, false},
    LiveKey{"asap.association_idle_timeout_ms", [](RegistrarConfig& t, const RegistrarConfig& f) { t.asap.association_idle_timeout_ms = f.asap.association_idle_timeout_ms; }, false},
    LiveKey{"asap.deregister_hold_ms", [](RegistrarConfig& t, const RegistrarConfig& f) { t.asap.deregister_hold_ms = f.asap.deregister_hold_ms; }, false},
    LiveKey{"enrp.profile", [](RegistrarConfig& t, const RegistrarConfig& f) { t.enrp.profile = f.enrp.profile; }, false},
    LiveKey{"enrp.heartbeat_interval_ms", [](RegistrarConfig& t, const RegistrarConfig& f) { t.enrp.heartbeat_interval_ms = f.enrp.heartbeat_interval_ms; }, false},
    LiveKey{"enrp.max_time_last_heard_ms", [](RegistrarConfig& t, const RegistrarConfig& f) { t.enrp.max_time_last_heard_ms = f.enrp.max_time_last_heard_ms; }, false},
    LiveKey{"enrp.max_time_no_response_ms", [](RegistrarConfig& t, const RegistrarConfig& f) { t.enrp.max_time_no_response_ms = f.enrp.max_time_no_response_ms; }, false},
    LiveKey{"enrp.takeover_expiry_ms", [](RegistrarConfig& t, const RegistrarConfig& f) { t.enrp.takeover_expiry_ms = f.enrp.takeover_expiry_ms; }, false},
    LiveKey{"enrp.mentor_discovery_ms", [](RegistrarConfig& t, const RegistrarConfig& f) { t.enrp.mentor_discovery_ms = f.enrp.mentor_discovery_ms; }, false},
    LiveKey{"enrp.update_coalesce_ms", [](RegistrarConfig& t, const RegistrarConfig& f) { t.enrp.update_coalesce_ms = f.enrp.update_coalesce_ms; }, false},
    LiveKey{"enrp.transport_update_delay_ms", [](RegistrarConfig& t, const RegistrarConfig& f) { t.enrp.transport_update_delay_ms = f.enrp.transport_update_delay_ms; }, false},
    LiveKey{"enrp.peers", [](RegistrarConfig& t, const RegistrarConfig& f) { t.enrp.peers = f.enrp.peers; }, false},
    LiveKey{"asap.rebind_probe_ms", [](RegistrarConfig& t, const RegistrarConfig& f) { t.asap.rebind_probe_ms = f.asap.rebind_probe_ms; }, false},
    LiveKey{"asap.handover_hold_ms", [](RegistrarConfig& t, const RegistrarConfig& f) { t.asap.handover_hold_ms = f.asap.handover_hold_ms; }, false},
    LiveKey{"asap.max_hr_rate", [](RegistrarConfig& t, const RegistrarConfig& f) { t.asap.max_hr_rate = f.asap.max_hr_rate; }, true},
    LiveKey{"asap.max_hr_burst", [](RegistrarConfig& t, const RegistrarConfig& f) { t.asap.max_hr_burst = f.asap.max_hr_burst; }, true},
    LiveKey{"asap.max_eu_rate", [](RegistrarConfig& t, const RegistrarConfig& f) { t.asap.max_eu_rate = f.asap.max_eu_rate; }, false},
    LiveKey{"asap.max_eu_burst", [](RegistrarConfig& t, const RegistrarConfig& f) { t.asap.max_eu_burst = f.asap.max_eu_burst; }, false},
    LiveKey{"limits.max_pools", [](RegistrarConfig& t, const RegistrarConfig& f) { t.limits.max_pools = f.limits.max_pools; }, false},
    LiveKey{"limits.max_pes_per_pool", [](RegistrarConfig& t, const RegistrarConfig& f) { t.limits.max_pes_per_pool = f.limits.max_pes_per_pool; }, false},
    LiveKey{"limits.max_pes_total", [](RegistrarConfig& t, const RegistrarConfig& f) { t.limits.max_pes_total = f.limits.max_pes_total; }, false},
    LiveKey{"limits.max_addresses_per_pe", [](RegistrarConfig& t, const RegistrarConfig& f) { t.limits.max_addresses_per_pe = f.limits.max_addresses_per_pe; }, false},
    LiveKey{"limits.max_associations", [](RegistrarConfig& t, const RegistrarConfig& f) { t.limits.max_associations = f.limits.max_associations; }, false},
    LiveKey{"limits.max_pes_per_association", [](RegistrarConfig& t, const RegistrarConfig& f) { t.limits.max_pes_per_association = f.limits.max_pes_per_association; }, false},
    LiveKey{"limits.max_pes_per_address", [](RegistrarConfig& t, const RegistrarConfig& f) { t.limits.max_pes_per_address = f.limits.max_pes_per_address; }, false},
    LiveKey{"limits.max_associations_per_address", [](RegistrarConfig& t, const RegistrarConfig& f) { t.limits.max_associations_per_address = f.limits.max_associations_per_address; }, false},
    LiveKey{"limits.partial_frame_budget_bytes", [](RegistrarConfig& t, const RegistrarConfig& f) { t.limits.partial_frame_budget_bytes = f.limits.partial_frame_budget_bytes; }, false},
    LiveKey{"limits.first_message_timeout_ms", [](RegistrarConfig& t, const RegistrarConfig& f) { t.limits.first_message_timeout_ms = f.limits.first_message_timeout_ms; }, false},
};

const LiveKey* find_live(std::string_view key, bool resolutions_on_lanes) {
  for (const auto& k : kLiveKeys)
    if (k.key == key) return k.lanes_hold_a_copy && resolutions_on_lanes ? nullptr : &k;
  return nullptr;
}

}  // namespace

std::vector<std::string_view> live_config_keys(bool resolutions_on_lanes) {
  std::vector<std::string_view> keys;
  for (const auto& k : kLiveKeys)
    if (!(k.lanes_hold_a_copy && resolutions_on_lanes)) keys.push_back(k.key);
  return keys;
}

bool is_live_config_key(std::string_view key, bool resolutions_on_lanes) {
  return find_live(key, resolutions_on_lanes) != nullptr;
}

ReloadPlan plan_reload(const RegistrarConfig& running, const RegistrarConfig& file, bool resolutions_on_lanes) {
  ReloadPlan plan;
  plan.config = running;
  for (auto& change : config::diff_configs(running, file)) {
    if (const LiveKey* live = find_live(change.key, resolutions_on_lanes)) {
      live->copy(plan.config, file);
      plan.applied.push_back(std::move(change));
    } else {
      plan.refused.push_back(std::move(change));
    }
  }
  return plan;
}

}  // namespace poolreg::daemon
