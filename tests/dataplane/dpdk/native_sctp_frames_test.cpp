// Native SCTP (IP protocol 132) on the DPDK packet path, on crafted mbufs: IPv4 (with options)
// and IPv6 frames to our address reach the sink as native peers (UDP port 0); bad CRC32c,
// truncation, other SCTP ports and native SCTP switched off are dropped and counted; outgoing
// packets to native peers leave as Ethernet + IP + SCTP that a peer parses back; another lane's
// native peer is steered by its IP and SCTP source port. SCTP CRC32c offload: the choice from a
// port's capability flags, the port's RX verdict (GOOD skips the software check, BAD drops),
// native frames marked for TX offload (mbuf flags, l2/l3 lengths), UDP-encapsulated packets
// checked here when the engine leaves the CRC32c to the packet path.
#include <gtest/gtest.h>
#include <rte_ethdev.h>

#include "dataplane/dpdk/sctp_checksum_offload.hpp"
#include "dataplane/sctp/native_sctp_packet.hpp"
#include "tests/dataplane/dpdk/packet_processor_fixture.hpp"

namespace poolreg::dpdk {
namespace {

using test::Bytes;
using test::RecordingSink;

constexpr std::uint16_t kPeerSctpPort = 40000;  // test::sctp_packet's source port
constexpr std::uint16_t kOurSctpPort = 3863;     // and its destination port

// An SCTP packet from `src_port` to `dst_port` with a correct CRC32c (RFC 9260 appendix A).
Bytes native_sctp(std::size_t bytes = 64, std::uint16_t dst_port = kOurSctpPort,
                  std::uint16_t src_port = kPeerSctpPort) {
  Bytes p = test::sctp_packet(bytes);
  test::put16(p, 0, src_port);
  test::put16(p, 2, dst_port);
  sctp::set_sctp_crc(p);
  return p;
}

// An IPv4 frame of protocol 132 whose header carries `option_words` 4-byte words of options
// (NOPs), so the parser must find the SCTP packet by IHL.
Bytes ipv4_native_frame(const Bytes& sctp, std::size_t option_words) {
  Bytes f = test::ipv4_frame(sctp::kIpProtocolSctp, sctp);
  const std::size_t ip = 14, header = 20 + option_words * 4;
  f.insert(f.begin() + static_cast<std::ptrdiff_t>(ip + 20), option_words * 4, 0x01);
  f[ip] = static_cast<std::uint8_t>(0x40 | (header / 4));
  test::put16(f, ip + 2, static_cast<std::uint16_t>(header + sctp.size()));
  f[ip + 10] = f[ip + 11] = 0;
  test::put16(f, ip + 10, test::internet_checksum(&f[ip], header));
  return f;
}

class NativeSctpFramesTest : public test::PacketProcessorTest {
 protected:
  void SetUp() override {
    PacketProcessorTest::SetUp();
    config_.sctp_native = true;
    sink_.native_ports = {kOurSctpPort};
  }
};

TEST_F(NativeSctpFramesTest, Ipv4WithOptionsReachesTheSinkAsANativePeer) {
  POOLREG_REQUIRE_EAL();
  const Bytes sctp = native_sctp(80);
  feed(ipv4_native_frame(sctp, 3));
  feed(ipv4_native_frame(sctp, 0));
  ASSERT_EQ(sink_.packets.size(), 2u) << counters_.dropped_total();
  for (const auto& p : sink_.packets) {
    EXPECT_EQ(p.packet, sctp);
    EXPECT_EQ(p.src_port, 0);  // native: (IP, UDP port 0)
    EXPECT_FALSE(p.ipv6);
  }
  EXPECT_EQ(counters_.sctp_packets_in.get(), 2u);
  EXPECT_EQ(counters_.dropped_total(), 0u);
  // The peer's MAC was learned from its frame: answers can be framed.
  EXPECT_TRUE(processor_->neighbors().find(test::kPeerIp, false).has_value());
}

TEST_F(NativeSctpFramesTest, Ipv6ReachesTheSinkAsANativePeer) {
  POOLREG_REQUIRE_EAL();
  const Bytes sctp = native_sctp(52);
  feed(test::ipv6_frame(sctp::kIpProtocolSctp, sctp));
  ASSERT_EQ(sink_.packets.size(), 1u) << counters_.dropped_total();
  EXPECT_EQ(sink_.packets[0].packet, sctp);
  EXPECT_EQ(sink_.packets[0].src_port, 0);
  EXPECT_TRUE(sink_.packets[0].ipv6);
}

TEST_F(NativeSctpFramesTest, BadCrcIsDroppedAndCounted) {
  POOLREG_REQUIRE_EAL();
  Bytes sctp = native_sctp(64);
  sctp[20] ^= 0x40;  // one bit of a chunk flipped after the CRC32c was computed
  feed(ipv4_native_frame(sctp, 1));
  expect_only_drop(DropReason::kSctpBadChecksum);
  feed(test::ipv6_frame(sctp::kIpProtocolSctp, sctp));
  EXPECT_EQ(counters_.dropped(DropReason::kSctpBadChecksum), 2u);
  EXPECT_TRUE(sink_.packets.empty());
}

TEST_F(NativeSctpFramesTest, TruncatedPacketsAreDroppedAndCounted) {
  POOLREG_REQUIRE_EAL();
  // Shorter than an SCTP common header.
  const Bytes short_sctp(8, 0x11);
  feed(ipv4_native_frame(short_sctp, 2));
  expect_only_drop(DropReason::kSctpTooShort);
  feed(test::ipv6_frame(sctp::kIpProtocolSctp, short_sctp));
  EXPECT_EQ(counters_.dropped(DropReason::kSctpTooShort), 2u);
  // The IPv4 total length claims more than the frame holds.
  Bytes cut = ipv4_native_frame(native_sctp(64), 2);
  cut.resize(cut.size() - 10);
  feed(cut);
  EXPECT_EQ(counters_.dropped(DropReason::kIpv4BadLength), 1u);
  // Every prefix of a good frame: dropped, never handed on, never a crash.
  const Bytes good = ipv4_native_frame(native_sctp(64), 1);
  for (std::size_t n = 0; n < good.size(); ++n) feed(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)));
  EXPECT_TRUE(sink_.packets.empty());
}

