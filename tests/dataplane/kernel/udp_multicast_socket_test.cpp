// UdpMulticastSocket on the loopback interface: Server Announce / ENRP Presence groups.
// If the sandbox has no multicast on lo the multicast test is skipped (reported) and the unicast
// path of the same socket is tested instead.
#include "dataplane/kernel/udp_multicast_socket.hpp"

#include <gtest/gtest.h>

#include <random>

#include "tests/dataplane/runtime/recording_handler.hpp"

namespace poolreg::kernel {
namespace {

using runtime::testing::make_message;
using runtime::testing::run_for;
using runtime::testing::run_until;

const IpAddress kLoopback = IpAddress::v4({127, 0, 0, 1});

// A random high port so parallel test runs do not share the group port.
std::uint16_t random_port() {
  std::random_device rd;
  return static_cast<std::uint16_t>(20000 + rd() % 30000);
}

struct Received {
  std::vector<std::uint8_t> bytes;
  IpAddress from;
  std::uint16_t port;
};

TEST(UdpMulticastSocket, RejectsNonMulticastGroupAndBadTtl) {
  runtime::EventLoop loop;
  UdpMulticastConfig c;
  c.group = kLoopback;
  auto not_multicast = UdpMulticastSocket::open(loop, c, nullptr);
  ASSERT_FALSE(not_multicast.has_value());
  EXPECT_FALSE(not_multicast.error().empty());
  c.group = IpAddress::v4({239, 0, 0, 50});
  c.ttl = 0;
  EXPECT_FALSE(UdpMulticastSocket::open(loop, c, nullptr).has_value());
}

TEST(UdpMulticastSocket, ServerAnnounceGroupOnLoopback) {
  runtime::EventLoop loop;
  const std::uint16_t port = random_port();
  std::vector<Received> got;
  UdpMulticastConfig rc;
  rc.group = IpAddress::v4({239, 0, 0, 50});
  rc.port = port;
  rc.interface_address = kLoopback;
  rc.ttl = 1;
  auto opened = UdpMulticastSocket::open(
      loop, rc, [&](std::span<const std::uint8_t> p, const IpAddress& from, std::uint16_t from_port) {
        got.push_back(Received{{p.begin(), p.end()}, from, from_port});
      });
  if (!opened) GTEST_SKIP() << "no multicast on lo here: " << opened.error();
  auto receiver = std::move(opened).value();
  UdpMulticastConfig sc = rc;
  sc.receive = false;
  auto sender_opened = UdpMulticastSocket::open(loop, sc, nullptr);
  ASSERT_TRUE(sender_opened.has_value()) << sender_opened.error();
  auto sender = std::move(sender_opened).value();
  auto announce = make_message(0x0a, 8, 0x12345678);
  if (!sender->send(announce)) GTEST_SKIP() << "multicast send on lo refused here";
  if (!run_until(loop, [&] { return !got.empty(); }, std::chrono::milliseconds(1000))) {
    GTEST_SKIP() << "multicast loop on lo does not deliver here";
  }
  EXPECT_EQ(got[0].bytes, announce);
  EXPECT_EQ(got[0].from, kLoopback);
  EXPECT_EQ(got[0].port, sender->local_port());
  EXPECT_EQ(receiver->received(), 1u);
  EXPECT_EQ(sender->sent(), 1u);
}

TEST(UdpMulticastSocket, SendOnlySocketReceivesUnicastReplies) {
  runtime::EventLoop loop;
  std::vector<Received> got;
  UdpMulticastConfig c;
  c.group = IpAddress::v4({239, 0, 0, 51});
  c.port = random_port();
  c.interface_address = kLoopback;
  c.receive = false;
  auto a_opened = UdpMulticastSocket::open(
      loop, c, [&](std::span<const std::uint8_t> p, const IpAddress& from, std::uint16_t from_port) {
        got.push_back(Received{{p.begin(), p.end()}, from, from_port});
      });
  ASSERT_TRUE(a_opened.has_value()) << a_opened.error();
  auto a = std::move(a_opened).value();
  auto b_opened = UdpMulticastSocket::open(loop, c, nullptr);
  ASSERT_TRUE(b_opened.has_value()) << b_opened.error();
  auto b = std::move(b_opened).value();
  auto presence = make_message(0x01, 32, 77);
  EXPECT_TRUE(b->send_to(kLoopback, a->local_port(), presence));
  ASSERT_TRUE(run_until(loop, [&] { return !got.empty(); }, std::chrono::milliseconds(2000)));
  EXPECT_EQ(got[0].bytes, presence);
  EXPECT_EQ(got[0].port, b->local_port());
}

}  // namespace
}  // namespace poolreg::kernel
