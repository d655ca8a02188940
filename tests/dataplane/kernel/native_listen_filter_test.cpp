// NativeListenFilter: native SCTP packets to a listener port pass only when addressed to one of
// that port's listen addresses (IPv4 and IPv6, families kept apart); a wildcard listen or a port
// that is no listener (an outgoing association's source port) takes any local address; an IPv6
// packet whose destination is unknown (all zero) does not reach a restricted port.
#include "dataplane/kernel/native_listen_filter.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace poolreg::kernel {
namespace {

sctp::SctpPacketFrom to(const char* address) {
  const auto a = IpAddress::parse(address);
  EXPECT_TRUE(a.has_value()) << address;
  sctp::SctpPacketFrom f;
  f.ipv6 = !a->is_v4();
  std::memcpy(f.dst_ip, a->data(), a->size());
  return f;
}

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

TEST(NativeListenFilter, RestrictedPortTakesOnlyItsListenAddresses) {
  const NativeListenFilter f({{3863, {ip("127.0.0.1"), ip("::1")}}});
  EXPECT_TRUE(f.restricts());
  EXPECT_TRUE(f.admits(3863, to("127.0.0.1")));
  EXPECT_FALSE(f.admits(3863, to("127.0.0.2")));
  EXPECT_TRUE(f.admits(3863, to("::1")));
  EXPECT_FALSE(f.admits(3863, to("::2")));
  // 127.0.0.1's bytes as the first four of an IPv6 address are not 127.0.0.1.
  EXPECT_FALSE(f.admits(3863, to("7f00:1::")));
  sctp::SctpPacketFrom unknown6;
  unknown6.ipv6 = true;  // dst_ip all zero: no IPV6_PKTINFO
  EXPECT_FALSE(f.admits(3863, unknown6));
}

TEST(NativeListenFilter, OtherPortsAndWildcardsTakeAnyAddress) {
  const NativeListenFilter f({{3863, {ip("127.0.0.1")}}, {9901, {}}});
  EXPECT_TRUE(f.admits(40000, to("127.0.0.2")));  // no listener: the engine decides (native_port_ours)
  EXPECT_TRUE(f.admits(9901, to("127.0.0.2")));   // wildcard listen
  EXPECT_FALSE(f.admits(3863, to("127.0.0.2")));
  const NativeListenFilter none;
  EXPECT_FALSE(none.restricts());
  EXPECT_TRUE(none.admits(3863, to("10.0.0.1")));
}

TEST(NativeListenFilter, EntriesOfOnePortAddUpAndAWildcardLiftsThem) {
  // ASAP and ENRP on one port: their addresses add up.
  const NativeListenFilter both({{3863, {ip("127.0.0.1")}}, {3863, {ip("127.0.0.3")}}});
  EXPECT_TRUE(both.admits(3863, to("127.0.0.1")));
  EXPECT_TRUE(both.admits(3863, to("127.0.0.3")));
  EXPECT_FALSE(both.admits(3863, to("127.0.0.2")));
  const NativeListenFilter lifted({{3863, {ip("127.0.0.1")}}, {3863, {}}});
  EXPECT_FALSE(lifted.restricts());
  EXPECT_TRUE(lifted.admits(3863, to("127.0.0.2")));
}

}  // namespace
}  // namespace poolreg::kernel