TEST_F(NativeSctpFramesTest, PacketsForPortsThatAreNotOursAreDropped) {
  POOLREG_REQUIRE_EAL();
  feed(ipv4_native_frame(native_sctp(64, 5060), 0));
  expect_only_drop(DropReason::kSctpNotOurPort);
  feed(test::ipv6_frame(sctp::kIpProtocolSctp, native_sctp(64, 5060)));
  EXPECT_EQ(counters_.dropped(DropReason::kSctpNotOurPort), 2u);
  EXPECT_EQ(counters_.sctp_packets_in.get(), 0u);
}

TEST_F(NativeSctpFramesTest, NativeOffDropsAsUnsupportedProtocol) {
  POOLREG_REQUIRE_EAL();
  config_.sctp_native = false;  // asap.sctp_native and enrp.sctp_native off
  feed(ipv4_native_frame(native_sctp(64), 0));
  expect_only_drop(DropReason::kUnsupportedProtocol);
  feed(test::ipv6_frame(sctp::kIpProtocolSctp, native_sctp(64)));
  EXPECT_EQ(counters_.dropped(DropReason::kUnsupportedProtocol), 2u);
}

// What the peer's side of the wire sees: our frame parsed with the roles swapped.
FrameVerdict parse_as_peer(const Bytes& frame, bool ipv6) {
  InterfaceConfig peer;
  std::memcpy(peer.mac.data(), test::kPeerMac, 6);
  if (ipv6) {
    Ipv6Bytes ip6;
    std::memcpy(ip6.data(), test::kPeerIp6, 16);
    peer.ipv6 = {ip6};
  } else {
    std::uint32_t ip;
    std::memcpy(&ip, test::kPeerIp, 4);
    peer.ipv4 = {ip};
  }
  peer.sctp_native = true;
  return parse_frame(frame.data(), static_cast<std::uint32_t>(frame.size()), peer);
}

