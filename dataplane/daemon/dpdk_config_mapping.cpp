// RegistrarConfig -> DpdkBackendConfig (see dpdk_config_mapping.hpp).
#include "dataplane/daemon/dpdk_config_mapping.hpp"

#include <cstdint>
#include <cstring>

#include "dataplane/daemon/config_mapping.hpp"

namespace poolreg::daemon {
namespace {

using dpdk::InterfaceConfig;
using dpdk::Ipv6Bytes;

void add_address(InterfaceConfig& i, const IpAddress& a) {
  if (is_unspecified(a) || a.is_multicast() || a.is_loopback()) return;  // not addresses of a port
  if (a.is_v4()) {
    std::uint32_t be;
    std::memcpy(&be, a.data(), 4);
    if (!i.owns_ipv4(be)) i.ipv4.push_back(be);
  } else if (!i.owns_ipv6(a.data())) {
    Ipv6Bytes b;
    std::memcpy(b.data(), a.data(), 16);
    i.ipv6.push_back(b);
  }
}

}  // namespace

Expected<dpdk::DpdkBackendConfig, std::string> to_backend_config(const config::RegistrarConfig& c) {
  dpdk::DpdkBackendConfig b;
  b.eal_argv = {"poolregd"};
  if (!c.dpdk.lcores.empty()) {
    b.eal_argv.push_back("-l");
    b.eal_argv.push_back(c.dpdk.lcores);
  }
  b.eal_argv.insert(b.eal_argv.end(), c.dpdk.eal_args.begin(), c.dpdk.eal_args.end());
  b.port_ids = c.dpdk.ports;
  b.mempool_size = c.dpdk.mempool_size;
  b.burst = static_cast<std::uint16_t>(c.dpdk.burst_size);
  b.idle_sleep_us = c.dpdk.idle_sleep_us;
  b.resolve_on_poll_lcore = c.dpdk.resolve_on_poll_lcore;
  b.rss_steering = c.dpdk.rss_steering;
  b.interface.vlan_id = c.dpdk.vlan_id;
  for (const auto& a : c.asap.listen) add_address(b.interface, a);
  for (const auto& a : c.enrp.listen) add_address(b.interface, a);
  auto routing = dpdk::parse_routing(c.dpdk.addresses, c.dpdk.routes, c.dpdk.gateway);
  if (!routing) return unexpected(routing.error());
  b.routing = std::move(*routing);
  if (b.interface.ipv4.empty() && b.interface.ipv6.empty() && b.routing.addresses.empty()) {
    return unexpected(std::string(
          "DPDK mode needs the registrar's own unicast address(es) in asap.listen (e.g. --listen 10.0.0.1) "
          "or dpdk.addresses; wildcard and loopback addresses cannot be answered for on a DPDK port"));
  }
  if (c.asap.udp_encapsulation_port == 0) {
    return unexpected(std::string("DPDK mode carries SCTP over UDP: asap.udp_encapsulation_port must not be 0"));
  }
  b.interface.sctp_udp_port = c.asap.udp_encapsulation_port;
  b.native_ports = native_sctp_ports(c);
  b.interface.sctp_native = !b.native_ports.empty();
  b.engine.max_message_size = c.asap.max_message_bytes;
  if (c.asap.sctp_heartbeat_interval_ms != 0)
    b.engine.heartbeat_interval_ms = c.asap.sctp_heartbeat_interval_ms;
  b.engine.path_rtx_max = c.asap.sctp_path_max_retrans;
  b.engine.cookie_life_ms = c.asap.sctp_cookie_life_ms;
  b.engine.max_pending_peers = c.limits.max_pending_sctp_peers;
  b.engine.evict_init_only_peers = c.limits.sctp_init_only_evict_ms != 0;
  b.engine.min_init_age_ms = c.limits.sctp_init_only_evict_ms;
  return b;
}

}  // namespace poolreg::daemon
