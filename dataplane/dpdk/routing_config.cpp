#include "dataplane/dpdk/routing_config.hpp"

#include <charconv>
#include <cstring>
#include <string_view>

namespace poolreg::dpdk {
namespace {

// Splits on spaces (runs of them count once).
std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

bool usable_unicast(const IpAddress& a) {
  static constexpr std::array<std::uint8_t, 16> kZero{};
  return !a.is_multicast() && !a.is_loopback() && std::memcmp(a.data(), kZero.data(), a.size()) != 0;
}

void add_to_port(PortRouting& port, const IpPrefix& p) {
  port.routes.add_address(p);
  if (p.address.is_v4()) {
    std::uint32_t be;
    std::memcpy(&be, p.address.data(), 4);
    port.ipv4.push_back(be);
  } else {
    Ipv6Bytes b;
    std::memcpy(b.data(), p.address.data(), 16);
    port.ipv6.push_back(b);
  }
}

}  // namespace

Expected<RoutingConfig, std::string> parse_routing(std::span<const std::string> addresses,
                                                   std::span<const std::string> routes,
                                                   std::span<const std::string> gateways) {
  RoutingConfig r;
  for (const std::string& text : addresses) {
    const auto w = words(text);
    if (w.size() != 1 && !(w.size() == 3 && w[1] == "port"))
      return unexpected("dpdk.addresses: \"" + text + "\": expected ADDRESS[/LENGTH] [port ID]");
    auto prefix = parse_prefix(w[0]);
    if (!prefix) return unexpected("dpdk.addresses: " + prefix.error());
    if (!usable_unicast(prefix->address))
      return unexpected("dpdk.addresses: \"" + text + "\": not a unicast address of a port");
    PortAddress a{*prefix, std::nullopt};
    if (w.size() == 3) {
      unsigned id = 0;
      const auto [end, ec] = std::from_chars(w[2].data(), w[2].data() + w[2].size(), id);
      if (ec != std::errc() || end != w[2].data() + w[2].size() || id > 65535)
        return unexpected("dpdk.addresses: \"" + text + "\": the port must be a DPDK port id");
      a.port_id = static_cast<std::uint16_t>(id);
    }
    for (const PortAddress& other : r.addresses)
      if (other.prefix.address == a.prefix.address)
        return unexpected("dpdk.addresses: " + a.prefix.address.to_string() + " is given twice");
    r.addresses.push_back(a);
  }
  for (const std::string& text : routes) {
    const auto w = words(text);
    if (w.size() != 3 || w[1] != "via")
      return unexpected("dpdk.routes: \"" + text + "\": expected PREFIX/LENGTH via GATEWAY");
    auto destination = parse_prefix(w[0]);
    if (!destination) return unexpected("dpdk.routes: " + destination.error());
    if (!destination->explicit_length)
      return unexpected("dpdk.routes: \"" + text + "\": the destination needs a prefix length (/32 for one host)");
    if (!destination->is_network())
      return unexpected("dpdk.routes: \"" + text + "\": " + destination->to_string() +
                        " has bits set beyond its prefix length");
    auto gateway = IpAddress::parse(w[2]);
    if (!gateway || !usable_unicast(*gateway))
      return unexpected("dpdk.routes: \"" + text + "\": the gateway must be a unicast IP address");
    r.routes.push_back(StaticRoute{*destination, *gateway});
  }
  for (const std::string& text : gateways) {
    auto gateway = IpAddress::parse(text);
    if (!gateway || !usable_unicast(*gateway))
      return unexpected("dpdk.gateway: \"" + text + "\" is not a unicast IP address");
    IpPrefix any;
    any.address = gateway->is_v4() ? IpAddress::v4(0u) : IpAddress::v6({});
    any.length = 0;
    any.explicit_length = true;
    r.routes.push_back(StaticRoute{any, *gateway});
  }
  return r;
}

Expected<std::vector<PortRouting>, std::string> plan_port_routing(const RoutingConfig& routing,
                                                                  std::span<const std::uint16_t> port_ids,
                                                                  std::span<const IpAddress> listen) {
  std::vector<PortRouting> ports(port_ids.size());
  if (ports.empty()) return unexpected(std::string("no DPDK port to put addresses on"));
  if (routing.addresses.empty()) {
    // As before routing: every port answers for every listen address, all bare.
    for (PortRouting& port : ports)
      for (const IpAddress& a : listen) {
        if (!usable_unicast(a)) continue;
        IpPrefix p;
        p.address = a;
        p.length = static_cast<std::uint8_t>(a.is_v4() ? 32 : 128);
        bool known = false;
        for (std::uint32_t v4 : port.ipv4) known |= a.is_v4() && std::memcmp(&v4, a.data(), 4) == 0;
        for (const Ipv6Bytes& v6 : port.ipv6) known |= !a.is_v4() && std::memcmp(v6.data(), a.data(), 16) == 0;
        if (!known) add_to_port(port, p);
      }
  } else {
    for (const PortAddress& a : routing.addresses) {
      std::size_t index = 0;
      if (a.port_id) {
        index = port_ids.size();
        for (std::size_t i = 0; i < port_ids.size(); ++i)
          if (port_ids[i] == *a.port_id) index = i;
        if (index == port_ids.size())
          return unexpected("dpdk.addresses: " + a.prefix.to_string() + " is on port " + std::to_string(*a.port_id) +
                            ", which is not a DPDK port in use");
      }
      add_to_port(ports[index], a.prefix);
    }
    for (const IpAddress& l : listen) {
      if (!usable_unicast(l)) continue;
      bool found = false;
      for (const PortAddress& a : routing.addresses) found |= a.prefix.address == l;
      if (!found)
        return unexpected("listen address " + l.to_string() +
                          " is not in dpdk.addresses: with dpdk.addresses every address the registrar listens on "
                          "must be given there, on its port");
    }
  }
  for (const StaticRoute& r : routing.routes) {
    // The port whose connected prefix holds the gateway (exactly one).
    std::size_t owner = ports.size();
    for (std::size_t i = 0; i < ports.size(); ++i) {
      if (!ports[i].routes.connected_covers(r.gateway.data(), !r.gateway.is_v4())) continue;
      if (owner != ports.size())
        return unexpected("route " + r.destination.to_string() + " via " + r.gateway.to_string() +
                          ": the gateway is on the subnet of two ports (" + std::to_string(port_ids[owner]) + " and " +
                          std::to_string(port_ids[i]) + ")");
      owner = i;
    }
    if (owner == ports.size())
      return unexpected("route " + r.destination.to_string() + " via " + r.gateway.to_string() +
                        ": the gateway is on no port's subnet (give the port's address in dpdk.addresses with a "
                        "prefix length, e.g. 192.0.2.1/24)");
    if (auto added = ports[owner].routes.add_route(r.destination, r.gateway); !added) return unexpected(added.error());
  }
  return ports;
}

}  // namespace poolreg::dpdk