TEST_F(NativeSctpFramesTest, SendSctpToANativePeerBuildsIpv4AndIpv6Frames) {
  POOLREG_REQUIRE_EAL();
  const Bytes sctp = native_sctp(100, kPeerSctpPort, kOurSctpPort);  // as usrsctp hands it over: CRC32c set
  for (const bool ipv6 : {false, true}) {
    SCOPED_TRACE(ipv6 ? "IPv6" : "IPv4");
    sctp::SctpPeer to;
    to.ipv6 = ipv6;
    std::memcpy(to.ip, ipv6 ? test::kPeerIp6 : test::kPeerIp, ipv6 ? 16 : 4);
    to.udp_port = 0;  // native
    processor_->neighbors().learn(to.ip, ipv6, test::kPeerMac);
    ASSERT_TRUE(processor_->send_sctp(to, sctp.data(), static_cast<std::uint16_t>(sctp.size())));
    const Bytes frame = take_one_tx();
    const std::size_t l3 = 14, header = ipv6 ? 40 : 20;
    ASSERT_EQ(frame.size(), l3 + header + sctp.size());
    EXPECT_EQ(0, std::memcmp(&frame[0], test::kPeerMac, 6));
    if (ipv6) {
      EXPECT_EQ(frame[l3 + 6], sctp::kIpProtocolSctp);  // next header
      EXPECT_EQ(test::get16(&frame[l3 + 4]), sctp.size());
    } else {
      EXPECT_EQ(frame[l3 + 9], sctp::kIpProtocolSctp);
      EXPECT_EQ(test::internet_checksum(&frame[l3], 20), 0);  // header checksum checked independently
      EXPECT_EQ(test::get16(&frame[l3 + 2]), 20 + sctp.size());
    }
    EXPECT_EQ(Bytes(frame.begin() + static_cast<std::ptrdiff_t>(l3 + header), frame.end()), sctp);
    const FrameVerdict v = parse_as_peer(frame, ipv6);
    ASSERT_EQ(v.action, FrameAction::kSctpNative) << to_string(v.reason);
    EXPECT_EQ(v.src_port, kOurSctpPort);
    EXPECT_EQ(v.dst_port, kPeerSctpPort);
  }
  EXPECT_EQ(counters_.sctp_packets_out.get(), 2u);
}

TEST_F(NativeSctpFramesTest, SendSctpToANativePeerChecksTheMtuWithoutAUdpHeader) {
  POOLREG_REQUIRE_EAL();
  config_.mtu = 200;
  sctp::SctpPeer to;
  std::memcpy(to.ip, test::kPeerIp, 4);
  processor_->neighbors().learn(to.ip, false, test::kPeerMac);
  const Bytes fits = native_sctp(180, kPeerSctpPort);  // 20 + 180 = MTU: fits natively, not over UDP
  EXPECT_TRUE(processor_->send_sctp(to, fits.data(), static_cast<std::uint16_t>(fits.size())));
  take_one_tx();
  to.udp_port = 9899;
  EXPECT_FALSE(processor_->send_sctp(to, fits.data(), static_cast<std::uint16_t>(fits.size())));
  EXPECT_EQ(counters_.dropped(DropReason::kOutputTooBig), 1u);
}

// ---- SCTP CRC32c offload (sctp_checksum_offload.hpp) ----

