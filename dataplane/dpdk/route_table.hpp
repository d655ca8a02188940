// RouteTable: where a frame to an IP destination goes on one DPDK port: straight to the
// destination (on-link: one of the port's connected prefixes covers it) or to a gateway (a static
// route or the port's default gateway), and from which of our addresses. Longest-prefix match over
// the connected prefixes and the routes of the destination's family; equal lengths: the one
// configured first. The neighbour table (neighbor_table.hpp) then gives the next hop's MAC.
//
// Bare addresses (no "/len") are host prefixes (/32, /128): they cover only themselves. A port
// whose addresses of one family are all bare (and so can have no route of that family: a gateway
// must be on a connected prefix) keeps the behaviour from before routing for that family: every
// destination is taken as on-link, from our address with the longest common prefix. As soon as
// one address of the family carries a prefix length, a destination no prefix or route covers has
// no route (lookup() gives nullopt; the caller drops and counts no_route).
//
// Built once at start-up (routing_config.hpp) and read-only afterwards: every lane's
// PacketProcessor of the port reads the same table without a lock. The table is small (the
// configured prefixes), so the match is a linear scan: a few comparisons per outgoing frame.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registrar/common/expected.hpp"
#include "registrar/common/ip_address.hpp"

namespace poolreg::dpdk {

// An address with a prefix length ("192.0.2.1/24", "2001:db8::/32"; bare: /32 or /128).
struct IpPrefix {
  IpAddress address;
  std::uint8_t length = 0;
  bool explicit_length = false;  // written with "/len"

  bool ipv6() const noexcept { return !address.is_v4(); }
  // ip: 4 or 16 bytes, network order, of this prefix's family.
  bool contains(const std::uint8_t* ip) const noexcept;
  // Bits beyond the length are zero (a route destination must be a network, not a host in it).
  bool is_network() const noexcept;
  std::string to_string() const;
};

// Leading bits two addresses (network order, `bytes` long) have in common.
unsigned common_prefix_bits(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes) noexcept;

// "ADDR" or "ADDR/LEN"; the reason when malformed or the length is out of range.
Expected<IpPrefix, std::string> parse_prefix(std::string_view text);

// The next hop of one destination.
struct NextHop {
  bool via_gateway = false;
  std::array<std::uint8_t, 16> ip{};      // whose MAC the frame goes to (IPv4 in the first 4 bytes)
  std::array<std::uint8_t, 16> source{};  // our address on the next hop's subnet (the frame's source)
};

class RouteTable {
 public:
  // One of our addresses on this port; its prefix is connected (on-link).
  void add_address(const IpPrefix& address);
  // `destination` through `gateway`; the gateway must be on one of this port's connected
  // prefixes and not one of our addresses, and the destination not routed yet on this port (two
  // default gateways of one family included); else the reason. Addresses first, then routes.
  Expected<void, std::string> add_route(const IpPrefix& destination, const IpAddress& gateway);

  // nullopt: no route (or no address of that family on this port).
  std::optional<NextHop> lookup(const std::uint8_t* destination, bool ipv6) const noexcept;
  // A connected prefix (or the bare-address fallback) covers `ip`: frames from it came from a
  // neighbour, so its source MAC is its own.
  bool on_link(const std::uint8_t* ip, bool ipv6) const noexcept;
  // One of the port's connected prefixes (not the bare-address fallback) covers `ip`.
  bool connected_covers(const std::uint8_t* ip, bool ipv6) const noexcept { return connected(ip, ipv6) != nullptr; }

  // The port's routes as text ("10.1.0.0/16 via 10.0.0.254", "default via ...") for logs.
  std::vector<std::string> describe_routes() const;
  bool has_routes() const noexcept { return !routes_.empty(); }
  // False for a table nobody filled (an InterfaceConfig built by hand: InterfaceConfig::next_hop
  // then takes its addresses as bare ones).
  bool has_addresses() const noexcept { return !addresses_.empty(); }
  const std::vector<IpPrefix>& addresses() const noexcept { return addresses_; }

 private:
  struct Route {
    IpPrefix destination;
    IpAddress gateway;
    std::array<std::uint8_t, 16> source{};
  };
  // The connected address covering ip with the longest prefix; nullptr when none.
  const IpPrefix* connected(const std::uint8_t* ip, bool ipv6) const noexcept;
  bool fallback_on_link(bool ipv6) const noexcept;

  std::vector<IpPrefix> addresses_;
  std::vector<Route> routes_;
};

}  // namespace poolreg::dpdk
