// The one list of every configuration key: section, name, C++ field, allowed range or names.
// Internal to config/: the TOML reader, the range validator and the TOML writer all walk this
// list, so a key added here is read, checked and dumped at once.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include "config/registrar_config.hpp"

namespace poolreg::config::schema {

template <typename E>
struct Choice {
  std::string_view name;
  E value;
};

inline constexpr std::array<Choice<WireMode>, 2> kWireModes{
    {{"rfc", WireMode::kRfc}, {"nextgen", WireMode::kNextgen}}};
inline constexpr std::array<Choice<EnrpProfile>, 2> kProfiles{
    {{"rfc", EnrpProfile::kRfc}, {"fast", EnrpProfile::kFast}}};
inline constexpr std::array<Choice<LogLevel>, 7> kLogLevels{{{"trace", LogLevel::kTrace},
                                                             {"debug", LogLevel::kDebug},
                                                             {"info", LogLevel::kInfo},
                                                             {"warn", LogLevel::kWarn},
                                                             {"error", LogLevel::kError},
                                                             {"critical", LogLevel::kCritical},
                                                             {"off", LogLevel::kOff}}};
inline constexpr std::array<Choice<LogFormat>, 2> kLogFormats{
    {{"text", LogFormat::kText}, {"json", LogFormat::kJson}}};
// The usable scopes under their own names (registrar/common/address_scope.hpp).
inline constexpr auto kScopes = [] {
  std::array<Choice<AddressScope>, kUsableAddressScopes.size()> scopes{};
  for (std::size_t i = 0; i < scopes.size(); ++i) scopes[i] = {to_string(kUsableAddressScopes[i]), kUsableAddressScopes[i]};
  return scopes;
}();

template <typename E, std::size_t N>
std::span<const Choice<E>> choices(const std::array<Choice<E>, N>& a) {
  return std::span<const Choice<E>>(a.data(), a.size());
}

// Visits every key. V provides: section(name), boolean, integer(key, field, min, max),
// number(key, field, min, max), choice(key, field, choices), text, addresses(key, field, min_count),
// socket_address, strings, ports, file_mode(key, field), peers, registrar_id.
// C is RegistrarConfig or const RegistrarConfig.
template <typename V, typename C>
void visit_config(V& v, C& c) {
  v.section("registrar");
  v.registrar_id("id", c.registrar.id);
  v.choice("mode", c.registrar.mode, choices(kWireModes));
  v.integer("shards", c.registrar.shards, 0, 1024);
  v.integer("lanes", c.registrar.lanes, 0, 16);
  v.boolean("resolve_on_lanes", c.registrar.resolve_on_lanes);
  v.choice("log_level", c.registrar.log_level, choices(kLogLevels));
  v.choice("log_format", c.registrar.log_format, choices(kLogFormats));
  v.text("log_file", c.registrar.log_file);
  v.text("user", c.registrar.user);
  v.text("group", c.registrar.group);

  v.section("asap");
  v.addresses("listen", c.asap.listen, 1);
  v.boolean("sctp", c.asap.sctp);
  v.integer("sctp_port", c.asap.sctp_port, 1, 65535);
  v.integer("udp_encapsulation_port", c.asap.udp_encapsulation_port, 0, 65535);
  v.boolean("sctp_native", c.asap.sctp_native);
  v.boolean("tcp", c.asap.tcp);
  v.integer("tcp_port", c.asap.tcp_port, 1, 65535);
  v.boolean("mptcp", c.asap.mptcp);
  v.integer("max_message_bytes", c.asap.max_message_bytes, 1024, 65535);
  v.integer("keepalive_interval_ms", c.asap.keepalive_interval_ms, 300, 300000);
  v.integer("keepalive_timeout_ms", c.asap.keepalive_timeout_ms, 100, 60000);
  v.boolean("keepalive_on_lanes", c.asap.keepalive_on_lanes);
  v.boolean("keepalive_batch", c.asap.keepalive_batch);
  v.integer("sctp_heartbeat_interval_ms", c.asap.sctp_heartbeat_interval_ms, 0, 300000);
  v.integer("sctp_path_max_retrans", c.asap.sctp_path_max_retrans, 1, 9);
  v.integer("sctp_cookie_life_ms", c.asap.sctp_cookie_life_ms, 1000, 60000);
  v.integer("association_idle_timeout_ms", c.asap.association_idle_timeout_ms, 0, 86400000);
  v.integer("deregister_hold_ms", c.asap.deregister_hold_ms, 0, 86400000);
  v.integer("rebind_probe_ms", c.asap.rebind_probe_ms, 0, 60000);
  v.integer("handover_hold_ms", c.asap.handover_hold_ms, 0, 600000);
  v.integer("max_bad_pe_reports", c.asap.max_bad_pe_reports, 1, 1000000);
  v.integer("handle_resolution_items", c.asap.handle_resolution_items, 1, kHandleResolutionWireLimit);
  v.integer("handle_resolution_max_items", c.asap.handle_resolution_max_items, 1, kHandleResolutionWireLimit);
  v.integer("max_increment", c.asap.max_increment, 0, 1000000000);
  v.choice("min_address_scope", c.asap.min_address_scope, choices(kScopes));
  v.boolean("address_check", c.asap.address_check);
  v.number("max_hr_rate", c.asap.max_hr_rate, 0.0, 1e9);
  v.integer("max_hr_burst", c.asap.max_hr_burst, 0, 1000000000);
  v.number("max_eu_rate", c.asap.max_eu_rate, 0.0, 1e9);
  v.integer("max_eu_burst", c.asap.max_eu_burst, 0, 1000000000);
  v.boolean("server_announce", c.asap.server_announce);
  v.socket_address("announce_address", c.asap.announce_address);
  v.integer("announce_interval_ms", c.asap.announce_interval_ms, 100, 60000);
  v.integer("announce_ttl", c.asap.announce_ttl, 1, 255);
  v.integer("distance_step_ms", c.asap.distance_step_ms, 1, 10000);

  v.section("limits");
  v.integer("max_pools", c.limits.max_pools, 1, 16777216);
  v.integer("max_pes_per_pool", c.limits.max_pes_per_pool, 1, 268435456);
  v.integer("max_pes_total", c.limits.max_pes_total, 1, 268435456);
  v.integer("max_addresses_per_pe", c.limits.max_addresses_per_pe, 1, 128);
  v.integer("max_pool_handle_bytes", c.limits.max_pool_handle_bytes, 1, 64);
  v.integer("max_associations", c.limits.max_associations, 1, 16777216);
  v.integer("max_pes_per_association", c.limits.max_pes_per_association, 0, 268435456);
  v.integer("max_pes_per_address", c.limits.max_pes_per_address, 0, 268435456);
  v.integer("max_associations_per_address", c.limits.max_associations_per_address, 0, 16777216);
  v.integer("partial_frame_budget_bytes", c.limits.partial_frame_budget_bytes, 0, 4294967295u);
  v.integer("first_message_timeout_ms", c.limits.first_message_timeout_ms, 0, 300000);
  v.integer("max_pending_sctp_peers", c.limits.max_pending_sctp_peers, 1, 1048576);
  v.integer("sctp_init_only_evict_ms", c.limits.sctp_init_only_evict_ms, 0, 60000);

  v.section("enrp");
  v.boolean("enabled", c.enrp.enabled);
  v.addresses("listen", c.enrp.listen, 0);
  v.integer("sctp_port", c.enrp.sctp_port, 1, 65535);
  v.boolean("sctp_native", c.enrp.sctp_native);
  v.boolean("tcp", c.enrp.tcp);
  v.integer("tcp_port", c.enrp.tcp_port, 1, 65535);
  v.peers("peers", c.enrp.peers);
  v.boolean("allow_dynamic_peers", c.enrp.allow_dynamic_peers);
  v.boolean("multicast", c.enrp.multicast);
  v.socket_address("multicast_address", c.enrp.multicast_address);
  v.integer("multicast_ttl", c.enrp.multicast_ttl, 1, 255);
  v.choice("profile", c.enrp.profile, choices(kProfiles));
  v.integer("heartbeat_interval_ms", c.enrp.heartbeat_interval_ms, 1000, 300000);
  v.integer("max_time_last_heard_ms", c.enrp.max_time_last_heard_ms, 1000, 300000);
  v.integer("max_time_no_response_ms", c.enrp.max_time_no_response_ms, 1000, 60000);
  v.integer("takeover_expiry_ms", c.enrp.takeover_expiry_ms, 1000, 120000);
  v.integer("mentor_discovery_ms", c.enrp.mentor_discovery_ms, 1000, 60000);
  v.integer("max_elements_per_handle_table_response", c.enrp.max_elements_per_handle_table_response, 1,
            65535);
  v.integer("max_handle_table_response_bytes", c.enrp.max_handle_table_response_bytes, 512, 65535);
  v.boolean("takeover_suggestion", c.enrp.takeover_suggestion);
  v.integer("update_coalesce_ms", c.enrp.update_coalesce_ms, 0, 10000);
  v.integer("transport_update_delay_ms", c.enrp.transport_update_delay_ms, 0, 600000);

  v.section("control");
  v.boolean("enabled", c.control.enabled);
  v.text("socket_path", c.control.socket_path);
  v.file_mode("socket_mode", c.control.socket_mode);
  v.boolean("test_commands", c.control.test_commands);

  v.section("metrics");
  v.boolean("enabled", c.metrics.enabled);
  v.socket_address("listen", c.metrics.listen);

  v.section("tls");
  v.text("certificate", c.tls.certificate);
  v.text("private_key", c.tls.private_key);
  v.text("ca_file", c.tls.ca_file);
  v.integer("asap_port", c.tls.asap_port, 0, 65535);
  v.integer("enrp_port", c.tls.enrp_port, 0, 65535);
  v.boolean("require_client_certificate_asap", c.tls.require_client_certificate_asap);
  v.strings("asap_allowed_identities", c.tls.asap_allowed_identities);
  v.strings("enrp_allowed_identities", c.tls.enrp_allowed_identities);
  v.integer("handshake_timeout_ms", c.tls.handshake_timeout_ms, 100, 600000);

  v.section("dpdk");
  v.boolean("enabled", c.dpdk.enabled);
  v.strings("eal_args", c.dpdk.eal_args);
  v.text("lcores", c.dpdk.lcores);
  v.ports("ports", c.dpdk.ports);
  v.strings("addresses", c.dpdk.addresses);
  v.strings("routes", c.dpdk.routes);
  v.strings("gateway", c.dpdk.gateway);
  v.integer("burst_size", c.dpdk.burst_size, 1, 512);
  v.integer("mempool_size", c.dpdk.mempool_size, 511, 1048575);
  v.integer("vlan_id", c.dpdk.vlan_id, 0, 4094);
  v.integer("idle_sleep_us", c.dpdk.idle_sleep_us, 0, 100000);
  v.boolean("resolve_on_poll_lcore", c.dpdk.resolve_on_poll_lcore);
  v.boolean("rss_steering", c.dpdk.rss_steering);
  v.integer("hugepages", c.dpdk.hugepages, 0, 1048576);
  v.integer("hugepage_size_kb", c.dpdk.hugepage_size_kb, 2048, 1048576);
}

}  // namespace poolreg::config::schema