TEST(SctpChecksumOffload, ChosenFromThePortsCapabilitiesOnly) {
  const std::uint64_t other_tx = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
  const std::uint64_t other_rx = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
  EXPECT_EQ(choose_sctp_checksum_offload(other_tx, other_rx), (SctpChecksumOffload{false, false}));
  EXPECT_EQ(choose_sctp_checksum_offload(other_tx | RTE_ETH_TX_OFFLOAD_SCTP_CKSUM, other_rx),
            (SctpChecksumOffload{true, false}));
  EXPECT_EQ(choose_sctp_checksum_offload(0, RTE_ETH_RX_OFFLOAD_SCTP_CKSUM),
            (SctpChecksumOffload{false, true}));
  EXPECT_EQ(choose_sctp_checksum_offload(RTE_ETH_TX_OFFLOAD_SCTP_CKSUM, RTE_ETH_RX_OFFLOAD_SCTP_CKSUM),
            (SctpChecksumOffload{true, true}));
  EXPECT_EQ(describe(SctpChecksumOffload{}), "CRC32c in software (the port offers no SCTP checksum offload)");
  EXPECT_EQ(describe(SctpChecksumOffload{true, true}), "CRC32c offloaded (TX, RX)");
  EXPECT_EQ(describe(SctpChecksumOffload{false, true}), "CRC32c offloaded (RX), software TX");
}

TEST(SctpChecksumOffload, RxVerdictOnlyWithRxOffloadOn) {
  EXPECT_EQ(rx_crc_of(RTE_MBUF_F_RX_L4_CKSUM_GOOD, true), RxCrc::kGood);
  EXPECT_EQ(rx_crc_of(RTE_MBUF_F_RX_L4_CKSUM_BAD, true), RxCrc::kBad);
  EXPECT_EQ(rx_crc_of(RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN, true), RxCrc::kUnchecked);
  EXPECT_EQ(rx_crc_of(RTE_MBUF_F_RX_L4_CKSUM_NONE, true), RxCrc::kUnchecked);
  // A port without the offload configured: its flags say nothing about SCTP.
  EXPECT_EQ(rx_crc_of(RTE_MBUF_F_RX_L4_CKSUM_GOOD, false), RxCrc::kUnchecked);
  EXPECT_EQ(rx_crc_of(RTE_MBUF_F_RX_L4_CKSUM_BAD, false), RxCrc::kUnchecked);
}

class CrcOffloadFramesTest : public NativeSctpFramesTest {
 protected:
  // A received frame with the port's checksum flags.
  void feed_flagged(const Bytes& frame, std::uint64_t ol_flags) {
    rte_mbuf* m = mbuf_of(frame);
    m->ol_flags = ol_flags;
    processor_->process_burst(&m, 1);
  }
};

TEST_F(CrcOffloadFramesTest, PortVerdictReplacesTheSoftwareCheck) {
  POOLREG_REQUIRE_EAL();
  processor_->set_sctp_checksum_offload(SctpChecksumOffload{false, true}, false);
  const Bytes good = native_sctp(64);
  Bytes bad = good;
  bad[20] ^= 0x40;
  // GOOD: taken as the port says (the software check would have refused this one).
  feed_flagged(ipv4_native_frame(bad, 0), RTE_MBUF_F_RX_L4_CKSUM_GOOD);
  ASSERT_EQ(sink_.packets.size(), 1u) << counters_.dropped_total();
  EXPECT_EQ(sink_.packets[0].packet, bad);
  // BAD: dropped and counted though the bytes are right.
  feed_flagged(ipv4_native_frame(good, 0), RTE_MBUF_F_RX_L4_CKSUM_BAD);
  feed_flagged(test::ipv6_frame(sctp::kIpProtocolSctp, good), RTE_MBUF_F_RX_L4_CKSUM_BAD);
  EXPECT_EQ(counters_.dropped(DropReason::kSctpBadChecksum), 2u);
  // UNKNOWN: the software check, as without offload.
  feed_flagged(ipv4_native_frame(bad, 0), RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN);
  EXPECT_EQ(counters_.dropped(DropReason::kSctpBadChecksum), 3u);
  feed_flagged(ipv4_native_frame(good, 0), RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN);
  EXPECT_EQ(sink_.packets.size(), 2u);
}

