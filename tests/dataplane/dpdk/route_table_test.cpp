// RouteTable and the routing configuration (dataplane/dpdk/route_table.hpp, routing_config.hpp):
// longest-prefix match over connected prefixes, static routes and the default gateway, IPv4 and
// IPv6; the bare-address fallback; the text forms of dpdk.addresses / routes / gateway and every
// configuration mistake refused with its reason. Pure: no EAL.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dataplane/dpdk/route_table.hpp"
#include "dataplane/dpdk/routing_config.hpp"

namespace poolreg::dpdk {
namespace {

IpAddress ip(const char* text) { return *IpAddress::parse(text); }
IpPrefix prefix(const char* text) { return *parse_prefix(text); }

// The next hop of `destination` as text ("" when there is no route), and its source.
std::string hop_of(const RouteTable& t, const char* destination, std::string* source = nullptr) {
  const IpAddress d = ip(destination);
  const auto hop = t.lookup(d.data(), !d.is_v4());
  if (!hop) return "";
  std::array<std::uint8_t, 4> v4{};
  std::memcpy(v4.data(), hop->ip.data(), 4);
  std::array<std::uint8_t, 4> s4{};
  std::memcpy(s4.data(), hop->source.data(), 4);
  if (source != nullptr) *source = d.is_v4() ? IpAddress::v4(s4).to_string() : IpAddress::v6(hop->source).to_string();
  return d.is_v4() ? IpAddress::v4(v4).to_string() : IpAddress::v6(hop->ip).to_string();
}

TEST(IpPrefixTest, ParsesAddressesWithAndWithoutLength) {
  auto p = parse_prefix("192.0.2.1/24");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->length, 24);
  EXPECT_TRUE(p->explicit_length);
  EXPECT_FALSE(p->is_network());
  auto bare = parse_prefix("192.0.2.1");
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->length, 32);
  EXPECT_FALSE(bare->explicit_length);
  auto v6 = parse_prefix("2001:db8::/32");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->length, 32);
  EXPECT_TRUE(v6->is_network());
  EXPECT_EQ(parse_prefix("2001:db8::1")->length, 128);
  const IpAddress inside = ip("2001:db8:ffff::9"), outside = ip("2001:db9::1");
  EXPECT_TRUE(v6->contains(inside.data()));
  EXPECT_FALSE(v6->contains(outside.data()));
  EXPECT_TRUE(prefix("0.0.0.0/0").contains(ip("203.0.113.9").data()));
  for (const char* bad : {"192.0.2.1/33", "192.0.2.1/", "192.0.2.1/x", "192.0.2.1/24x", "2001:db8::/129",
                          "300.0.0.1/8", "", "/24", "host.example/24"})
    EXPECT_FALSE(parse_prefix(bad).has_value()) << bad;
}

TEST(RouteTableTest, LongestPrefixMatchIpv4) {
  RouteTable t;
  t.add_address(prefix("192.0.2.1/24"));
  ASSERT_TRUE(t.add_route(prefix("0.0.0.0/0"), ip("192.0.2.254")).has_value());
  ASSERT_TRUE(t.add_route(prefix("198.51.100.0/24"), ip("192.0.2.253")).has_value());
  ASSERT_TRUE(t.add_route(prefix("198.51.100.128/25"), ip("192.0.2.252")).has_value());
  std::string source;
  EXPECT_EQ(hop_of(t, "192.0.2.77", &source), "192.0.2.77");  // on-link: the peer itself
  EXPECT_EQ(source, "192.0.2.1");
  EXPECT_EQ(hop_of(t, "198.51.100.5", &source), "192.0.2.253");  // /24 beats default
  EXPECT_EQ(source, "192.0.2.1");
  EXPECT_EQ(hop_of(t, "198.51.100.200"), "192.0.2.252");  // /25 beats /24
  EXPECT_EQ(hop_of(t, "203.0.113.1"), "192.0.2.254");     // default
  EXPECT_TRUE(t.on_link(ip("192.0.2.9").data(), false));
  EXPECT_FALSE(t.on_link(ip("198.51.100.5").data(), false));
  // No IPv6 address, no IPv6 route: nothing.
  EXPECT_EQ(hop_of(t, "2001:db8::1"), "");
}

