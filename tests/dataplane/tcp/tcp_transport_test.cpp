// ASAP/ENRP over TCP on 127.0.0.1 (nextgen.md §6), driven through kernel::KernelTransport without
// an SCTP stack (the MessageTransport that composes TcpMessageSockets; poolregd's TCP is the same):
// framing by the header Length, a connection plays the role of an association, bad Length closes
// the connection.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "dataplane/kernel/kernel_transport.hpp"
#include "dataplane/runtime/socket_address.hpp"
#include "tests/dataplane/runtime/recording_handler.hpp"
#include "tests/dataplane/kernel/transport_checks.hpp"

namespace poolreg::tcp {
namespace {

using kernel::testing::expect_close_flushes_queue;
using runtime::testing::make_message;
using runtime::testing::RecordingHandler;
using runtime::testing::run_for;
using runtime::testing::run_until;
using runtime::testing::seq_of;

const IpAddress kLoopback = IpAddress::v4({127, 0, 0, 1});

class TcpTransportTest : public ::testing::Test {
 protected:
  TcpTransportTest() : server(loop, server_handler, nullptr), client(loop, client_handler, nullptr) {}

  std::uint16_t listen(kernel::KernelTransport& t, WireProtocol protocol, bool mptcp = false) {
    const IpAddress addrs[] = {kLoopback};
    runtime::ListenResult r = t.listen_tcp(protocol, addrs, 0, mptcp);
    EXPECT_TRUE(r) << (r ? "" : r.error().detail);
    return r.value_or(0);
  }

  std::pair<ConnectionId, ConnectionId> connect(WireProtocol protocol, std::uint16_t port, bool mptcp = false) {
    const std::size_t before = server_handler.connected.size();
    ConnectionId cid = client.connect_tcp(protocol, kLoopback, port, mptcp);
    EXPECT_NE(cid, kNoConnectionId);
    EXPECT_TRUE(run_until(loop, [&] {
      return server_handler.connected.size() > before &&
             std::find(client_handler.connected.begin(), client_handler.connected.end(), cid) !=
                 client_handler.connected.end();
    }));
    return {cid, server_handler.connected.empty() ? kNoConnectionId : server_handler.connected.back()};
  }

  // A plain blocking socket connected to the server, for writing arbitrary bytes.
  int raw_connect(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    runtime::SocketAddress sa = runtime::SocketAddress::from(kLoopback, port);
    EXPECT_EQ(::connect(fd, sa.get(), sa.length), 0);
    return fd;
  }

  // An ASAP listener on a transport of its own configuration (a quota under test).
  struct GuardedServer {
    RecordingHandler handler;
    kernel::KernelTransport transport;
    std::uint16_t port = 0;
    GuardedServer(TcpTransportTest& t, const runtime::TransportConfig& config)
        : transport(t.loop, handler, nullptr, config), port(t.listen(transport, WireProtocol::kAsap)) {}
  };

  // A raw client of `port` once `h` (the listening transport's handler) saw it come up: the
  // client's fd and the server-side connection id.
  std::pair<int, ConnectionId> raw_accepted(RecordingHandler& h, std::uint16_t port) {
    const std::size_t before = h.connected.size();
    const int fd = raw_connect(port);
    EXPECT_TRUE(run_until(loop, [&] { return h.connected.size() > before; }));
    return {fd, h.connected.size() > before ? h.connected.back() : kNoConnectionId};
  }

