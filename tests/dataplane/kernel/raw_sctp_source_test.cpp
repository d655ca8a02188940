// RawSctpSource (native SCTP, IP protocol 132, on raw sockets) on loopback: a packet sent with
// send_sctp() arrives at a receiving source with the peer's address and UDP port 0 (native) over
// IPv4 and IPv6 (our address known for both: the IPv4 header, IPV6_PKTINFO); a truncated
// common header and a bad CRC32c are dropped and counted by reason, never delivered; a send-only
// source queues nothing; reaches() takes native peers only. Raw sockets see every SCTP packet of
// the host, so each test picks SCTP ports of its own and looks only at those. Skipped unless root
// (CAP_NET_RAW).
#include "dataplane/kernel/raw_sctp_source.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <random>
#include <vector>

namespace poolreg::kernel {
namespace {

struct Received {
  sctp::SctpPacketFrom from;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::vector<std::uint8_t> bytes;
};

// A COOKIE ACK from `src` to `dst` with its CRC32c.
std::vector<std::uint8_t> packet(std::uint16_t src, std::uint16_t dst) {
  std::vector<std::uint8_t> p = {static_cast<std::uint8_t>(src >> 8), static_cast<std::uint8_t>(src),
                                 static_cast<std::uint8_t>(dst >> 8), static_cast<std::uint8_t>(dst),
                                 1, 2, 3, 4, 0, 0, 0, 0, 11, 0, 0, 4};
  sctp::set_sctp_crc(p);
  return p;
}

sctp::SctpPeer loopback_peer(bool ipv6) {
  sctp::SctpPeer to;
  to.ipv6 = ipv6;
  if (ipv6) {
    to.ip[15] = 1;
  } else {
    to.ip[0] = 127, to.ip[3] = 1;
  }
  return to;  // udp_port 0: native
}

class RawSctpSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "raw sockets need root (CAP_NET_RAW)";
    auto rx = RawSctpSource::open(3, true, rx_counters_);
    if (!rx) GTEST_SKIP() << rx.error();
    rx_ = std::move(*rx);
    auto tx = RawSctpSource::open(0, false, tx_counters_);
    ASSERT_TRUE(tx) << tx.error();
    tx_ = std::move(*tx);
    std::random_device seed;
    port_ = static_cast<std::uint16_t>(20000 + seed() % 20000);
  }
  // Reads (bounded, 1 s) until `want` packets to our port arrived or `until` says so.
  template <typename Until>
  std::vector<Received> receive(std::size_t want, Until until) {
    std::vector<Received> out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (out.size() < want && !until() && std::chrono::steady_clock::now() < deadline) {
      pollfd p[2] = {{rx_->fd4(), POLLIN, 0}, {rx_->fd6(), POLLIN, 0}};
      ::poll(p, rx_->has_ipv6() ? 2 : 1, 10);
      rx_->receive([&](const sctp::NativePacket& n) {
        if (n.dst_port != port_) return;  // another SCTP user of this host
        out.push_back({n.from, n.src_port, n.dst_port, std::vector<std::uint8_t>(n.sctp.begin(), n.sctp.end())});
      });
    }
    return out;
  }
  std::vector<Received> receive(std::size_t want) {
    return receive(want, [] { return false; });
  }
  KernelLaneCounters rx_counters_, tx_counters_;
  std::unique_ptr<RawSctpSource> rx_, tx_;
  std::uint16_t port_ = 0;
};

TEST_F(RawSctpSourceTest, Ipv4PacketArrivesAsANativePeer) {
  const auto p = packet(4242, port_);
  ASSERT_TRUE(tx_->send_sctp(loopback_peer(false), p.data(), static_cast<std::uint16_t>(p.size())));
  EXPECT_EQ(tx_counters_.native_out.get(), 1u);
  const auto got = receive(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0].from.ipv6);
  EXPECT_EQ(got[0].from.src_ip[0], 127);
  EXPECT_EQ(got[0].from.src_ip[3], 1);
  EXPECT_EQ(got[0].from.dst_ip[0], 127);  // IPv4: our address from the IP header
  EXPECT_EQ(got[0].from.src_port, 0);     // native
  EXPECT_EQ(got[0].from.path_index, 3);
  EXPECT_EQ(got[0].src_port, 4242);
  EXPECT_EQ(got[0].bytes, p);  // the IP header is stripped
}

TEST_F(RawSctpSourceTest, Ipv6PacketArrivesAsANativePeer) {
  if (!rx_->has_ipv6() || !tx_->has_ipv6()) GTEST_SKIP() << "no IPv6 raw socket on this host";
  const auto p = packet(4243, port_);
  if (!tx_->send_sctp(loopback_peer(true), p.data(), static_cast<std::uint16_t>(p.size())))
    GTEST_SKIP() << "::1 not reachable here";
  const auto got = receive(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].from.ipv6);
  EXPECT_EQ(got[0].from.src_ip[15], 1);
  // Our address from IPV6_PKTINFO (the listen check needs it): ::1.
  const std::uint8_t loopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_EQ(std::memcmp(got[0].from.dst_ip, loopback6, 16), 0);
  EXPECT_EQ(got[0].from.src_port, 0);
  EXPECT_EQ(got[0].bytes, p);
}

TEST_F(RawSctpSourceTest, TruncatedAndBadCrcAreCountedNotDelivered) {
  const std::uint64_t truncated = rx_counters_.native_drop_truncated.get();
  const std::uint64_t bad_crc = rx_counters_.native_drop_bad_crc.get();
  std::vector<std::uint8_t> short_header = {0x10, 0x92, static_cast<std::uint8_t>(port_ >> 8),
                                            static_cast<std::uint8_t>(port_), 0, 0, 0, 0};
  ASSERT_TRUE(tx_->send_sctp(loopback_peer(false), short_header.data(), 8));
  auto broken = packet(4244, port_);
  broken[13] ^= 0x40;  // after the CRC was set
  ASSERT_TRUE(tx_->send_sctp(loopback_peer(false), broken.data(), static_cast<std::uint16_t>(broken.size())));
  const auto good = packet(4245, port_);
  ASSERT_TRUE(tx_->send_sctp(loopback_peer(false), good.data(), static_cast<std::uint16_t>(good.size())));
  // The good packet was sent last: once it is here the others were read (one socket, in order).
  const auto got = receive(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].src_port, 4245);
  EXPECT_GE(rx_counters_.native_drop_truncated.get(), truncated + 1);
  EXPECT_GE(rx_counters_.native_drop_bad_crc.get(), bad_crc + 1);
}

TEST_F(RawSctpSourceTest, SendOnlySourceQueuesNothing) {
  const auto p = packet(4246, port_);
  ASSERT_TRUE(tx_->send_sctp(loopback_peer(false), p.data(), static_cast<std::uint16_t>(p.size())));
  ASSERT_EQ(receive(1).size(), 1u);  // it was on the wire
  pollfd fd{tx_->fd4(), POLLIN, 0};
  EXPECT_EQ(::poll(&fd, 1, 50), 0);  // the filter kept it (and every other SCTP packet) out
}

TEST_F(RawSctpSourceTest, ReachesNativePeersOnly) {
  sctp::SctpPeer native = loopback_peer(false);
  EXPECT_TRUE(tx_->reaches(native));
  native.udp_port = 9899;
  EXPECT_FALSE(tx_->reaches(native));
}

}  // namespace
}  // namespace poolreg::kernel