TEST_F(CrcOffloadFramesTest, WithoutRxOffloadThePortsFlagsAreIgnored) {
  POOLREG_REQUIRE_EAL();
  Bytes bad = native_sctp(64);
  bad[20] ^= 0x40;
  feed_flagged(ipv4_native_frame(bad, 0), RTE_MBUF_F_RX_L4_CKSUM_GOOD);  // software check: refused
  expect_only_drop(DropReason::kSctpBadChecksum);
  feed_flagged(ipv4_native_frame(native_sctp(64), 0), RTE_MBUF_F_RX_L4_CKSUM_BAD);  // software check: right
  EXPECT_EQ(sink_.packets.size(), 1u);
}

TEST_F(CrcOffloadFramesTest, TxOffloadMarksNativeFramesForThePort) {
  POOLREG_REQUIRE_EAL();
  processor_->set_sctp_checksum_offload(SctpChecksumOffload{true, false}, true);
  const Bytes sctp = native_sctp(100, kPeerSctpPort, kOurSctpPort);
  for (const bool ipv6 : {false, true}) {
    SCOPED_TRACE(ipv6 ? "IPv6" : "IPv4");
    sctp::SctpPeer to;
    to.ipv6 = ipv6;
    std::memcpy(to.ip, ipv6 ? test::kPeerIp6 : test::kPeerIp, ipv6 ? 16 : 4);
    EXPECT_TRUE(processor_->offloads_crc32c(to));
    processor_->neighbors().learn(to.ip, ipv6, test::kPeerMac);
    ASSERT_TRUE(processor_->send_sctp(to, sctp.data(), static_cast<std::uint16_t>(sctp.size())));
    ASSERT_EQ(processor_->tx_count(), 1);
    const rte_mbuf* m = processor_->tx()[0];
    EXPECT_NE(m->ol_flags & RTE_MBUF_F_TX_SCTP_CKSUM, 0u);
    EXPECT_NE(m->ol_flags & (ipv6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4), 0u);
    EXPECT_EQ(m->ol_flags & (ipv6 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6), 0u);
    EXPECT_EQ(m->l2_len, 14u);
    EXPECT_EQ(m->l3_len, ipv6 ? 40u : 20u);
    const Bytes frame = take_one_tx();
    const std::size_t l4 = 14 + (ipv6 ? 40 : 20);
    ASSERT_EQ(frame.size(), l4 + sctp.size());
    EXPECT_EQ(test::get16(&frame[l4 + 8]), 0u);  // checksum field zero: the port fills it
    EXPECT_EQ(test::get16(&frame[l4 + 10]), 0u);
    Bytes rest(frame.begin() + static_cast<std::ptrdiff_t>(l4 + 12), frame.end());
    EXPECT_EQ(rest, Bytes(sctp.begin() + 12, sctp.end()));
  }
  // A peer over UDP is not the port's: no flags, and the engine writes its CRC32c.
  sctp::SctpPeer udp_peer;
  std::memcpy(udp_peer.ip, test::kPeerIp, 4);
  udp_peer.udp_port = 9899;
  EXPECT_FALSE(processor_->offloads_crc32c(udp_peer));
  ASSERT_TRUE(processor_->send_sctp(udp_peer, sctp.data(), static_cast<std::uint16_t>(sctp.size())));
  ASSERT_EQ(processor_->tx_count(), 1);
  EXPECT_EQ(processor_->tx()[0]->ol_flags & RTE_MBUF_F_TX_SCTP_CKSUM, 0u);
  take_one_tx();
  // Without TX offload native frames carry no flags either (the software path).
  processor_->set_sctp_checksum_offload(SctpChecksumOffload{}, false);
  sctp::SctpPeer native;
  std::memcpy(native.ip, test::kPeerIp, 4);
  EXPECT_FALSE(processor_->offloads_crc32c(native));
  ASSERT_TRUE(processor_->send_sctp(native, sctp.data(), static_cast<std::uint16_t>(sctp.size())));
  ASSERT_EQ(processor_->tx_count(), 1);
  EXPECT_EQ(processor_->tx()[0]->ol_flags & RTE_MBUF_F_TX_SCTP_CKSUM, 0u);
  const Bytes frame = take_one_tx();
  EXPECT_EQ(Bytes(frame.begin() + 34, frame.end()), sctp);  // CRC32c as given
}