TEST(RouteTableTest, LongestPrefixMatchIpv6AndNoDefault) {
  RouteTable t;
  t.add_address(prefix("2001:db8:1::1/64"));
  t.add_address(prefix("192.0.2.1/24"));
  ASSERT_TRUE(t.add_route(prefix("2001:db8:2::/48"), ip("2001:db8:1::fe")).has_value());
  std::string source;
  EXPECT_EQ(hop_of(t, "2001:db8:2:5::9", &source), "2001:db8:1::fe");
  EXPECT_EQ(source, "2001:db8:1::1");
  EXPECT_EQ(hop_of(t, "2001:db8:1::77"), "2001:db8:1::77");
  // A prefix length is given and no default: off-link destinations have no route.
  EXPECT_EQ(hop_of(t, "2001:db8:3::1"), "");
  EXPECT_EQ(hop_of(t, "203.0.113.1"), "");
  ASSERT_TRUE(t.add_route(prefix("::/0"), ip("2001:db8:1::fd")).has_value());
  EXPECT_EQ(hop_of(t, "2001:db8:3::1"), "2001:db8:1::fd");
  EXPECT_EQ(hop_of(t, "2001:db8:2::1"), "2001:db8:1::fe");  // the /48 still wins
}

TEST(RouteTableTest, SeveralSubnetsPickTheSourceOnTheNextHopsSubnet) {
  RouteTable t;
  t.add_address(prefix("192.0.2.1/24"));
  t.add_address(prefix("10.1.0.1/16"));
  ASSERT_TRUE(t.add_route(prefix("0.0.0.0/0"), ip("10.1.0.254")).has_value());
  std::string source;
  EXPECT_EQ(hop_of(t, "203.0.113.1", &source), "10.1.0.254");
  EXPECT_EQ(source, "10.1.0.1");
  EXPECT_EQ(hop_of(t, "192.0.2.3", &source), "192.0.2.3");
  EXPECT_EQ(source, "192.0.2.1");
}

TEST(RouteTableTest, BareAddressesKeepEveryPeerOnLink) {
  RouteTable t;
  t.add_address(prefix("10.0.0.1"));
  t.add_address(prefix("10.9.0.1"));
  std::string source;
  EXPECT_EQ(hop_of(t, "10.9.7.7", &source), "10.9.7.7");
  EXPECT_EQ(source, "10.9.0.1");  // our closest address
  EXPECT_TRUE(t.on_link(ip("203.0.113.1").data(), false));
  // A bare address covers only itself: no gateway can be on it.
  auto refused = t.add_route(prefix("0.0.0.0/0"), ip("10.0.0.254"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().find("no connected prefix"), std::string::npos) << refused.error();
  // One address of the family with a length: strict for that family.
  t.add_address(prefix("10.5.0.1/24"));
  EXPECT_EQ(hop_of(t, "203.0.113.1"), "");
  EXPECT_EQ(hop_of(t, "10.5.0.8"), "10.5.0.8");
}

TEST(RouteTableTest, RefusesRoutesThatCannotWork) {
  RouteTable t;
  t.add_address(prefix("192.0.2.1/24"));
  ASSERT_TRUE(t.add_route(prefix("0.0.0.0/0"), ip("192.0.2.254")).has_value());
  auto second = t.add_route(prefix("0.0.0.0/0"), ip("192.0.2.253"));
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().find("default gateway"), std::string::npos) << second.error();
  auto own = t.add_route(prefix("198.51.100.0/24"), ip("192.0.2.1"));
  ASSERT_FALSE(own.has_value());
  EXPECT_NE(own.error().find("our own addresses"), std::string::npos);
  auto family = t.add_route(prefix("2001:db8::/32"), ip("192.0.2.9"));
  ASSERT_FALSE(family.has_value());
  EXPECT_NE(family.error().find("other address family"), std::string::npos);
  auto far = t.add_route(prefix("198.51.100.0/24"), ip("203.0.113.1"));
  ASSERT_FALSE(far.has_value());
  EXPECT_NE(far.error().find("no connected prefix"), std::string::npos);
}

std::vector<std::string> list(std::initializer_list<const char*> items) { return {items.begin(), items.end()}; }

TEST(RoutingConfigTest, PlacesAddressesAndRoutesOnTheirPorts) {
  auto routing = parse_routing(list({"192.0.2.1/24 port 3", "198.51.100.1/24 port 5", "2001:db8::1/64  port 5"}),
                               list({"203.0.113.0/24 via 198.51.100.254"}), list({"192.0.2.254", "2001:db8::fe"}));
  ASSERT_TRUE(routing.has_value()) << routing.error();
  const std::vector<std::uint16_t> ports = {3, 5};
  const std::vector<IpAddress> listen = {ip("192.0.2.1"), ip("198.51.100.1")};
  auto plan = plan_port_routing(*routing, ports, listen);
  ASSERT_TRUE(plan.has_value()) << plan.error();
  ASSERT_EQ(plan->size(), 2u);
  const PortRouting& a = (*plan)[0];
  const PortRouting& b = (*plan)[1];
  // Each address on its own port only.
  EXPECT_EQ(a.ipv4.size(), 1u);
  EXPECT_TRUE(a.ipv6.empty());
  EXPECT_EQ(b.ipv4.size(), 1u);
  EXPECT_EQ(b.ipv6.size(), 1u);
  EXPECT_EQ(hop_of(a.routes, "8.8.8.8"), "192.0.2.254");
  EXPECT_EQ(hop_of(a.routes, "203.0.113.7"), "192.0.2.254");  // port 3 knows no better
  EXPECT_EQ(hop_of(b.routes, "203.0.113.7"), "198.51.100.254");
  EXPECT_EQ(hop_of(b.routes, "8.8.8.8"), "");  // port 5 has no IPv4 default
  EXPECT_EQ(hop_of(b.routes, "2001:db9::1"), "2001:db8::fe");
  EXPECT_EQ(hop_of(a.routes, "2001:db9::1"), "");
}

