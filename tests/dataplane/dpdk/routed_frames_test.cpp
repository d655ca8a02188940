// Routing on the packet path (PacketProcessor + RouteTable, dataplane/dpdk/route_table.hpp):
// replies to an off-link peer go to the gateway's MAC once ARP resolved the gateway; a frame
// with no route is dropped and counted; IPv6 next hops are found by neighbour solicitation (the
// solicitation checked byte by byte with an independent checksum) and learned from the
// advertisement; an address is answered only on the port it is configured on. Crafted mbufs
// (packet_processor_fixture.hpp); needs EAL (--no-huge), skipped otherwise.
#include <gtest/gtest.h>

#include <cstring>

#include "tests/dataplane/dpdk/packet_processor_fixture.hpp"

namespace poolreg::dpdk::test {
namespace {

const std::uint8_t kGatewayMac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xfe};
const std::uint8_t kGatewayIp[4] = {10, 99, 0, 254};
const std::uint8_t kRemoteIp[4] = {203, 0, 113, 5};  // behind the gateway
const std::uint8_t kGatewayIp6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfe};
const std::uint8_t kRemoteIp6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};

IpAddress v4(const std::uint8_t* b) { return IpAddress::v4({b[0], b[1], b[2], b[3]}); }
IpAddress v6(const std::uint8_t* b) {
  std::array<std::uint8_t, 16> a;
  std::memcpy(a.data(), b, 16);
  return IpAddress::v6(a);
}
IpPrefix prefix_of(const IpAddress& a, std::uint8_t length) {
  IpPrefix p;
  p.address = a;
  p.length = length;
  p.explicit_length = true;
  return p;
}

// An SCTP-over-UDP frame from `src_ip` that reached us through the gateway (its MAC).
Bytes routed_udp_frame(const std::uint8_t* src_ip) {
  Bytes f = ipv4_frame(17, udp_v4(sctp_packet(64)));
  std::memcpy(&f[6], kGatewayMac, 6);
  std::memcpy(&f[26], src_ip, 4);
  put16(f, 24, 0);
  put16(f, 24, internet_checksum(&f[14], 20));
  f[40] = f[41] = 0;  // UDP checksum 0: none (IPv4)
  return f;
}

// The gateway's answer to our ARP request.
Bytes arp_reply_from_gateway() {
  Bytes b = ethernet(kOurMac, kGatewayMac, 0x0806);
  const std::uint8_t head[8] = {0, 1, 0x08, 0, 6, 4, 0, 2};
  append(b, head, 8);
  append(b, kGatewayMac, 6);
  append(b, kGatewayIp, 4);
  append(b, kOurMac, 6);
  append(b, kOurIp, 4);
  b.resize(60, 0);
  return b;
}

// The gateway's neighbour advertisement for its own address, to our address.
Bytes neighbor_advert_from_gateway() {
  Bytes l4(32, 0);
  l4[0] = 136;
  l4[4] = 0x60;  // Solicited | Override
  std::memcpy(&l4[8], kGatewayIp6, 16);
  l4[24] = 2;  // target link-layer address
  l4[25] = 1;
  std::memcpy(&l4[26], kGatewayMac, 6);
  Bytes f = ipv6_frame(58, l4, kOurIp6, kOurMac, 255);
  std::memcpy(&f[6], kGatewayMac, 6);
  std::memcpy(&f[22], kGatewayIp6, 16);  // IPv6 source: the gateway
  fix_ipv6_l4_checksum(f, 2);
  return f;
}

class RoutedFramesTest : public PacketProcessorTest {
 protected:
  void SetUp() override {
    PacketProcessorTest::SetUp();
    if (pool_ == nullptr) return;
    // 10.99.0.1/24 and fd00::1/64, default gateways 10.99.0.254 and fd00::fe.
    config_.routes.add_address(prefix_of(v4(kOurIp), 24));
    config_.routes.add_address(prefix_of(v6(kOurIp6), 64));
  }
  void add_gateways() {
    ASSERT_TRUE(config_.routes.add_route(prefix_of(IpAddress::v4(0u), 0), v4(kGatewayIp)).has_value());
    ASSERT_TRUE(config_.routes.add_route(prefix_of(IpAddress::v6({}), 0), v6(kGatewayIp6)).has_value());
  }
  bool send_to(const sctp::SctpPeer& to) {
    const Bytes sctp = sctp_packet(48);
    return processor_->send_sctp(to, sctp.data(), static_cast<std::uint16_t>(sctp.size()));
  }
};

sctp::SctpPeer peer_at(const std::uint8_t* ip, bool ipv6) {
  sctp::SctpPeer to;
  to.ipv6 = ipv6;
  std::memcpy(to.ip, ip, ipv6 ? 16 : 4);
  to.udp_port = 50000;
  return to;
}

