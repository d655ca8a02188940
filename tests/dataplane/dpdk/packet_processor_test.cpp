// PacketProcessor / parse_frame / frame builders on crafted mbufs (EAL with --no-huge): answers,
// SCTP hand-over, and every malformed input dropped and counted without a crash or a leaked mbuf.
#include "dataplane/dpdk/packet_processor.hpp"

#include <gtest/gtest.h>
#include <rte_ring.h>

#include "tests/dataplane/dpdk/packet_processor_fixture.hpp"

namespace poolreg::dpdk {
namespace {

using test::Bytes;
using test::PacketProcessorTest;
using test::SteeringTest;

TEST_F(PacketProcessorTest, AnswersArpRequestForOurAddress) {
  feed(test::arp_request(test::kOurIp));
  EXPECT_EQ(counters_.arp_replies.get(), 1u);
  Bytes r = take_one_tx();
  ASSERT_GE(r.size(), 42u);
  EXPECT_EQ(0, std::memcmp(&r[0], test::kPeerMac, 6));  // to the requester
  EXPECT_EQ(0, std::memcmp(&r[6], test::kOurMac, 6));
  EXPECT_EQ(test::get16(&r[12]), 0x0806);
  EXPECT_EQ(test::get16(&r[20]), 2);                    // reply
  EXPECT_EQ(0, std::memcmp(&r[22], test::kOurMac, 6));  // sender = us
  EXPECT_EQ(0, std::memcmp(&r[28], test::kOurIp, 4));
  EXPECT_EQ(0, std::memcmp(&r[32], test::kPeerMac, 6));  // target = requester
  EXPECT_EQ(0, std::memcmp(&r[38], test::kPeerIp, 4));
  EXPECT_TRUE(processor_->neighbors().find(test::kPeerIp, false).has_value());
}

TEST_F(PacketProcessorTest, IgnoresArpForOtherAddressesAndMalformedArp) {
  const std::uint8_t other[4] = {10, 99, 0, 77};
  feed(test::arp_request(other));
  expect_only_drop(DropReason::kArpIgnored);
  Bytes truncated = test::arp_request(test::kOurIp);
  truncated.resize(30);
  feed(truncated);
  EXPECT_EQ(counters_.dropped(DropReason::kArpMalformed), 1u);
  Bytes bad_hlen = test::arp_request(test::kOurIp);
  bad_hlen[18] = 8;
  feed(bad_hlen);
  EXPECT_EQ(counters_.dropped(DropReason::kArpMalformed), 2u);
  EXPECT_EQ(counters_.arp_replies.get(), 0u);
}

TEST_F(PacketProcessorTest, AnswersIcmpEchoAndTrimsPadding) {
  Bytes f = test::ipv4_frame(1, test::icmp_echo_request(4));  // 14+20+12 = 46 < 60: padded
  const std::size_t real = f.size();
  f.resize(60, 0);
  feed(f);
  EXPECT_EQ(counters_.icmp_echo_replies.get(), 1u);
  Bytes r = take_one_tx();
  ASSERT_EQ(r.size(), real);
  EXPECT_EQ(0, std::memcmp(&r[0], test::kPeerMac, 6));
  EXPECT_EQ(0, std::memcmp(&r[26], test::kOurIp, 4));   // src = us
  EXPECT_EQ(0, std::memcmp(&r[30], test::kPeerIp, 4));  // dst = peer
  EXPECT_EQ(test::internet_checksum(&r[14], 20), 0);    // valid IP header checksum
  EXPECT_EQ(r[34], 0);                                  // echo reply
  EXPECT_EQ(test::internet_checksum(&r[34], r.size() - 34), 0);
  EXPECT_EQ(test::get16(&r[38]), 0x1234);  // identifier kept
}

TEST_F(PacketProcessorTest, DropsIcmpWithBadChecksumAndOtherTypes) {
  Bytes l4 = test::icmp_echo_request();
  l4[10] ^= 0xff;
  feed(test::ipv4_frame(1, l4));
  expect_only_drop(DropReason::kIcmpBadChecksum);
  Bytes reply = test::icmp_echo_request();
  reply[0] = 0;  // an echo reply: not answered
  reply[2] = reply[3] = 0;
  test::put16(reply, 2, test::internet_checksum(reply.data(), reply.size()));
  feed(test::ipv4_frame(1, reply));
  EXPECT_EQ(counters_.dropped(DropReason::kIcmpIgnored), 1u);
}

TEST_F(PacketProcessorTest, DropsBadIpv4Headers) {
  Bytes bad_sum = test::ipv4_frame(1, test::icmp_echo_request());
  bad_sum[24] ^= 0x01;  // header checksum
  feed(bad_sum);
  EXPECT_EQ(counters_.dropped(DropReason::kIpv4BadChecksum), 1u);

  Bytes bad_ihl = test::ipv4_frame(1, test::icmp_echo_request());
  bad_ihl[14] = 0x44;
  feed(bad_ihl);
  Bytes bad_version = test::ipv4_frame(1, test::icmp_echo_request());
  bad_version[14] = 0x65;
  feed(bad_version);
  EXPECT_EQ(counters_.dropped(DropReason::kIpv4BadHeader), 2u);

  Bytes too_long = test::ipv4_frame(1, test::icmp_echo_request());
  test::put16(too_long, 16, static_cast<std::uint16_t>(too_long.size()));  // beyond the frame
  too_long[24] = too_long[25] = 0;
  test::put16(too_long, 24, test::internet_checksum(&too_long[14], 20));
  feed(too_long);
  Bytes too_short = test::ipv4_frame(1, test::icmp_echo_request());
  test::put16(too_short, 16, 12);  // shorter than the header
  too_short[24] = too_short[25] = 0;
  test::put16(too_short, 24, test::internet_checksum(&too_short[14], 20));
  feed(too_short);
  EXPECT_EQ(counters_.dropped(DropReason::kIpv4BadLength), 2u);
  EXPECT_EQ(counters_.dropped_total(), 5u);
  EXPECT_EQ(processor_->tx_count(), 0);
}

TEST_F(PacketProcessorTest, DropsFragments) {
  feed(test::ipv4_frame(17, test::udp_v4(test::sctp_packet()), test::kOurIp, 0x2000));  // MF
  feed(test::ipv4_frame(17, test::udp_v4(test::sctp_packet()), test::kOurIp, 0x0010));  // offset 16*8
  EXPECT_EQ(counters_.dropped(DropReason::kIpv4Fragment), 2u);
  EXPECT_TRUE(sink_.packets.empty());
}

TEST_F(PacketProcessorTest, HandsSctpOverUdpToTheSink) {
  const Bytes sctp = test::sctp_packet(64);
  feed(test::ipv4_frame(17, test::udp_v4(sctp)));
  feed(test::ipv4_frame(17, test::udp_v4(sctp, 9899, /*checksum=*/false)));  // UDP checksum 0 = none
  ASSERT_EQ(sink_.packets.size(), 2u);
  EXPECT_EQ(sink_.packets[0].packet, sctp);
  EXPECT_EQ(sink_.packets[0].src_port, 50000);
  EXPECT_FALSE(sink_.packets[0].ipv6);
  EXPECT_EQ(counters_.sctp_packets_in.get(), 2u);
  EXPECT_EQ(counters_.dropped_total(), 0u);
}

TEST_F(PacketProcessorTest, DropsBadUdp) {
  Bytes bad_sum = test::udp_v4(test::sctp_packet());
  bad_sum[20] ^= 0x55;  // payload changed after the checksum
  feed(test::ipv4_frame(17, bad_sum));
  EXPECT_EQ(counters_.dropped(DropReason::kUdpBadChecksum), 1u);
  feed(test::ipv4_frame(17, test::udp_v4(test::sctp_packet(), 53)));
  EXPECT_EQ(counters_.dropped(DropReason::kUdpWrongPort), 1u);
  Bytes bad_len = test::udp_v4(test::sctp_packet(), 9899, false);
  test::put16(bad_len, 4, 20);
  feed(test::ipv4_frame(17, bad_len));
  EXPECT_EQ(counters_.dropped(DropReason::kUdpBadLength), 1u);
  feed(test::ipv4_frame(17, test::udp_v4(test::sctp_packet(8))));
  EXPECT_EQ(counters_.dropped(DropReason::kSctpTooShort), 1u);
  feed(test::ipv4_frame(6, Bytes(20, 0)));  // TCP: not on the DPDK path
  EXPECT_EQ(counters_.dropped(DropReason::kUnsupportedProtocol), 1u);
  const std::uint8_t other[4] = {10, 99, 0, 9};
  feed(test::ipv4_frame(17, test::udp_v4(test::sctp_packet(), 9899, true, other), other));
  EXPECT_EQ(counters_.dropped(DropReason::kNotForUs), 1u);
  EXPECT_TRUE(sink_.packets.empty());
}

TEST_F(PacketProcessorTest, DropsVlanTaggedUnlessConfigured) {
  Bytes plain = test::ipv4_frame(17, test::udp_v4(test::sctp_packet()));
  Bytes tagged(plain.begin(), plain.begin() + 12);
  const std::uint8_t tag[4] = {0x81, 0x00, 0x00, 100};
  tagged.insert(tagged.end(), tag, tag + 4);
  tagged.insert(tagged.end(), plain.begin() + 12, plain.end());
  feed(tagged);
  expect_only_drop(DropReason::kVlanTagged);

  config_.vlan_id = 100;
  feed(tagged);
  EXPECT_EQ(sink_.packets.size(), 1u);
  config_.vlan_id = 200;
  feed(tagged);
  EXPECT_EQ(counters_.dropped(DropReason::kVlanTagged), 2u);
}

TEST_F(PacketProcessorTest, DropsFramesNotForUsAndUnknownTypes) {
  Bytes f = test::ipv4_frame(17, test::udp_v4(test::sctp_packet()));
  f[5] = 0x99;  // another unicast MAC
  feed(f);
  expect_only_drop(DropReason::kNotForUs);
  feed(test::ethernet(test::kOurMac, test::kPeerMac, 0x88cc));  // LLDP, header only
  EXPECT_EQ(counters_.dropped(DropReason::kUnknownEtherType), 1u);
}

TEST_F(PacketProcessorTest, EveryTruncationIsDroppedWithoutCrash) {
  const std::vector<Bytes> frames = {
      test::ipv4_frame(17, test::udp_v4(test::sctp_packet())), test::ipv4_frame(1, test::icmp_echo_request()),
      test::arp_request(test::kOurIp), test::ipv6_frame(17, test::sctp_packet())};
  std::uint64_t fed = 0;
  for (const Bytes& full : frames) {
    for (std::size_t n = 0; n < full.size(); ++n) {
      if (full[12] == 0x08 && full[13] == 0x06 && n >= 42) break;  // ARP: the rest is padding
      Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      feed(cut);
      ++fed;
      processor_->tx_sent(0);
    }
  }
  EXPECT_EQ(counters_.rx_packets.get(), fed);
  EXPECT_EQ(counters_.dropped_total() - counters_.dropped(DropReason::kTxFull), fed);
  EXPECT_TRUE(sink_.packets.empty());
}

TEST_F(PacketProcessorTest, DropsMultiSegmentMbufs) {
  rte_mbuf* head = mbuf_of(test::ipv4_frame(17, test::udp_v4(test::sctp_packet())));
  rte_mbuf* tail = mbuf_of(Bytes(10, 0));
  ASSERT_EQ(rte_pktmbuf_chain(head, tail), 0);
  processor_->process_burst(&head, 1);
  expect_only_drop(DropReason::kMultiSegment);
}

TEST_F(PacketProcessorTest, AnswersIcmpv6EchoAndNeighborSolicitation) {
  Bytes echo(16, 0);
  echo[0] = 128;
  test::put16(echo, 4, 0x4242);
  Bytes f = test::ipv6_frame(58, echo);
  test::fix_ipv6_l4_checksum(f, 2);
  feed(f);
  EXPECT_EQ(counters_.icmpv6_echo_replies.get(), 1u);
  Bytes r = take_one_tx();
  ASSERT_EQ(r.size(), f.size());
  EXPECT_EQ(r[54], 129);
  EXPECT_EQ(0, std::memcmp(&r[22], test::kOurIp6, 16));
  EXPECT_EQ(0, std::memcmp(&r[38], test::kPeerIp6, 16));
  Bytes check = r;
  test::fix_ipv6_l4_checksum(check, 2);
  EXPECT_EQ(check, r);  // the checksum we sent is the right one

  // Neighbour solicitation to the solicited-node multicast address of our address.
  const std::uint8_t solicited[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0, 0, 1};
  const std::uint8_t mcast_mac[6] = {0x33, 0x33, 0xff, 0, 0, 1};
  Bytes ns(24, 0);
  ns[0] = 135;
  std::memcpy(&ns[8], test::kOurIp6, 16);
  Bytes g = test::ipv6_frame(58, ns, solicited, mcast_mac, 255);
  test::fix_ipv6_l4_checksum(g, 2);
  feed(g);
  EXPECT_EQ(counters_.neighbor_advertisements.get(), 1u);
  Bytes na = take_one_tx();
  ASSERT_EQ(na.size(), 14u + 40 + 32);
  EXPECT_EQ(na[54], 136);
  EXPECT_EQ(0, std::memcmp(&na[54 + 8], test::kOurIp6, 16));
  EXPECT_EQ(0, std::memcmp(&na[54 + 26], test::kOurMac, 6));
  Bytes na_check = na;
  test::fix_ipv6_l4_checksum(na_check, 2);
  EXPECT_EQ(na_check, na);

  // Hop limit other than 255: ignored (RFC 4861).
  Bytes h = test::ipv6_frame(58, ns, solicited, mcast_mac, 64);
  test::fix_ipv6_l4_checksum(h, 2);
  feed(h);
  EXPECT_EQ(counters_.dropped(DropReason::kIcmpIgnored), 1u);
}

TEST_F(PacketProcessorTest, Ipv6UdpNeedsAChecksumAndNoExtensionHeaders) {
  Bytes u(8, 0);
  test::put16(u, 0, 40001);
  test::put16(u, 2, 9899);
  const Bytes sctp = test::sctp_packet();
  u.insert(u.end(), sctp.begin(), sctp.end());
  test::put16(u, 4, static_cast<std::uint16_t>(u.size()));
  Bytes zero_sum = test::ipv6_frame(17, u);
  feed(zero_sum);
  EXPECT_EQ(counters_.dropped(DropReason::kUdpBadChecksum), 1u);
  Bytes good = zero_sum;
  test::fix_ipv6_l4_checksum(good, 6);
  feed(good);
  ASSERT_EQ(sink_.packets.size(), 1u);
  EXPECT_TRUE(sink_.packets[0].ipv6);
  EXPECT_EQ(sink_.packets[0].src_port, 40001);
  feed(test::ipv6_frame(0, u));  // hop-by-hop options header
  EXPECT_EQ(counters_.dropped(DropReason::kIpv6ExtensionHeader), 1u);
}

TEST_F(PacketProcessorTest, SendSctpBuildsAFrameThePeerAccepts) {
  sctp::SctpPeer to;
  std::memcpy(to.ip, test::kPeerIp, 4);
  to.udp_port = 50000;
  const Bytes sctp = test::sctp_packet(100);
  // No MAC known yet: dropped, an ARP request goes out instead.
  EXPECT_FALSE(processor_->send_sctp(to, sctp.data(), static_cast<std::uint16_t>(sctp.size())));
  EXPECT_EQ(counters_.dropped(DropReason::kNoNeighbor), 1u);
  EXPECT_EQ(counters_.arp_requests_sent.get(), 1u);
  Bytes arp = take_one_tx();
  ASSERT_EQ(arp.size(), 60u);
  EXPECT_EQ(test::get16(&arp[20]), 1);
  EXPECT_EQ(0, std::memcmp(&arp[38], test::kPeerIp, 4));

  processor_->neighbors().learn(test::kPeerIp, false, test::kPeerMac);
  ASSERT_TRUE(processor_->send_sctp(to, sctp.data(), static_cast<std::uint16_t>(sctp.size())));
  Bytes frame = take_one_tx();
  // Checked independently: IPv4 header checksum, UDP checksum over the pseudo-header.
  ASSERT_EQ(frame.size(), 14u + 20 + 8 + sctp.size());
  EXPECT_EQ(test::internet_checksum(&frame[14], 20), 0);
  std::uint32_t pseudo = test::get16(&frame[26]) + test::get16(&frame[28]) + test::get16(&frame[30]) +
                         test::get16(&frame[32]) + 17 + static_cast<std::uint32_t>(frame.size() - 34);
  EXPECT_EQ(test::internet_checksum(&frame[34], frame.size() - 34, pseudo), 0);
  EXPECT_EQ(0, std::memcmp(&frame[0], test::kPeerMac, 6));
  EXPECT_EQ(test::get16(&frame[36]), 50000);  // to the peer's UDP port
  // Parse it as the peer would: swap roles.
  InterfaceConfig peer;
  std::memcpy(peer.mac.data(), test::kPeerMac, 6);
  std::uint32_t peer_ip;
  std::memcpy(&peer_ip, test::kPeerIp, 4);
  peer.ipv4 = {peer_ip};
  peer.sctp_udp_port = 50000;
  const FrameVerdict v = parse_frame(frame.data(), static_cast<std::uint32_t>(frame.size()), peer);
  ASSERT_EQ(v.action, FrameAction::kSctp) << to_string(v.reason);
  EXPECT_EQ(v.src_port, 9899);
  EXPECT_EQ(Bytes(frame.begin() + v.payload_offset, frame.end()), sctp);
  EXPECT_EQ(counters_.sctp_packets_out.get(), 1u);
}

// A peer not heard from yet on a registrar with addresses in several subnets (several ports):
// the packet leaves from our address closest to the peer, and the frame says which port index
// the processor serves.
TEST_F(PacketProcessorTest, SendSctpToANewPeerUsesOurClosestAddress) {
  const std::uint8_t other_subnet[4] = {10, 98, 0, 1}, peer_there[4] = {10, 98, 0, 7};
  std::uint32_t ip;
  std::memcpy(&ip, other_subnet, 4);
  config_.ipv4.push_back(ip);  // 10.99.0.1 first, then 10.98.0.1
  processor_->neighbors().learn(peer_there, false, test::kPeerMac);
  sctp::SctpPeer to;
  std::memcpy(to.ip, peer_there, 4);
  to.udp_port = 9899;
  const Bytes sctp = test::sctp_packet(48);
  ASSERT_TRUE(processor_->send_sctp(to, sctp.data(), static_cast<std::uint16_t>(sctp.size())));
  Bytes frame = take_one_tx();
  ASSERT_GE(frame.size(), 34u);
  EXPECT_EQ(0, std::memcmp(&frame[26], other_subnet, 4));  // source address
  EXPECT_EQ(0, std::memcmp(&frame[30], peer_there, 4));

  PacketProcessor second_port(config_, counters_, pool_, &sink_, 16, /*port_index=*/1);
  EXPECT_EQ(second_port.path_index(), 1);
  rte_mbuf* m = mbuf_of(test::ipv4_frame(17, test::udp_v4(test::sctp_packet(64))));
  second_port.process_burst(&m, 1);
  ASSERT_EQ(sink_.packets.size(), 1u);
  EXPECT_EQ(sink_.packets[0].port_index, 1);
}

TEST_F(PacketProcessorTest, TxOverflowIsCountedAndFreed) {
  for (int i = 0; i < 5; ++i) feed(test::arp_request(test::kOurIp));
  ASSERT_EQ(processor_->tx_count(), 5);
  rte_mbuf* taken[2] = {processor_->tx()[0], processor_->tx()[1]};
  processor_->tx_sent(2);  // the device took two: free them as a NIC would after sending
  rte_pktmbuf_free(taken[0]);
  rte_pktmbuf_free(taken[1]);
  EXPECT_EQ(counters_.tx_packets.get(), 2u);
  EXPECT_EQ(counters_.dropped(DropReason::kTxFull), 3u);
}

TEST(SteerLane, IsAStableFunctionOfPeerAddressAndPortOverAllLanes) {
  const std::uint8_t v4[4] = {10, 1, 2, 3};
  std::uint8_t v6[16] = {0xfd};
  v6[15] = 9;
  EXPECT_EQ(steer_lane(v4, false, 9899, 1), 0u);
  unsigned used[4] = {};
  for (std::uint16_t port = 40000; port < 40400; ++port) {
    const unsigned lane = steer_lane(v4, false, port, 4);
    ASSERT_LT(lane, 4u);
    EXPECT_EQ(lane, steer_lane(v4, false, port, 4));
    ++used[lane];
    EXPECT_LT(steer_lane(v6, true, port, 3), 3u);
  }
  for (unsigned k : used) EXPECT_GT(k, 50u);  // peers spread over every lane
}

TEST_F(SteeringTest, SctpOfAnotherLanesPeerGoesToThatLanesInboxOnly) {
  POOLREG_REQUIRE_EAL();
  const Bytes sctp = test::sctp_packet(64);
  feed(test::ipv4_frame(17, test::udp_v4(sctp)));
  EXPECT_TRUE(sink_.packets.empty());  // not this lane's stack
  EXPECT_EQ(counters_.sctp_steered_out.get(), 1u);
  EXPECT_EQ(counters_.sctp_packets_in.get(), 0u);
  EXPECT_EQ(rte_ring_count(inboxes_[1 - owner_]), 0u);
  ASSERT_EQ(drain_owner_inbox(), 1u);
  ASSERT_EQ(owner_sink_.packets.size(), 1u);
  EXPECT_EQ(owner_sink_.packets[0].packet, sctp);
  EXPECT_EQ(owner_sink_.packets[0].src_port, 50000);
  EXPECT_EQ(owner_counters_.steered_in.get(), 1u);
  EXPECT_EQ(owner_counters_.sctp_packets_in.get(), 1u);
  EXPECT_EQ(owner_counters_.sctp_steered_out.get(), 0u);

  // Read by the owner itself: straight to its sink, nothing steered.
  rte_mbuf* m = mbuf_of(test::ipv4_frame(17, test::udp_v4(sctp)));
  owner_processor_->process_burst(&m, 1);
  EXPECT_EQ(owner_sink_.packets.size(), 2u);
  EXPECT_EQ(owner_counters_.sctp_steered_out.get(), 0u);
  EXPECT_EQ(rte_ring_count(inboxes_[0]) + rte_ring_count(inboxes_[1]), 0u);
}

// With RSS-predicted ownership (rss_steering.hpp) the owner is the lane RSS delivers the peer
// to, not steer_lane's: a frame read there stays, a frame read elsewhere goes to it.
TEST_F(SteeringTest, RssOwnershipDecidesWhereAPeerBelongs) {
  POOLREG_REQUIRE_EAL();
  const RssSteering rss(RssSteering::peer_only_key(40), 2, true, true);
  const unsigned rss_owner = rss.lane(test::kPeerIp, false, 50000);
  const Bytes frame = test::ipv4_frame(17, test::udp_v4(test::sctp_packet(64)));
  processor_->set_steering(Steering{rss_owner, 2, inboxes_, &rss});
  feed(frame);
  EXPECT_EQ(sink_.packets.size(), 1u);  // kept, whatever steer_lane says
  EXPECT_EQ(counters_.sctp_steered_out.get(), 0u);
  processor_->set_steering(Steering{1 - rss_owner, 2, inboxes_, &rss});
  feed(frame);
  EXPECT_EQ(counters_.sctp_steered_out.get(), 1u);
  EXPECT_EQ(rte_ring_count(inboxes_[rss_owner]), 1u);
  EXPECT_EQ(rte_ring_count(inboxes_[1 - rss_owner]), 0u);
  // A family the ports do not predict keeps steer_lane's owner.
  const RssSteering v6_only(RssSteering::peer_only_key(40), 2, false, true);
  processor_->set_steering(Steering{owner_, 2, inboxes_, &v6_only});
  feed(frame);
  EXPECT_EQ(sink_.packets.size(), 2u);
}

TEST_F(SteeringTest, ArpIsAnsweredWhereReadAndLearnedByEveryLane) {
  POOLREG_REQUIRE_EAL();
  feed(test::arp_request(test::kOurIp));
  EXPECT_EQ(counters_.arp_replies.get(), 1u);
  take_one_tx();  // answered once, by the lane that read it
  EXPECT_EQ(counters_.neighbors_shared.get(), 1u);
  EXPECT_FALSE(owner_processor_->neighbors().find(test::kPeerIp, false).has_value());
  ASSERT_EQ(drain_owner_inbox(), 1u);
  EXPECT_TRUE(owner_processor_->neighbors().find(test::kPeerIp, false).has_value());
  EXPECT_EQ(owner_processor_->tx_count(), 0);  // learned, not answered again
  EXPECT_EQ(owner_counters_.arp_replies.get(), 0u);
}

TEST_F(SteeringTest, AFullInboxDropsAndCountsWithoutLeaking) {
  POOLREG_REQUIRE_EAL();
  const Bytes frame = test::ipv4_frame(17, test::udp_v4(test::sctp_packet(64)));
  for (int i = 0; i < 5; ++i) feed(frame);
  EXPECT_EQ(counters_.sctp_steered_out.get(), 3u);
  EXPECT_EQ(counters_.dropped(DropReason::kSteerFull), 2u);
  EXPECT_TRUE(sink_.packets.empty());
  EXPECT_EQ(drain_owner_inbox(), 3u);
  EXPECT_EQ(owner_sink_.packets.size(), 3u);
}

}  // namespace
}  // namespace poolreg::dpdk