  runtime::EventLoop loop;
  RecordingHandler server_handler;
  RecordingHandler client_handler;
  kernel::KernelTransport server;
  kernel::KernelTransport client;
};

TEST_F(TcpTransportTest, AsapMessagesBothWaysAndPeerInfo) {
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  const auto ids_cid = connect(WireProtocol::kAsap, port);
  const ConnectionId cid = ids_cid.first;
  const ConnectionId sid = ids_cid.second;
  ASSERT_NE(sid, kNoConnectionId);
  const ConnectionPeer* peer = server.peer_info(sid);
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(peer->kind, TransportProtocol::kTcp);
  EXPECT_EQ(peer->protocol, WireProtocol::kAsap);
  ASSERT_EQ(peer->addresses.size(), 1u);
  EXPECT_EQ(peer->addresses[0], kLoopback);
  EXPECT_NE(peer->port, 0);
  EXPECT_TRUE(client.peer_info(cid)->outgoing);
  EXPECT_EQ(client.peer_info(cid)->port, port);

  auto reg = make_message(0x01, 40, 1);
  EXPECT_EQ(client.send(cid, WireProtocol::kAsap, reg), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until(loop, [&] { return !server_handler.messages.empty(); }));
  EXPECT_EQ(server_handler.messages[0].bytes, reg);
  EXPECT_EQ(server_handler.messages[0].info.protocol, WireProtocol::kAsap);
  EXPECT_EQ(server_handler.messages[0].info.ppid, 0u);
  auto resp = make_message(0x03, 20, 2);
  EXPECT_EQ(server.send(sid, WireProtocol::kAsap, resp), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until(loop, [&] { return !client_handler.messages.empty(); }));
  EXPECT_EQ(client_handler.messages[0].bytes, resp);
}

// Wildcard listener: one dual-stack socket; IPv4 peers are reported as IPv4 (not v4-mapped).
TEST_F(TcpTransportTest, WildcardListenerAcceptsIpv4AndIpv6) {
  runtime::ListenResult r = server.listen_tcp(WireProtocol::kAsap, {}, 0);
  ASSERT_TRUE(r) << r.error().detail;
  ConnectionId a = client.connect_tcp(WireProtocol::kAsap, kLoopback, *r);
  ConnectionId b = client.connect_tcp(WireProtocol::kAsap, *IpAddress::parse("::1"), *r);
  ASSERT_NE(a, kNoConnectionId);
  ASSERT_NE(b, kNoConnectionId);
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.connected.size() == 2 && client_handler.connected.size() == 2; }));
  std::vector<IpAddress> seen;
  for (auto& [id, peer] : server_handler.peers) seen.push_back(peer.addresses.at(0));
  EXPECT_NE(std::find(seen.begin(), seen.end(), kLoopback), seen.end());
  EXPECT_NE(std::find(seen.begin(), seen.end(), *IpAddress::parse("::1")), seen.end());
}

TEST_F(TcpTransportTest, EnrpListenerMarksMessagesEnrp) {
  const std::uint16_t port = listen(server, WireProtocol::kEnrp);
  const auto ids_cid = connect(WireProtocol::kEnrp, port);
  const ConnectionId cid = ids_cid.first;
  const ConnectionId sid = ids_cid.second;
  ASSERT_NE(sid, kNoConnectionId);
  EXPECT_EQ(client.send(cid, WireProtocol::kEnrp, make_message(0x01, 16)), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until(loop, [&] { return !server_handler.messages.empty(); }));
  EXPECT_EQ(server_handler.messages[0].info.protocol, WireProtocol::kEnrp);
}

// A TCP connection is an association: its end removes the PEs (ASAP-KA-04 analogue, nextgen §6.4).
TEST_F(TcpTransportTest, ClientCloseGivesServerOnClosedOnce) {
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  const auto ids_cid = connect(WireProtocol::kAsap, port);
  const ConnectionId cid = ids_cid.first;
  const ConnectionId sid = ids_cid.second;
  ASSERT_NE(sid, kNoConnectionId);
  client.close(cid);
  EXPECT_FALSE(client_handler.is_closed(cid));  // never re-entrantly from close()
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.is_closed(sid) && client_handler.is_closed(cid); }));
  EXPECT_EQ(server_handler.close_reason(sid), runtime::CloseReason::kPeerClosed);
  EXPECT_EQ(client_handler.close_reason(cid), runtime::CloseReason::kLocalClose);
  run_for(loop, std::chrono::milliseconds(20));
  EXPECT_EQ(server_handler.closed_count[sid], 1);
  EXPECT_EQ(client_handler.closed_count[cid], 1);
  EXPECT_EQ(server.connection_count(), 0u);
}