TEST(RoutingConfigTest, WithoutAddressesEveryPortAnswersForTheListenAddresses) {
  auto routing = parse_routing({}, {}, {});
  ASSERT_TRUE(routing.has_value());
  EXPECT_TRUE(routing->empty());
  const std::vector<std::uint16_t> ports = {0, 1};
  const std::vector<IpAddress> listen = {ip("10.0.0.1"), ip("0.0.0.0"), ip("fd00::1"), ip("10.0.0.1")};
  auto plan = plan_port_routing(*routing, ports, listen);
  ASSERT_TRUE(plan.has_value()) << plan.error();
  for (const PortRouting& p : *plan) {
    EXPECT_EQ(p.ipv4.size(), 1u);  // the wildcard is not a port address; the duplicate once
    EXPECT_EQ(p.ipv6.size(), 1u);
    EXPECT_EQ(hop_of(p.routes, "203.0.113.1"), "203.0.113.1");  // bare: on-link, as before
  }
}

// Every mistake is refused with a reason that names what is wrong.
TEST(RoutingConfigTest, RefusesBadConfigurationWithAClearError) {
  struct Case {
    std::vector<std::string> addresses, routes, gateways;
    std::vector<std::uint16_t> ports;
    std::vector<IpAddress> listen;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {list({"192.0.2.1/33"}), {}, {}, {0}, {}, "prefix length must be 0..32"},
      {list({"192.0.2.1/24 port"}), {}, {}, {0}, {}, "expected ADDRESS[/LENGTH] [port ID]"},
      {list({"192.0.2.1/24 dev 0"}), {}, {}, {0}, {}, "expected ADDRESS[/LENGTH] [port ID]"},
      {list({"192.0.2.1/24 port 70000"}), {}, {}, {0}, {}, "DPDK port id"},
      {list({"224.0.0.1/24"}), {}, {}, {0}, {}, "not a unicast address"},
      {list({"192.0.2.1/24", "192.0.2.1/25"}), {}, {}, {0}, {}, "given twice"},
      {list({"192.0.2.1/24 port 4"}), {}, {}, {0, 1}, {}, "not a DPDK port in use"},
      {list({"192.0.2.1/24"}), {}, {}, {0}, {ip("10.0.0.1")}, "listen address 10.0.0.1 is not in dpdk.addresses"},
      {list({"192.0.2.1/24"}), list({"198.51.100.0/24"}), {}, {0}, {}, "expected PREFIX/LENGTH via GATEWAY"},
      {list({"192.0.2.1/24"}), list({"198.51.100.7 via 192.0.2.9"}), {}, {0}, {}, "needs a prefix length"},
      {list({"192.0.2.1/24"}), list({"198.51.100.7/24 via 192.0.2.9"}), {}, {0}, {}, "bits set beyond"},
      {list({"192.0.2.1/24"}), list({"198.51.100.0/24 via nowhere"}), {}, {0}, {}, "must be a unicast IP"},
      {list({"192.0.2.1/24"}), {}, list({"gw.example"}), {0}, {}, "dpdk.gateway: \"gw.example\""},
      {list({"192.0.2.1/24"}), {}, list({"203.0.113.1"}), {0}, {}, "on no port's subnet"},
      {{}, {}, list({"10.0.0.254"}), {0}, {ip("10.0.0.1")}, "on no port's subnet"},
      {list({"192.0.2.1/24"}), {}, list({"192.0.2.254", "192.0.2.253"}), {0}, {}, "default gateway"},
      {list({"192.0.2.1/24 port 0", "192.0.2.2/24 port 1"}), {}, list({"192.0.2.254"}), {0, 1}, {},
       "on the subnet of two ports"},
  };
  for (const Case& c : cases) {
    auto routing = parse_routing(c.addresses, c.routes, c.gateways);
    std::string error;
    if (!routing) {
      error = routing.error();
    } else {
      auto plan = plan_port_routing(*routing, c.ports, c.listen);
      ASSERT_FALSE(plan.has_value()) << "accepted, expected: " << c.expect;
      error = plan.error();
    }
    EXPECT_NE(error.find(c.expect), std::string::npos) << "got: " << error << "\nexpected: " << c.expect;
  }
}

}  // namespace
}  // namespace poolreg::dpdk