// The engine leaves the CRC32c to the packet path (crc32c_offload): SCTP over UDP is checked in
// software before the sink, since usrsctp no longer does.
TEST_F(CrcOffloadFramesTest, UdpEncapsulatedPacketsAreCheckedWhenTheEngineLeavesIt) {
  POOLREG_REQUIRE_EAL();
  Bytes bad = native_sctp(64);
  bad[20] ^= 0x40;
  feed(test::ipv4_frame(17, test::udp_v4(bad)));  // engine checks itself: handed on
  ASSERT_EQ(sink_.packets.size(), 1u) << counters_.dropped_total();
  processor_->set_sctp_checksum_offload(SctpChecksumOffload{true, true}, true);
  feed(test::ipv4_frame(17, test::udp_v4(bad)));
  EXPECT_EQ(counters_.dropped(DropReason::kSctpBadChecksum), 1u);
  feed(test::ipv4_frame(17, test::udp_v4(native_sctp(64))));
  EXPECT_EQ(sink_.packets.size(), 2u);
}

class NativeSteeringTest : public test::SteeringTest {
 protected:
  void SetUp() override {
    SteeringTest::SetUp();
    config_.sctp_native = true;
    sink_.native_ports = {kOurSctpPort};
    owner_sink_.native_ports = {kOurSctpPort};
  }
};

TEST_F(NativeSteeringTest, AnotherLanesNativePeerIsSteeredByItsSctpSourcePort) {
  POOLREG_REQUIRE_EAL();
  // The fixture's owner is the lane of (kPeerIp, 50000); the native peer's lane is that of
  // (kPeerIp, SCTP source port 40000): runtime::steer_lane with the SCTP port in the UDP port's place.
  const unsigned native_owner = steer_lane(test::kPeerIp, false, kPeerSctpPort, 2);
  const Bytes sctp = native_sctp(64);
  rte_mbuf* m = mbuf_of(ipv4_native_frame(sctp, 0));
  PacketProcessor& reader = native_owner == owner_ ? *processor_ : *owner_processor_;
  RecordingSink& reader_sink = native_owner == owner_ ? sink_ : owner_sink_;
  reader.process_burst(&m, 1);
  EXPECT_TRUE(reader_sink.packets.empty());
  EXPECT_EQ(reader.counters().sctp_steered_out.get(), 1u);
  ASSERT_EQ(rte_ring_count(inboxes_[native_owner]), 1u);
  rte_mbuf* batch[4];
  const unsigned k = rte_ring_sc_dequeue_burst(inboxes_[native_owner], reinterpret_cast<void**>(batch), 4, nullptr);
  ASSERT_EQ(k, 1u);
  // The owner's engine (its sink) decides whether the port is its own.
  PacketProcessor& owner = native_owner == owner_ ? *owner_processor_ : *processor_;
  RecordingSink& owner_sink = native_owner == owner_ ? owner_sink_ : sink_;
  owner.process_steered(batch, 1);
  ASSERT_EQ(owner_sink.packets.size(), 1u);
  EXPECT_EQ(owner_sink.packets[0].packet, sctp);
  EXPECT_EQ(owner_sink.packets[0].src_port, 0);
  EXPECT_EQ(owner.counters().steered_in.get(), 1u);
}

}  // namespace
}  // namespace poolreg::dpdk