TEST_F(TcpTransportTest, AbortResetsPeer) {
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  const auto ids_cid = connect(WireProtocol::kAsap, port);
  const ConnectionId cid = ids_cid.first;
  const ConnectionId sid = ids_cid.second;
  ASSERT_NE(sid, kNoConnectionId);
  server.abort(sid);
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.is_closed(sid) && client_handler.is_closed(cid); }));
  EXPECT_EQ(server_handler.close_reason(sid), runtime::CloseReason::kLocalAbort);
  EXPECT_EQ(client_handler.close_reason(cid), runtime::CloseReason::kCommLost);
}

TEST_F(TcpTransportTest, ConnectToClosedPortFails) {
  // Find a port with nothing listening: bind, read, close.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  runtime::SocketAddress sa = runtime::SocketAddress::from(kLoopback, 0);
  ASSERT_EQ(::bind(fd, sa.get(), sa.length), 0);
  socklen_t len = sizeof sa.storage;
  ::getsockname(fd, sa.get(), &len);
  const std::uint16_t port = runtime::port_of(sa.get());
  ::close(fd);
  ConnectionId id = client.connect_tcp(WireProtocol::kAsap, kLoopback, port);
  ASSERT_NE(id, kNoConnectionId);
  ASSERT_TRUE(run_until(loop, [&] { return client_handler.is_closed(id); }));
  EXPECT_EQ(client_handler.close_reason(id), runtime::CloseReason::kConnectFailed);
  EXPECT_TRUE(client_handler.connected.empty());
}

TEST_F(TcpTransportTest, TenThousandMessagesArriveCompleteAndInOrder) {
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  const auto ids_cid = connect(WireProtocol::kAsap, port);
  const ConnectionId cid = ids_cid.first;
  const ConnectionId sid = ids_cid.second;
  ASSERT_NE(sid, kNoConnectionId);
  constexpr std::uint32_t kCount = 10000;
  for (std::uint32_t i = 0; i < kCount; ++i) {
    runtime::SendResult r = client.send(cid, WireProtocol::kAsap, make_message(0x05, 8 + 4 * (i % 64), i));
    ASSERT_TRUE(runtime::send_ok(r)) << to_string(r) << " at " << i;
  }
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.messages.size() >= kCount; }, std::chrono::seconds(20)));
  ASSERT_EQ(server_handler.messages.size(), kCount);
  for (std::uint32_t i = 0; i < kCount; ++i) {
    ASSERT_EQ(server_handler.messages[i].bytes, make_message(0x05, 8 + 4 * (i % 64), i)) << i;
  }
}

// Graceful close: messages still queued when close() is called are sent first, then the
// connection ends and the peer sees it closed (not reset).
TEST_F(TcpTransportTest, CloseSendsQueuedMessagesBeforeEnding) {
  RecordingHandler h;
  kernel::KernelTransport sender(loop, h, nullptr);
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  ConnectionId id = sender.connect_tcp(WireProtocol::kAsap, kLoopback, port);
  ASSERT_TRUE(run_until(loop, [&] { return h.connected.size() == 1 && server_handler.connected.size() == 1; }));
  expect_close_flushes_queue(loop, sender, h, server_handler, id, 5000, 65532);
}