TEST_F(RoutedFramesTest, ReplyToAnOffLinkPeerGoesToTheGatewayAfterArp) {
  add_gateways();
  feed(routed_udp_frame(kRemoteIp));
  ASSERT_EQ(sink_.packets.size(), 1u);
  // The remote peer's frames carry the gateway's MAC: not learned as the peer's.
  EXPECT_FALSE(processor_->neighbors().find(kRemoteIp, false).has_value());

  sctp::SctpPeer to = peer_at(kRemoteIp, false);
  to.local_known = true;
  std::memcpy(to.local_ip, kOurIp, 4);
  EXPECT_FALSE(processor_->reaches(to));
  EXPECT_FALSE(send_to(to));  // the gateway's MAC is not known yet
  EXPECT_EQ(counters_.dropped(DropReason::kNoNeighbor), 1u);
  EXPECT_EQ(counters_.arp_requests_sent.get(), 1u);
  const Bytes arp = take_one_tx();
  ASSERT_EQ(arp.size(), 60u);
  EXPECT_EQ(get16(&arp[12]), 0x0806);
  EXPECT_EQ(get16(&arp[20]), 1);                      // request
  EXPECT_EQ(0, std::memcmp(&arp[28], kOurIp, 4));      // from our address on the gateway's subnet
  EXPECT_EQ(0, std::memcmp(&arp[38], kGatewayIp, 4));  // for the gateway, not the peer
  // More replies before the gateway answered (other off-link peers share the next hop): dropped,
  // but the gateway is not asked again within a second.
  sctp::SctpPeer other = peer_at(kRemoteIp6, false);
  const std::uint8_t other_remote[4] = {198, 51, 100, 9};
  std::memcpy(other.ip, other_remote, 4);
  EXPECT_FALSE(send_to(to));
  EXPECT_FALSE(send_to(other));
  EXPECT_EQ(processor_->tx_count(), 0);
  EXPECT_EQ(counters_.arp_requests_sent.get(), 1u);
  EXPECT_EQ(counters_.neighbor_requests_suppressed.get(), 2u);
  EXPECT_EQ(counters_.dropped(DropReason::kNoNeighbor), 3u);

  feed(arp_reply_from_gateway());
  EXPECT_TRUE(processor_->reaches(to));
  ASSERT_TRUE(send_to(to));
  const Bytes frame = take_one_tx();
  ASSERT_GE(frame.size(), 42u);
  EXPECT_EQ(0, std::memcmp(&frame[0], kGatewayMac, 6));  // Ethernet: to the gateway
  EXPECT_EQ(0, std::memcmp(&frame[6], kOurMac, 6));
  EXPECT_EQ(0, std::memcmp(&frame[26], kOurIp, 4));     // IP: from us
  EXPECT_EQ(0, std::memcmp(&frame[30], kRemoteIp, 4));  // to the peer itself
  EXPECT_EQ(internet_checksum(&frame[14], 20), 0);
  EXPECT_EQ(counters_.sctp_packets_out.get(), 1u);
  EXPECT_EQ(counters_.dropped(DropReason::kNoRoute), 0u);
}

TEST_F(RoutedFramesTest, OnLinkPeerIsStillReachedDirectly) {
  add_gateways();
  feed(ipv4_frame(17, udp_v4(sctp_packet(64))));  // kPeerIp, on 10.99.0.0/24
  ASSERT_EQ(sink_.packets.size(), 1u);
  ASSERT_TRUE(send_to(peer_at(kPeerIp, false)));
  const Bytes frame = take_one_tx();
  ASSERT_GE(frame.size(), 14u);
  EXPECT_EQ(0, std::memcmp(&frame[0], kPeerMac, 6));
}

TEST_F(RoutedFramesTest, NoRouteIsDroppedAndCounted) {
  // Prefixes but no gateway: an off-link destination has no route; nothing is sent or asked.
  EXPECT_FALSE(send_to(peer_at(kRemoteIp, false)));
  EXPECT_FALSE(send_to(peer_at(kRemoteIp6, true)));
  EXPECT_EQ(counters_.dropped(DropReason::kNoRoute), 2u);
  EXPECT_EQ(counters_.dropped_total(), 2u);
  EXPECT_EQ(processor_->tx_count(), 0);
  EXPECT_FALSE(processor_->reaches(peer_at(kRemoteIp, false)));
  EXPECT_STREQ(to_string(DropReason::kNoRoute), "no_route");
}

