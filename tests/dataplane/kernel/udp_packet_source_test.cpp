// UdpPacketSource (a kernel lane's SCTP-over-UDP socket) on loopback: datagrams arrive with the
// peer's address and UDP port; bad input (shorter than an SCTP common header, larger than the
// receive buffer) is dropped and counted, never delivered; send_sctp() + flush() reach a plain
// UDP socket; a port taken by a socket outside the group is reported by check_port_free().
#include "dataplane/kernel/udp_packet_source.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

namespace poolreg::kernel {
namespace {

struct Received {
  sctp::SctpPacketFrom from;
  std::vector<std::uint8_t> bytes;
};

class UdpPacketSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = UdpPacketSource::open(IpAddress::v4({127, 0, 0, 1}), 0, counters_);
    ASSERT_TRUE(opened) << opened.error();
    source_ = std::move(*opened);
    peer_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(peer_, reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
    socklen_t len = sizeof any;
    ::getsockname(peer_, reinterpret_cast<sockaddr*>(&any), &len);
    peer_port_ = ntohs(any.sin_port);
  }
  void TearDown() override {
    if (peer_ >= 0) ::close(peer_);
  }
  void send_from_peer(std::size_t size) {
    std::vector<std::uint8_t> data(size, 0x5a);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(source_->port());
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::sendto(peer_, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(size));
  }
  // Reads until `want` datagrams were seen by the source (delivered or dropped), bounded.
  std::vector<Received> receive(std::uint64_t want) {
    std::vector<Received> out;
    for (int i = 0; i < 200 && counters_.rx_packets.get() < want; ++i) {
      pollfd p{source_->fd(), POLLIN, 0};
      ::poll(&p, 1, 10);
      source_->receive([&](const sctp::SctpPacketFrom& from, const std::uint8_t* bytes, std::uint16_t length) {
        out.push_back({from, std::vector<std::uint8_t>(bytes, bytes + length)});
      });
    }
    return out;
  }

  KernelLaneCounters counters_;
  std::unique_ptr<UdpPacketSource> source_;
  int peer_ = -1;
  std::uint16_t peer_port_ = 0;
};

TEST_F(UdpPacketSourceTest, DeliversWithThePeersAddressAndDropsBadInput) {
  ASSERT_NE(source_->port(), 0);
  send_from_peer(5);                                  // shorter than an SCTP common header
  send_from_peer(UdpPacketSource::kMaxDatagram + 100);  // larger than a receive buffer
  send_from_peer(64);
  const auto got = receive(3);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0].from.ipv6);
  EXPECT_EQ(got[0].from.src_ip[0], 127);
  EXPECT_EQ(got[0].from.src_ip[3], 1);
  EXPECT_EQ(got[0].from.src_port, peer_port_);
  EXPECT_EQ(got[0].bytes.size(), 64u);
  EXPECT_EQ(counters_.drop_too_short.get(), 1u);
  EXPECT_EQ(counters_.drop_truncated.get(), 1u);
  EXPECT_EQ(counters_.rx_packets.get(), 3u);
}

TEST_F(UdpPacketSourceTest, SendsTheBatchOnFlush) {
  sctp::SctpPeer to;
  to.ip[0] = 127;
  to.ip[3] = 1;
  to.udp_port = peer_port_;
  const std::vector<std::uint8_t> packet(100, 0x11);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(source_->send_sctp(to, packet.data(), 100));
  EXPECT_EQ(counters_.tx_packets.get(), 0u);  // queued until flush()
  source_->flush();
  EXPECT_EQ(counters_.tx_packets.get(), 3u);
  std::uint8_t buffer[256];
  int seen = 0;
  for (int i = 0; i < 100 && seen < 3; ++i) {
    pollfd p{peer_, POLLIN, 0};
    if (::poll(&p, 1, 10) <= 0) continue;
    if (::recv(peer_, buffer, sizeof buffer, 0) == 100) ++seen;
  }
  EXPECT_EQ(seen, 3);
}

TEST_F(UdpPacketSourceTest, APortTakenOutsideTheGroupIsReported) {
  EXPECT_FALSE(UdpPacketSource::check_port_free(IpAddress::v4({127, 0, 0, 1}), peer_port_));
  EXPECT_TRUE(UdpPacketSource::check_port_free(IpAddress::v4({127, 0, 0, 1}), 0));
  // The group itself: a second lane's socket joins the port (SO_REUSEPORT).
  KernelLaneCounters second_counters;
  auto second = UdpPacketSource::open(IpAddress::v4({127, 0, 0, 1}), source_->port(), second_counters);
  ASSERT_TRUE(second) << second.error();
  EXPECT_EQ((*second)->port(), source_->port());
}

}  // namespace
}  // namespace poolreg::kernel