// Bounded queues: a peer that does not read fills the socket, then the FIFO, then sends are
// dropped (counted); a partly written message is always completed so the stream stays framed.
TEST_F(TcpTransportTest, FullSocketQueuesThenDropsAndFlushesInOrder) {
  runtime::TransportConfig config;
  config.max_queued_messages = 8;
  RecordingHandler h;
  kernel::KernelTransport sender(loop, h, nullptr, config);
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  ConnectionId id = sender.connect_tcp(WireProtocol::kAsap, kLoopback, port);
  ASSERT_TRUE(run_until(loop, [&] { return h.connected.size() == 1 && server_handler.connected.size() == 1; }));
  std::vector<std::uint32_t> accepted;
  int full = 0;
  for (std::uint32_t i = 0; i < 5000 && full == 0; ++i) {  // no loop run: the server does not read
    runtime::SendResult r = sender.send(id, WireProtocol::kAsap, make_message(0x05, 65532, i));
    if (runtime::send_ok(r)) accepted.push_back(i);
    if (r == runtime::SendResult::kQueueFull) ++full;
  }
  ASSERT_EQ(full, 1) << "the socket never filled";
  EXPECT_GE(sender.queued_messages(id), 8u);
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.messages.size() == accepted.size(); },
                        std::chrono::seconds(20)));
  for (std::size_t i = 0; i < accepted.size(); ++i) EXPECT_EQ(seq_of(server_handler.messages[i].bytes), accepted[i]);
  EXPECT_EQ(sender.queued_messages(id), 0u);
}

TEST_F(TcpTransportTest, MessagesSentWhileConnectingAreDeliveredAfterConnect) {
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  ConnectionId cid = client.connect_tcp(WireProtocol::kAsap, kLoopback, port);
  ASSERT_NE(cid, kNoConnectionId);
  EXPECT_EQ(client.send(cid, WireProtocol::kAsap, make_message(0x01, 12, 5)), runtime::SendResult::kQueued);
  ASSERT_TRUE(run_until(loop, [&] { return !server_handler.messages.empty(); }));
  EXPECT_EQ(seq_of(server_handler.messages[0].bytes), 5u);
}

// nextgen.md §6.2: Length < 4, % 4 != 0 or > max closes the connection (no resynchronisation).
class TcpFramingErrorTest : public TcpTransportTest, public ::testing::WithParamInterface<std::uint16_t> {};

TEST_P(TcpFramingErrorTest, BadLengthClosesConnection) {
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  int fd = raw_connect(port);
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.connected.size() == 1; }));
  const ConnectionId sid = server_handler.connected[0];
  // One good message, then the bad header.
  auto good = make_message(0x01, 8);
  const std::uint16_t bad = GetParam();
  std::uint8_t bytes[12] = {good[0], good[1], good[2], good[3], good[4], good[5], good[6], good[7],
                            0x01,    0x00,    static_cast<std::uint8_t>(bad >> 8), static_cast<std::uint8_t>(bad)};
  ASSERT_EQ(::send(fd, bytes, sizeof bytes, 0), static_cast<ssize_t>(sizeof bytes));
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.is_closed(sid); }));
  EXPECT_EQ(server_handler.close_reason(sid), runtime::CloseReason::kFramingError);
  EXPECT_EQ(server_handler.messages.size(), 1u);
  EXPECT_EQ(server.counters().framing_errors, 1u);
  // The peer sees the connection end.
  char c;
  ssize_t n = ::recv(fd, &c, 1, 0);
  EXPECT_LE(n, 0);
  ::close(fd);
}

INSTANTIATE_TEST_SUITE_P(Lengths, TcpFramingErrorTest, ::testing::Values(0, 2, 6, 13, 65535));

TEST_F(TcpTransportTest, EnrpMinimumLengthIs12) {
  const std::uint16_t port = listen(server, WireProtocol::kEnrp);
  int fd = raw_connect(port);
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.connected.size() == 1; }));
  std::uint8_t bytes[8] = {0x01, 0, 0, 8, 0, 0, 0, 0};
  ASSERT_EQ(::send(fd, bytes, sizeof bytes, 0), 8);
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.is_closed(server_handler.connected[0]); }));
  EXPECT_EQ(server_handler.close_reason(server_handler.connected[0]), runtime::CloseReason::kFramingError);
  ::close(fd);
}