// An outgoing association to an IPv6 peer behind the gateway: the gateway is solicited, its
// advertisement learned, the retransmission leaves to its MAC.
TEST_F(RoutedFramesTest, Ipv6NextHopIsSolicitedThenUsed) {
  add_gateways();
  const sctp::SctpPeer to = peer_at(kRemoteIp6, true);
  EXPECT_FALSE(send_to(to));
  EXPECT_EQ(counters_.dropped(DropReason::kNoNeighbor), 1u);
  EXPECT_EQ(counters_.neighbor_solicitations_sent.get(), 1u);
  const Bytes ns = take_one_tx();
  ASSERT_EQ(ns.size(), 14u + 40 + 32);
  const std::uint8_t multicast_mac[6] = {0x33, 0x33, 0xff, 0x00, 0x00, 0xfe};
  EXPECT_EQ(0, std::memcmp(&ns[0], multicast_mac, 6));
  EXPECT_EQ(0, std::memcmp(&ns[6], kOurMac, 6));
  EXPECT_EQ(get16(&ns[12]), 0x86dd);
  EXPECT_EQ(ns[20], 58);   // ICMPv6
  EXPECT_EQ(ns[21], 255);  // hop limit (RFC 4861 7.1.1)
  EXPECT_EQ(0, std::memcmp(&ns[22], kOurIp6, 16));
  const std::uint8_t solicited[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0x00, 0x00, 0xfe};
  EXPECT_EQ(0, std::memcmp(&ns[38], solicited, 16));
  EXPECT_EQ(ns[54], 135);
  EXPECT_EQ(0, std::memcmp(&ns[62], kGatewayIp6, 16));
  EXPECT_EQ(ns[78], 1);  // source link-layer address option
  EXPECT_EQ(ns[79], 1);
  EXPECT_EQ(0, std::memcmp(&ns[80], kOurMac, 6));
  // ICMPv6 checksum over the pseudo-header, computed independently.
  std::uint32_t pseudo = 32 + 58;
  for (int i = 0; i < 32; i += 2) pseudo += get16(&ns[22 + i]);
  EXPECT_EQ(internet_checksum(&ns[54], 32, pseudo), 0);

  feed(neighbor_advert_from_gateway());
  EXPECT_EQ(processor_->tx_count(), 0);  // learned, not answered
  ASSERT_TRUE(processor_->neighbors().find(kGatewayIp6, true).has_value());
  EXPECT_EQ(0, std::memcmp(processor_->neighbors().find(kGatewayIp6, true)->data(), kGatewayMac, 6));
  EXPECT_TRUE(processor_->reaches(to));
  ASSERT_TRUE(send_to(to));
  const Bytes frame = take_one_tx();
  ASSERT_GE(frame.size(), 54u);
  EXPECT_EQ(0, std::memcmp(&frame[0], kGatewayMac, 6));
  EXPECT_EQ(0, std::memcmp(&frame[22], kOurIp6, 16));
  EXPECT_EQ(0, std::memcmp(&frame[38], kRemoteIp6, 16));
}

// An on-link IPv6 peer never heard from (an outgoing ENRP association) is solicited itself.
TEST_F(RoutedFramesTest, OnLinkIpv6PeerIsSolicited) {
  EXPECT_FALSE(send_to(peer_at(kPeerIp6, true)));
  const Bytes ns = take_one_tx();
  ASSERT_EQ(ns.size(), 14u + 40 + 32);
  EXPECT_EQ(ns[54], 135);
  EXPECT_EQ(0, std::memcmp(&ns[62], kPeerIp6, 16));
  EXPECT_EQ(ns[5], 0x02);  // 33:33:ff:00:00:02
}

// A malformed advertisement (option of length 0, shorter than 24 bytes) is not learned wrongly
// and does not crash.
TEST_F(RoutedFramesTest, MalformedAdvertisementsAreHarmless) {
  Bytes bad = neighbor_advert_from_gateway();
  bad[14 + 40 + 25] = 0;  // option length 0
  std::memcpy(&bad[6], kPeerMac, 6);
  fix_ipv6_l4_checksum(bad, 2);
  feed(bad);
  auto learned = processor_->neighbors().find(kGatewayIp6, true);
  ASSERT_TRUE(learned.has_value());  // from the Ethernet source, as RFC 4861 allows without option
  EXPECT_EQ(0, std::memcmp(learned->data(), kPeerMac, 6));
  Bytes short_one = neighbor_advert_from_gateway();
  short_one.resize(14 + 40 + 16);
  put16(short_one, 18, 16);
  fix_ipv6_l4_checksum(short_one, 2);
  feed(short_one);
  EXPECT_EQ(counters_.dropped(DropReason::kIcmpIgnored), 1u);
}

// Addresses are bound to their port: a port does not answer ARP for another port's address.
TEST_F(RoutedFramesTest, AnAddressIsAnsweredOnlyOnItsPort) {
  const std::uint8_t other_ip[4] = {10, 98, 0, 1};
  InterfaceConfig other_port;
  other_port.mac = config_.mac;
  other_port.mac[5] = 0x09;
  std::uint32_t be;
  std::memcpy(&be, other_ip, 4);
  other_port.ipv4 = {be};
  other_port.routes.add_address(prefix_of(v4(other_ip), 24));
  PacketProcessor second(other_port, counters_, pool_, &sink_, 16, 1);
  rte_mbuf* m = mbuf_of(arp_request(kOurIp));  // asks the other port for this port's address
  second.process_burst(&m, 1);
  EXPECT_EQ(second.tx_count(), 0);
  EXPECT_EQ(counters_.dropped(DropReason::kArpIgnored), 1u);
  feed(arp_request(kOurIp));  // this port answers
  EXPECT_EQ(counters_.arp_replies.get(), 1u);
  processor_->tx_sent(0);
}

}  // namespace
}  // namespace poolreg::dpdk::test
