// Routing configuration of the DPDK ports: `dpdk.addresses`, `dpdk.routes` and `dpdk.gateway`
// read from text (parse_routing) and laid out on the ports in use (plan_port_routing): which
// addresses each port answers for (ARP, neighbour solicitations, ICMP, SCTP) and its RouteTable.
//
// Text forms (README.md of this folder, "Routing"):
//   dpdk.addresses: "192.0.2.1/24" (the first port) or "192.0.2.1/24 port 1" (DPDK port id 1);
//                   a bare address is a host prefix (route_table.hpp says what that means).
//   dpdk.routes:    "198.51.100.0/24 via 192.0.2.254" (the gateway's port: the one whose connected
//                   prefix holds it).
//   dpdk.gateway:   "192.0.2.254", "2001:db8::fe": a default route of its family on the port whose
//                   connected prefix holds it (one per family and port).
// Pure functions at start-up: the reason of the first problem as text, nothing thrown.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dataplane/dpdk/interface_config.hpp"
#include "dataplane/dpdk/route_table.hpp"
#include "registrar/common/expected.hpp"

namespace poolreg::dpdk {

struct PortAddress {
  IpPrefix prefix;
  std::optional<std::uint16_t> port_id;  // none: the first port in use
};

struct StaticRoute {
  IpPrefix destination;  // 0.0.0.0/0 or ::/0 for a gateway
  IpAddress gateway;
};

struct RoutingConfig {
  std::vector<PortAddress> addresses;  // empty: every port answers for the listen addresses (bare)
  std::vector<StaticRoute> routes;     // dpdk.routes, then dpdk.gateway as default routes
  bool empty() const noexcept { return addresses.empty() && routes.empty(); }
};

Expected<RoutingConfig, std::string> parse_routing(std::span<const std::string> addresses,
                                                   std::span<const std::string> routes,
                                                   std::span<const std::string> gateways);

// What one port is: its addresses and its table.
struct PortRouting {
  std::vector<std::uint32_t> ipv4;  // network order
  std::vector<Ipv6Bytes> ipv6;
  RouteTable routes;
};

// One PortRouting per entry of port_ids (the DPDK ids of the ports in use, in order). Without
// dpdk.addresses every port gets every address of `listen` (bare, as before routing existed);
// with them each address goes to its own port only, and every explicit unicast address of
// `listen` must be one of them. Routes go to the port whose connected prefix holds the gateway.
Expected<std::vector<PortRouting>, std::string> plan_port_routing(const RoutingConfig& routing,
                                                                  std::span<const std::uint16_t> port_ids,
                                                                  std::span<const IpAddress> listen);

}  // namespace poolreg::dpdk