TEST_F(TcpTransportTest, ConfiguredMaximumIsEnforced) {
  runtime::TransportConfig config;
  config.max_message_size = 64;
  RecordingHandler h;
  kernel::KernelTransport small(loop, h, nullptr, config);
  const std::uint16_t port = listen(small, WireProtocol::kAsap);
  int fd = raw_connect(port);
  ASSERT_TRUE(run_until(loop, [&] { return h.connected.size() == 1; }));
  auto ok = make_message(0x01, 64);
  auto big = make_message(0x01, 68);
  ASSERT_EQ(::send(fd, ok.data(), ok.size(), 0), 64);
  ASSERT_EQ(::send(fd, big.data(), big.size(), 0), 68);
  ASSERT_TRUE(run_until(loop, [&] { return h.is_closed(h.connected[0]); }));
  EXPECT_EQ(h.messages.size(), 1u);
  EXPECT_EQ(h.close_reason(h.connected[0]), runtime::CloseReason::kFramingError);
  EXPECT_EQ(small.send(12345, WireProtocol::kAsap, ok), runtime::SendResult::kNoConnection);
  ::close(fd);
}

TEST_F(TcpTransportTest, SplitAndMergedSegmentsAreReframed) {
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  int fd = raw_connect(port);
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.connected.size() == 1; }));
  std::vector<std::uint8_t> stream;
  for (std::uint32_t i = 0; i < 50; ++i) {
    auto m = make_message(0x05, 8 + 4 * i, i);
    stream.insert(stream.end(), m.begin(), m.end());
  }
  // Odd-sized writes that cut headers and bodies anywhere.
  std::size_t off = 0;
  std::size_t step = 1;
  while (off < stream.size()) {
    std::size_t n = std::min(step, stream.size() - off);
    ASSERT_EQ(::send(fd, stream.data() + off, n, 0), static_cast<ssize_t>(n));
    off += n;
    step = step * 3 % 97 + 1;
    loop.run_once(0);
  }
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.messages.size() == 50; }));
  for (std::uint32_t i = 0; i < 50; ++i) EXPECT_EQ(server_handler.messages[i].bytes, make_message(0x05, 8 + 4 * i, i));
  ::close(fd);
}

// nextgen.md §6.7: IPPROTO_MPTCP listeners, falling back to TCP where the kernel refuses.
TEST_F(TcpTransportTest, MptcpListenerAndConnectWorkOrFallBack) {
  const std::uint16_t port = listen(server, WireProtocol::kAsap, /*mptcp=*/true);
  ASSERT_NE(port, 0);
  const auto ids_cid = connect(WireProtocol::kAsap, port, /*mptcp=*/true);
  const ConnectionId cid = ids_cid.first;
  const ConnectionId sid = ids_cid.second;
  ASSERT_NE(sid, kNoConnectionId);
  EXPECT_EQ(server.peer_info(sid)->kind, TransportProtocol::kTcp);
  EXPECT_EQ(client.send(cid, WireProtocol::kAsap, make_message(0x01, 8)), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until(loop, [&] { return !server_handler.messages.empty(); }));
  RecordProperty("mptcp_fallbacks", static_cast<int>(server.counters().mptcp_fallbacks));
}

TEST_F(TcpTransportTest, CloseAllReportsShutdownForEveryConnection) {
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  const auto ids_c1 = connect(WireProtocol::kAsap, port);
  const ConnectionId s1 = ids_c1.second;
  const auto ids_c2 = connect(WireProtocol::kAsap, port);
  const ConnectionId s2 = ids_c2.second;
  ASSERT_NE(s2, kNoConnectionId);
  server.close_all();
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.closed.size() == 2; }));
  EXPECT_EQ(server_handler.close_reason(s1), runtime::CloseReason::kShutdown);
  EXPECT_EQ(server_handler.close_reason(s2), runtime::CloseReason::kShutdown);
  ASSERT_TRUE(run_until(loop, [&] { return client_handler.closed.size() == 2; }));
  // The listener is gone too.
  ConnectionId late = client.connect_tcp(WireProtocol::kAsap, kLoopback, port);
  ASSERT_TRUE(run_until(loop, [&] { return client_handler.is_closed(late); }));
  EXPECT_EQ(client_handler.close_reason(late), runtime::CloseReason::kConnectFailed);
}

