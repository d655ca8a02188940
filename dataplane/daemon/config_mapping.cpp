// RegistrarConfig -> HandlespaceConfig / AsapConfig / EnrpConfig.
#include "dataplane/daemon/config_mapping.hpp"

#include <algorithm>

namespace poolreg::daemon {
namespace {

TimeNs ms(std::uint32_t v) noexcept { return static_cast<TimeNs>(v) * kNsPerMs; }

}  // namespace

bool is_unspecified(const IpAddress& a) noexcept {
  return std::all_of(a.data(), a.data() + a.size(), [](std::uint8_t b) { return b == 0; });
}

std::vector<std::uint16_t> native_sctp_ports(const config::RegistrarConfig& c) {
  std::vector<std::uint16_t> ports;
  if (c.asap.sctp && c.asap.sctp_native) ports.push_back(c.asap.sctp_port);
  if (c.enrp.enabled && c.enrp.sctp_native) ports.push_back(c.enrp.sctp_port);
  return ports;
}

std::vector<IpAddress> bind_addresses(const std::vector<IpAddress>& configured) {
  if (std::any_of(configured.begin(), configured.end(), is_unspecified)) return {};
  return configured;
}

handlespace::HandlespaceConfig to_handlespace_config(const config::RegistrarConfig& c, unsigned cpu_count) {
  handlespace::HandlespaceConfig h;
  std::size_t shards = c.registrar.shards != 0 ? c.registrar.shards : std::max(1u, cpu_count);
  h.shard_count = std::clamp<std::size_t>(shards, 1, 64);
  h.limits.max_pools = c.limits.max_pools;
  h.limits.max_pes_per_pool = c.limits.max_pes_per_pool;
  h.limits.max_pes_total = c.limits.max_pes_total;
  h.limits.max_addresses_per_pe = c.limits.max_addresses_per_pe;
  h.limits.reject_short_id_collisions = c.registrar.mode == config::WireMode::kNextgen;
  return h;
}

asap::AsapConfig to_asap_config(const config::RegistrarConfig& c, RegistrarId id) {
  asap::AsapConfig a;
  a.registrar_id = id;
  a.next_gen = c.registrar.mode == config::WireMode::kNextgen;
  a.keepalive_interval = ms(c.asap.keepalive_interval_ms);
  a.keepalive_timeout = ms(c.asap.keepalive_timeout_ms);
  a.keepalive_on_lanes = c.asap.keepalive_on_lanes;
  a.keepalive_batch = c.asap.keepalive_batch;
  a.max_bad_pe_reports = c.asap.max_bad_pe_reports;
  a.hr_default_items = c.asap.handle_resolution_items;
  a.hr_max_items = c.asap.handle_resolution_max_items;
  a.max_increment = c.asap.max_increment;
  a.min_address_scope = c.asap.min_address_scope;
  a.address_check = c.asap.address_check;
  a.hr_rate_limit = asap::RateLimit{c.asap.max_hr_rate, static_cast<double>(c.asap.max_hr_burst)};
  a.eu_rate_limit = asap::RateLimit{c.asap.max_eu_rate, static_cast<double>(c.asap.max_eu_burst)};
  a.max_pool_handle = c.limits.max_pool_handle_bytes;
  a.max_addresses = c.limits.max_addresses_per_pe;
  a.max_message = c.asap.max_message_bytes;
  a.max_associations = c.limits.max_associations;
  a.max_pes_per_association = c.limits.max_pes_per_association;
  a.max_pes_per_address = c.limits.max_pes_per_address;
  a.max_associations_per_address = c.limits.max_associations_per_address;
  a.association_idle_timeout = ms(c.asap.association_idle_timeout_ms);
  a.first_message_timeout = ms(c.limits.first_message_timeout_ms);
  a.deregister_hold = ms(c.asap.deregister_hold_ms);
  a.rebind_probe = ms(c.asap.rebind_probe_ms);
  a.handover_hold = ms(c.asap.handover_hold_ms);
  a.distance_step_ms = c.asap.distance_step_ms;  // DPF distances: SRTT/2 rounded to it
  return a;
}

enrp::EnrpConfig to_enrp_config(const config::RegistrarConfig& c, RegistrarId id, std::uint16_t enrp_sctp_port,
                                std::uint16_t enrp_tcp_port) {
  enrp::EnrpConfig e;
  e.own_id = id;
  const auto& listen = c.enrp.listen.empty() ? c.asap.listen : c.enrp.listen;
  e.own_endpoint.protocol = c.enrp.tcp ? TransportProtocol::kTcp : TransportProtocol::kSctp;
  e.own_endpoint.port = c.enrp.tcp ? enrp_tcp_port : enrp_sctp_port;
  e.own_endpoint.use = TransportUse::kDataPlusControl;
  for (const auto& a : listen)
    if (!is_unspecified(a)) e.own_endpoint.addresses.push_back(a);
  if (c.enrp.tcp && e.own_endpoint.addresses.size() > 1) e.own_endpoint.addresses.resize(1);
  e.next_gen = c.registrar.mode == config::WireMode::kNextgen;
  e.heartbeat_interval = ms(c.enrp.heartbeat_interval_ms);
  e.max_time_last_heard = ms(c.enrp.max_time_last_heard_ms);
  e.max_time_no_response = ms(c.enrp.max_time_no_response_ms);
  e.takeover_expiry = ms(c.enrp.takeover_expiry_ms);
  e.mentor_discovery = ms(c.enrp.mentor_discovery_ms);
  e.max_elements_per_response = c.enrp.max_elements_per_handle_table_response;
  e.max_response_bytes = c.enrp.max_handle_table_response_bytes;
  e.max_message_bytes = c.asap.max_message_bytes;
  e.max_pool_handle_bytes = c.limits.max_pool_handle_bytes;
  e.takeover_suggestion = c.enrp.takeover_suggestion;
  e.update_coalesce = ms(c.enrp.update_coalesce_ms);
  e.transport_update_delay = ms(c.enrp.transport_update_delay_ms);
  e.distance_step_ms = c.asap.distance_step_ms;  // the hop to a peer, rounded as the home rounds
  e.multicast = c.enrp.multicast;
  // Multicast discovery needs unknown peers to join.
  e.allow_dynamic_peers = c.enrp.allow_dynamic_peers || c.enrp.multicast;
  for (const auto& p : c.enrp.peers) {
    enrp::EnrpStaticPeer s;
    s.id = p.id;
    s.endpoint.protocol = c.enrp.tcp ? TransportProtocol::kTcp : TransportProtocol::kSctp;
    s.endpoint.port = p.address.port;
    s.endpoint.use = TransportUse::kDataPlusControl;
    s.endpoint.addresses.push_back(p.address.address);
    e.static_peers.push_back(std::move(s));
  }
  return e;
}

}  // namespace poolreg::daemon
