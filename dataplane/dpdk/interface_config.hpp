// InterfaceConfig: who we are on one DPDK port: our MAC, the IPv4/IPv6 addresses we answer for
// (ARP, ICMP echo, neighbour solicitation, SCTP over UDP and native: this port's own, not another
// port's), the port's routes (where frames to off-link peers go), the accepted VLAN, the
// SCTP-over-UDP port (RFC 6951) and whether native SCTP is taken. Built once at start-up;
// read-only afterwards (shared by every lcore).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "dataplane/dpdk/route_table.hpp"

namespace poolreg::dpdk {

using MacAddress = std::array<std::uint8_t, 6>;
using Ipv6Bytes = std::array<std::uint8_t, 16>;

struct InterfaceConfig {
  MacAddress mac{};
  std::vector<std::uint32_t> ipv4;  // network byte order, as in the IPv4 header
  std::vector<Ipv6Bytes> ipv6;
  // Connected prefixes of the addresses above, static routes and the default gateway
  // (routing_config.hpp). Tests that fill ipv4/ipv6 by hand add them here too (add_address).
  RouteTable routes;
  // 0 = untagged frames only (tagged ones are dropped and counted); otherwise frames tagged with
  // exactly this VLAN id are accepted (and untagged ones still are), other tags are dropped.
  std::uint16_t vlan_id = 0;
  std::uint16_t sctp_udp_port = 9899;  // host order
  // Native SCTP (IP protocol 132) frames to our addresses go to the engine; false: dropped as
  // unsupported_protocol (asap.sctp_native and enrp.sctp_native both off).
  bool sctp_native = false;
  std::uint16_t mtu = 1500;

  bool owns_ipv4(std::uint32_t be_address) const noexcept {
    for (std::uint32_t a : ipv4)
      if (a == be_address) return true;
    return false;
  }
  bool owns_ipv6(const std::uint8_t* address) const noexcept {
    for (const Ipv6Bytes& a : ipv6)
      if (std::memcmp(a.data(), address, 16) == 0) return true;
    return false;
  }
  // Where a frame to `destination` (4 or 16 bytes) goes: routes.lookup(); for a config built by
  // hand with an empty table, the addresses above are bare: every destination on-link, from our
  // address with the longest common prefix (as before routing existed).
  std::optional<NextHop> next_hop(const std::uint8_t* destination, bool is_ipv6) const noexcept {
    if (routes.has_addresses()) return routes.lookup(destination, is_ipv6);
    NextHop hop;
    const std::size_t size = is_ipv6 ? 16 : 4;
    std::memcpy(hop.ip.data(), destination, size);
    const std::uint8_t* best = nullptr;
    unsigned best_bits = 0;
    auto consider = [&](const std::uint8_t* a) {
      const unsigned bits = common_prefix_bits(a, destination, size);
      if (best == nullptr || bits > best_bits) {
        best = a;
        best_bits = bits;
      }
    };
    if (is_ipv6) {
      for (const Ipv6Bytes& a : ipv6) consider(a.data());
    } else {
      for (const std::uint32_t& a : ipv4) consider(reinterpret_cast<const std::uint8_t*>(&a));
    }
    if (best == nullptr) return std::nullopt;  // no address of that family on this port
    std::memcpy(hop.source.data(), best, size);
    return hop;
  }
  // Frames from `source` came from a neighbour on this port's link (their MAC is its own).
  bool on_link(const std::uint8_t* source, bool is_ipv6) const noexcept {
    return !routes.has_addresses() || routes.on_link(source, is_ipv6);
  }
  // ff02::1:ffXX:XXXX for one of our addresses (neighbour solicitations are sent there).
  bool owns_solicited_node(const std::uint8_t* address) const noexcept {
    static constexpr std::uint8_t kPrefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
    if (std::memcmp(address, kPrefix, 13) != 0) return false;
    for (const Ipv6Bytes& a : ipv6)
      if (std::memcmp(a.data() + 13, address + 13, 3) == 0) return true;
    return false;
  }
};

}  // namespace poolreg::dpdk