// Issue 17: partial frames held over all connections stay within partial_frame_budget; the
// connection holding the largest partial message is reset first, the others are served.
TEST_F(TcpTransportTest, PartialFrameBudgetResetsTheLargestHolderOthersServed) {
  GuardedServer g(*this, runtime::TransportConfig{.partial_frame_budget = 1000});
  RecordingHandler& h = g.handler;
  const std::uint16_t port = g.port;
  // B: 204 bytes of a 400-byte message.
  const auto [b, sb] = raw_accepted(h, port);
  auto mb = make_message(0x01, 400, 7);
  ASSERT_EQ(::send(b, mb.data(), 204, 0), 204);
  run_for(loop, std::chrono::milliseconds(50));
  EXPECT_FALSE(h.is_closed(sb));
  // A: 904 bytes of a 2000-byte message: 1108 held in all, over the budget; A holds the most.
  const auto [a, sa] = raw_accepted(h, port);
  auto ma = make_message(0x01, 2000, 1);
  ASSERT_EQ(::send(a, ma.data(), 904, 0), 904);
  ASSERT_TRUE(run_until(loop, [&, id = sa] { return h.is_closed(id); }));  // clang: no capture of bindings
  EXPECT_EQ(h.close_reason(sa), runtime::CloseReason::kQuotaExceeded);
  EXPECT_EQ(g.transport.counters().partial_frame_budget_resets, 1u);
  EXPECT_FALSE(h.is_closed(sb));
  // B completes its message and is served; a new client with whole messages too.
  ASSERT_EQ(::send(b, mb.data() + 204, mb.size() - 204, 0), static_cast<ssize_t>(mb.size() - 204));
  ASSERT_TRUE(run_until(loop, [&] { return h.messages.size() == 1; }));
  EXPECT_EQ(h.messages[0].bytes, mb);
  int c = raw_connect(port);
  auto mc = make_message(0x05, 8, 3);
  ASSERT_EQ(::send(c, mc.data(), mc.size(), 0), static_cast<ssize_t>(mc.size()));
  ASSERT_TRUE(run_until(loop, [&] { return h.messages.size() == 2; }));
  EXPECT_EQ(g.transport.counters().partial_frame_budget_resets, 1u);
  // The peer of the reset connection sees its end.
  char byte;
  EXPECT_LE(::recv(a, &byte, 1, 0), 0);
  ::close(a);
  ::close(b);
  ::close(c);
}

// Issue 17: a connection that completes no message within first_message_timeout is reset (a
// client trickling a frame, or silent); one that completed a message is left alone.
TEST_F(TcpTransportTest, FirstMessageTimeoutResetsTricklingClientOnly) {
  GuardedServer g(*this, runtime::TransportConfig{.first_message_timeout = 300 * kNsPerMs});
  RecordingHandler& h = g.handler;
  const std::uint16_t port = g.port;
  const auto [good, sgood] = raw_accepted(h, port);
  auto m = make_message(0x05, 8, 1);
  ASSERT_EQ(::send(good, m.data(), m.size(), 0), static_cast<ssize_t>(m.size()));
  ASSERT_TRUE(run_until(loop, [&] { return h.messages.size() == 1; }));
  const auto [slow, sslow] = raw_accepted(h, port);
  auto big = make_message(0x01, 64, 2);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3 && !h.is_closed(sslow); ++i) {  // a byte every 50 ms
    ASSERT_EQ(::send(slow, big.data() + i, 1, 0), 1);
    run_for(loop, std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(run_until(loop, [&, id = sslow] { return h.is_closed(id); }));  // clang: no capture of bindings
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
  EXPECT_EQ(h.close_reason(sslow), runtime::CloseReason::kQuotaExceeded);
  EXPECT_EQ(g.transport.counters().first_message_timeouts, 1u);
  run_for(loop, std::chrono::milliseconds(400));  // past the timeout of the good one too
  EXPECT_FALSE(h.is_closed(sgood));
  ::close(good);
  ::close(slow);
}

}  // namespace
}  // namespace poolreg::tcp
