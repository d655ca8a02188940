// KernelTransport's SCTP (the one engine on one UDP socket, RFC 6951, driven by the test's
// EventLoop) on 127.0.0.1. Server and client are two KernelTransports in one process sharing the
// process's one SctpStack: the associations go out as UDP to our own port and come back in
// (verified here).
#include <gtest/gtest.h>

#include <ifaddrs.h>
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "dataplane/kernel/kernel_transport.hpp"
#include "dataplane/kernel/sctp_stack.hpp"
#include "dataplane/runtime/socket_address.hpp"
#include "tests/dataplane/runtime/recording_handler.hpp"
#include "tests/dataplane/kernel/transport_checks.hpp"

namespace poolreg::kernel {
namespace {

using kernel::testing::expect_close_flushes_queue;
using runtime::testing::make_message;
using runtime::testing::RecordingHandler;
using runtime::testing::run_for;
using runtime::testing::run_until;
using runtime::testing::seq_of;

const IpAddress kLoopback = IpAddress::v4({127, 0, 0, 1});

// usrsctp is one stack per process: one SctpStack for the whole test binary, on a free UDP port.
class StackEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    SctpStackConfig config;
    config.udp_port = 0;
    config.heartbeat_interval_ms = 1000;
    std::string error;
    stack = SctpStack::create(config, &error);
    ASSERT_NE(stack, nullptr) << error;
  }
  void TearDown() override { stack.reset(); }
  static inline std::unique_ptr<SctpStack> stack;
};
[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new StackEnvironment);

class SctpTransportTest : public ::testing::Test {
 protected:
  SctpTransportTest()
      : server(loop, server_handler, StackEnvironment::stack.get()),
        client(loop, client_handler, StackEnvironment::stack.get()) {}

  std::uint16_t udp_port() const { return StackEnvironment::stack->udp_port(); }

  // Listens on a free port (port 0) for `protocol`; returns the port.
  std::uint16_t listen(KernelTransport& t, WireProtocol protocol) {
    const IpAddress addrs[] = {kLoopback};
    runtime::ListenResult r = t.listen_sctp(protocol, addrs, 0);
    EXPECT_TRUE(r) << (r ? "" : r.error().detail);
    EXPECT_NE(r.value_or(0), 0);
    return r.value_or(0);
  }

  // Connects the client to the server's listener and waits for both sides to see the association.
  // Returns {client id, server id}.
  std::pair<ConnectionId, ConnectionId> connect(WireProtocol protocol, std::uint16_t port) {
    const IpAddress addrs[] = {kLoopback};
    const std::size_t server_before = server_handler.connected.size();
    ConnectionId cid = client.connect_sctp(protocol, addrs, port, udp_port());
    EXPECT_NE(cid, kNoConnectionId);
    EXPECT_TRUE(run_until(loop, [&] {
      return server_handler.connected.size() > server_before &&
             std::find(client_handler.connected.begin(), client_handler.connected.end(), cid) !=
                 client_handler.connected.end();
    }));
    ConnectionId sid = server_handler.connected.empty() ? kNoConnectionId : server_handler.connected.back();
    return {cid, sid};
  }

  ~SctpTransportTest() override {
    // Shut down gracefully so the next test starts with a quiet stack.
    server.close_all();
    client.close_all();
    run_for(loop, std::chrono::milliseconds(20));
  }

  runtime::EventLoop loop;
  RecordingHandler server_handler;
  RecordingHandler client_handler;
  KernelTransport server;
  KernelTransport client;
};

TEST_F(SctpTransportTest, AsapMessagesBothWaysWithPpid11AndPeerInfo) {
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  const auto ids_cid = connect(WireProtocol::kAsap, port);
  const ConnectionId cid = ids_cid.first;
  const ConnectionId sid = ids_cid.second;
  ASSERT_NE(sid, kNoConnectionId);

  // Server side sees the client's address and SCTP port (needed for ASAP-REG-06/07).
  const ConnectionPeer* peer = server.peer_info(sid);
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(peer->kind, TransportProtocol::kSctp);
  EXPECT_EQ(peer->protocol, WireProtocol::kAsap);
  EXPECT_FALSE(peer->outgoing);
  // The client socket is bound to the wildcard address, so the association lists every local
  // address of this host (multi-homing), 127.0.0.1 among them.
  ASSERT_GE(peer->addresses.size(), 1u);
  EXPECT_NE(std::find(peer->addresses.begin(), peer->addresses.end(), kLoopback), peer->addresses.end());
  EXPECT_NE(peer->port, 0);
  EXPECT_EQ(peer->udp_encapsulation_port, udp_port());
  const ConnectionPeer* cpeer = client.peer_info(cid);
  ASSERT_NE(cpeer, nullptr);
  EXPECT_TRUE(cpeer->outgoing);
  EXPECT_EQ(cpeer->port, port);

  auto reg = make_message(0x01, 32, 7);
  EXPECT_EQ(client.send(cid, WireProtocol::kAsap, reg), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until(loop, [&] { return !server_handler.messages.empty(); }));
  EXPECT_EQ(server_handler.messages[0].id, sid);
  EXPECT_EQ(server_handler.messages[0].bytes, reg);
  EXPECT_EQ(server_handler.messages[0].info.ppid, kAsapPpid);
  EXPECT_EQ(server_handler.messages[0].info.protocol, WireProtocol::kAsap);

  auto resp = make_message(0x03, 24, 8);
  EXPECT_EQ(server.send(sid, WireProtocol::kAsap, resp), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until(loop, [&] { return !client_handler.messages.empty(); }));
  EXPECT_EQ(client_handler.messages[0].bytes, resp);
  EXPECT_EQ(client_handler.messages[0].info.ppid, kAsapPpid);
}

// The daemon's default: listen on every address (IPv6 wildcard socket that also takes IPv4).
TEST_F(SctpTransportTest, WildcardListenerAcceptsIpv4AndIpv6) {
  runtime::ListenResult r = server.listen_sctp(WireProtocol::kAsap, {}, 0);
  ASSERT_TRUE(r) << r.error().detail;
  const IpAddress v4[] = {kLoopback};
  ConnectionId a = client.connect_sctp(WireProtocol::kAsap, v4, *r, udp_port());
  ASSERT_NE(a, kNoConnectionId);
  ASSERT_TRUE(run_until(loop, [&] { return client_handler.connected.size() == 1; }));
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.connected.size() == 1; }));
  const ConnectionPeer& p4 = server_handler.peers[server_handler.connected[0]];
  EXPECT_NE(std::find(p4.addresses.begin(), p4.addresses.end(), kLoopback), p4.addresses.end());

  const IpAddress v6[] = {*IpAddress::parse("::1")};
  RecordingHandler h6;
  KernelTransport client6(loop, h6, StackEnvironment::stack.get());
  ConnectionId b = client6.connect_sctp(WireProtocol::kAsap, v6, *r, udp_port());
  ASSERT_NE(b, kNoConnectionId);
  ASSERT_TRUE(run_until(loop, [&] { return h6.connected.size() == 1; }));
  EXPECT_EQ(client6.send(b, WireProtocol::kAsap, make_message(0x01, 8)), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until(loop, [&] { return !server_handler.messages.empty(); }));
  client6.close_all();
  run_for(loop, std::chrono::milliseconds(20));
}

TEST_F(SctpTransportTest, EnrpListenerCarriesPpid12) {
  const std::uint16_t port = listen(server, WireProtocol::kEnrp);
  const auto ids_cid = connect(WireProtocol::kEnrp, port);
  const ConnectionId cid = ids_cid.first;
  const ConnectionId sid = ids_cid.second;
  ASSERT_NE(sid, kNoConnectionId);
  EXPECT_EQ(server.peer_info(sid)->protocol, WireProtocol::kEnrp);
  auto presence = make_message(0x01, 44, 1);
  EXPECT_EQ(client.send(cid, WireProtocol::kEnrp, presence), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until(loop, [&] { return !server_handler.messages.empty(); }));
  EXPECT_EQ(server_handler.messages[0].info.ppid, kEnrpPpid);
  EXPECT_EQ(server_handler.messages[0].info.protocol, WireProtocol::kEnrp);
  EXPECT_EQ(server_handler.messages[0].bytes, presence);
}

// WIRE-06: an ENRP PPID on an ASAP association is reported so the caller can abort it.
TEST_F(SctpTransportTest, WrongPpidIsReportedAndCallerCanAbort) {
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  const auto ids_cid = connect(WireProtocol::kAsap, port);
  const ConnectionId cid = ids_cid.first;
  const ConnectionId sid = ids_cid.second;
  ASSERT_NE(sid, kNoConnectionId);
  server_handler.on_message_hook = [&](ConnectionId id, const runtime::MessageInfo& info, std::span<const std::uint8_t>) {
    if (info.protocol != server.peer_info(id)->protocol) server.abort(id);
  };
  EXPECT_EQ(client.send(cid, WireProtocol::kEnrp, make_message(0x01, 16)), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.is_closed(sid) && client_handler.is_closed(cid); }))
      << "server closed " << server_handler.is_closed(sid) << " client closed " << client_handler.is_closed(cid);
  ASSERT_EQ(server_handler.messages.size(), 1u);
  EXPECT_EQ(server_handler.messages[0].info.protocol, WireProtocol::kEnrp);
  EXPECT_EQ(server_handler.messages[0].info.ppid, kEnrpPpid);
  EXPECT_EQ(server.counters().wrong_ppid, 1u);
  EXPECT_EQ(server_handler.close_reason(sid), runtime::CloseReason::kLocalAbort);
  EXPECT_EQ(client_handler.close_reason(cid), runtime::CloseReason::kCommLost);  // the peer's ABORT
  EXPECT_EQ(server.send(sid, WireProtocol::kAsap, make_message(0x03, 8)), runtime::SendResult::kNoConnection);
}

// ASAP-KA-04 relies on this: the registrar learns that the PE's association ended.
TEST_F(SctpTransportTest, ClientCloseGivesServerOnClosed) {
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  const auto ids_cid = connect(WireProtocol::kAsap, port);
  const ConnectionId cid = ids_cid.first;
  const ConnectionId sid = ids_cid.second;
  ASSERT_NE(sid, kNoConnectionId);
  EXPECT_EQ(server.connection_count(), 1u);
  client.close(cid);
  EXPECT_EQ(client.peer_info(cid), nullptr);
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.is_closed(sid) && client_handler.is_closed(cid); }))
      << "server closed " << server_handler.is_closed(sid) << " client closed " << client_handler.is_closed(cid);
  EXPECT_EQ(server_handler.close_reason(sid), runtime::CloseReason::kPeerClosed);
  EXPECT_EQ(client_handler.close_reason(cid), runtime::CloseReason::kLocalClose);
  run_for(loop, std::chrono::milliseconds(50));
  EXPECT_EQ(server_handler.closed_count[sid], 1);  // exactly once, despite SHUTDOWN_EVENT + COMP
  EXPECT_EQ(client_handler.closed_count[cid], 1);
  EXPECT_EQ(server.connection_count(), 0u);
  EXPECT_EQ(client.connection_count(), 0u);
}

TEST_F(SctpTransportTest, ClientAbortGivesServerCommLost) {
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  const auto ids_cid = connect(WireProtocol::kAsap, port);
  const ConnectionId cid = ids_cid.first;
  const ConnectionId sid = ids_cid.second;
  ASSERT_NE(sid, kNoConnectionId);
  client.abort(cid);
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.is_closed(sid) && client_handler.is_closed(cid); }))
      << "server closed " << server_handler.is_closed(sid) << " client closed " << client_handler.is_closed(cid);
  EXPECT_EQ(server_handler.close_reason(sid), runtime::CloseReason::kCommLost);
  EXPECT_EQ(client_handler.close_reason(cid), runtime::CloseReason::kLocalAbort);
}

// The takeover PR opens a new association to a PE's listening ASAP endpoint (asap.md §1).
TEST_F(SctpTransportTest, ServerOpensOutgoingAssociationToListeningPeer) {
  listen(server, WireProtocol::kAsap);  // outgoing associations leave from this listener's port
  const std::uint16_t pe_port = listen(client, WireProtocol::kAsap);
  const IpAddress addrs[] = {kLoopback};
  ConnectionId out = server.connect_sctp(WireProtocol::kAsap, addrs, pe_port, udp_port());
  ASSERT_NE(out, kNoConnectionId);
  ASSERT_TRUE(run_until(loop, [&] { return !server_handler.connected.empty() && !client_handler.connected.empty(); }));
  EXPECT_EQ(server_handler.connected[0], out);
  EXPECT_TRUE(server_handler.peers[out].outgoing);
  EXPECT_EQ(server_handler.peers[out].port, pe_port);
  ConnectionId in = client_handler.connected[0];
  EXPECT_FALSE(client_handler.peers[in].outgoing);
  auto keep_alive = make_message(0x07, 28, 3);
  keep_alive[1] = 0x01;  // H bit
  EXPECT_EQ(server.send(out, WireProtocol::kAsap, keep_alive), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until(loop, [&] { return !client_handler.messages.empty(); }));
  EXPECT_EQ(client_handler.messages[0].bytes, keep_alive);
  EXPECT_EQ(client_handler.messages[0].id, in);
  // From a listener (fixed source port) only one association per peer endpoint can exist.
  EXPECT_EQ(server.connect_sctp(WireProtocol::kAsap, addrs, pe_port, udp_port()), kNoConnectionId);
}

TEST_F(SctpTransportTest, ConnectToPortWithoutListenerFails) {
  const IpAddress addrs[] = {kLoopback};
  ConnectionId id = client.connect_sctp(WireProtocol::kAsap, addrs, 39999, udp_port());
  ASSERT_NE(id, kNoConnectionId);
  ASSERT_TRUE(run_until(loop, [&] { return client_handler.is_closed(id); }));
  EXPECT_EQ(client_handler.close_reason(id), runtime::CloseReason::kConnectFailed);
  EXPECT_TRUE(client_handler.connected.empty());
  EXPECT_EQ(client.counters().connect_failures, 1u);
}

TEST_F(SctpTransportTest, TenThousandMessagesArriveCompleteAndInOrder) {
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  const auto ids_cid = connect(WireProtocol::kAsap, port);
  const ConnectionId cid = ids_cid.first;
  const ConnectionId sid = ids_cid.second;
  ASSERT_NE(sid, kNoConnectionId);
  constexpr std::uint32_t kCount = 10000;
  std::size_t queued = 0;
  for (std::uint32_t i = 0; i < kCount; ++i) {
    runtime::SendResult r = client.send(cid, WireProtocol::kAsap, make_message(0x05, 8 + 4 * (i % 64), i));
    ASSERT_TRUE(runtime::send_ok(r)) << to_string(r) << " at " << i;
    if (r == runtime::SendResult::kQueued) ++queued;
    if (i % 512 == 0) loop.run_once(0);  // let SACKs flow, as a real event loop would
  }
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.messages.size() >= kCount; }, std::chrono::seconds(20)))
      << "got " << server_handler.messages.size() << ", queued " << queued;
  ASSERT_EQ(server_handler.messages.size(), kCount);
  for (std::uint32_t i = 0; i < kCount; ++i) {
    ASSERT_EQ(seq_of(server_handler.messages[i].bytes), i);
    ASSERT_EQ(server_handler.messages[i].bytes, make_message(0x05, 8 + 4 * (i % 64), i));
  }
  EXPECT_EQ(client.queued_messages(cid), 0u);
  EXPECT_EQ(client.counters().messages_sent, kCount);
}

// Graceful close: messages still queued when close() is called are sent first, then the
// connection ends and the peer sees it closed (not reset).
TEST_F(SctpTransportTest, CloseSendsQueuedMessagesBeforeEnding) {
  RecordingHandler h;
  KernelTransport sender(loop, h, StackEnvironment::stack.get());
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  const IpAddress addrs[] = {kLoopback};
  ConnectionId id = sender.connect_sctp(WireProtocol::kAsap, addrs, port, udp_port());
  ASSERT_TRUE(run_until(loop, [&] { return h.connected.size() == 1 && server_handler.connected.size() == 1; }));
  expect_close_flushes_queue(loop, sender, h, server_handler, id, 200, 60000);
}

// Bounded queues: when the association's send buffer is full, messages wait in a bounded FIFO;
// beyond its limit they are dropped and counted; what was accepted arrives complete and in order.
TEST_F(SctpTransportTest, FullSendBufferQueuesThenDropsAndFlushesInOrder) {
  runtime::TransportConfig config;
  config.max_queued_messages = 4;
  RecordingHandler h;
  KernelTransport sender(loop, h, StackEnvironment::stack.get(), config);
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  const IpAddress addrs[] = {kLoopback};
  ConnectionId id = sender.connect_sctp(WireProtocol::kAsap, addrs, port, udp_port());
  ASSERT_TRUE(run_until(loop, [&] { return h.connected.size() == 1 && server_handler.connected.size() == 1; }));
  std::vector<std::uint32_t> accepted;
  int full = 0;
  for (std::uint32_t i = 0; i < 200 && full == 0; ++i) {  // no loop run: nothing drains
    runtime::SendResult r = sender.send(id, WireProtocol::kAsap, make_message(0x05, 60000, i));
    if (runtime::send_ok(r)) accepted.push_back(i);
    if (r == runtime::SendResult::kQueueFull) ++full;
  }
  ASSERT_EQ(full, 1) << "the send buffer never filled";
  EXPECT_EQ(sender.queued_messages(id), 4u);
  EXPECT_EQ(sender.counters().send_dropped_queue_full, 1u);
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.messages.size() == accepted.size(); },
                        std::chrono::seconds(20)));
  for (std::size_t i = 0; i < accepted.size(); ++i) EXPECT_EQ(seq_of(server_handler.messages[i].bytes), accepted[i]);
  EXPECT_EQ(sender.queued_messages(id), 0u);
}

TEST_F(SctpTransportTest, LargestMessageArrivesWhole) {
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  const auto ids_cid = connect(WireProtocol::kAsap, port);
  const ConnectionId cid = ids_cid.first;
  const ConnectionId sid = ids_cid.second;
  ASSERT_NE(sid, kNoConnectionId);
  auto big = make_message(0x06, 65532, 42);
  EXPECT_TRUE(runtime::send_ok(client.send(cid, WireProtocol::kAsap, big)));
  std::vector<std::uint8_t> too_big(65536, 0);
  EXPECT_EQ(client.send(cid, WireProtocol::kAsap, too_big), runtime::SendResult::kTooBig);
  ASSERT_TRUE(run_until(loop, [&] { return !server_handler.messages.empty(); }));
  EXPECT_EQ(server_handler.messages[0].bytes, big);
}

TEST_F(SctpTransportTest, ManyClientTransportsOnOneListener) {
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  constexpr int kClients = 8;
  std::vector<std::unique_ptr<RecordingHandler>> handlers;
  std::vector<std::unique_ptr<KernelTransport>> clients;
  std::vector<ConnectionId> ids;
  const IpAddress addrs[] = {kLoopback};
  for (int i = 0; i < kClients; ++i) {
    handlers.push_back(std::make_unique<RecordingHandler>());
    clients.push_back(std::make_unique<KernelTransport>(loop, *handlers.back(), StackEnvironment::stack.get()));
    ids.push_back(clients.back()->connect_sctp(WireProtocol::kAsap, addrs, port, udp_port()));
    ASSERT_NE(ids.back(), kNoConnectionId);
  }
  // Without a listener each connect gets its own socket: a second association from the same
  // transport to the same server works too.
  ConnectionId second = clients[0]->connect_sctp(WireProtocol::kAsap, addrs, port, udp_port());
  ASSERT_NE(second, kNoConnectionId);
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.connected.size() == kClients + 1; }));
  clients[0]->close(second);
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.closed.size() == 1; }));
  for (int i = 0; i < kClients; ++i) {
    ASSERT_TRUE(run_until(loop, [&] {
      return std::find(handlers[i]->connected.begin(), handlers[i]->connected.end(), ids[i]) !=
             handlers[i]->connected.end();
    }));
    EXPECT_EQ(clients[i]->send(ids[i], WireProtocol::kAsap, make_message(0x01, 8, static_cast<std::uint32_t>(i))),
              runtime::SendResult::kSent);
  }
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.messages.size() == kClients; }));
  // Each message arrives on its own association.
  std::set<ConnectionId> seen;
  for (auto& m : server_handler.messages) seen.insert(m.id);
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kClients));
  EXPECT_EQ(server.connection_count(), static_cast<std::size_t>(kClients));
  for (auto& c : clients) c->close_all();
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.closed.size() == kClients + 1; }));
}

// The host's first IPv4 address that is not a loopback one (nullopt: none).
std::optional<IpAddress> second_host_address() {
  std::optional<IpAddress> second;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  for (ifaddrs* i = list; i != nullptr && !second; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    auto ip = runtime::ip_of(i->ifa_addr);
    if (ip && !ip->is_loopback()) second = ip;
  }
  ::freeifaddrs(list);
  return second;
}

// ASAP-REG-06 needs the peer's addresses. Over the engine (AF_CONN) a path is one address + UDP
// port, and our own engine's INIT lists no addresses. A server given two local addresses still
// takes associations on either (the one UDP socket is bound to the wildcard), and peer_info()
// names the one address the association runs on. (A peer whose INIT lists several addresses:
// MultiHomedEndpointReportsAllAddresses.)
TEST_F(SctpTransportTest, PeerInfoNamesTheAddressTheAssociationRunsOn) {
  const std::optional<IpAddress> second = second_host_address();
  if (!second) GTEST_SKIP() << "no second IPv4 address on this host";
  const IpAddress both[] = {kLoopback, *second};
  runtime::ListenResult r = server.listen_sctp(WireProtocol::kAsap, both, 0);
  ASSERT_TRUE(r) << r.error().detail;
  const IpAddress second_first[] = {*second, kLoopback};
  ConnectionId cid = client.connect_sctp(WireProtocol::kAsap, second_first, *r, udp_port());
  ASSERT_NE(cid, kNoConnectionId);
  ASSERT_TRUE(run_until(loop, [&] { return client_handler.connected.size() == 1 && server_handler.connected.size() == 1; }));
  const ConnectionPeer* peer = client.peer_info(cid);
  ASSERT_NE(peer, nullptr);
  ASSERT_EQ(peer->addresses.size(), 1u);
  EXPECT_EQ(peer->addresses[0], *second);
  EXPECT_EQ(peer->port, *r);
  const ConnectionPeer* server_peer = server.peer_info(server_handler.connected[0]);
  ASSERT_NE(server_peer, nullptr);
  ASSERT_EQ(server_peer->addresses.size(), 1u);
  EXPECT_EQ(server_peer->addresses[0], *second);
}

TEST_F(SctpTransportTest, CloseAllEndsEveryAssociationAndListener) {
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  const auto ids_cid = connect(WireProtocol::kAsap, port);
  const ConnectionId cid = ids_cid.first;
  const ConnectionId sid = ids_cid.second;
  ASSERT_NE(sid, kNoConnectionId);
  server.close_all();
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.is_closed(sid) && client_handler.is_closed(cid); }));
  EXPECT_EQ(server_handler.close_reason(sid), runtime::CloseReason::kShutdown);
  EXPECT_EQ(client_handler.close_reason(cid), runtime::CloseReason::kPeerClosed);
  // The listener is gone: a new association is refused. (While the old association to the same
  // endpoint is still finishing its SHUTDOWN, connect_sctp() may also refuse at once.)
  const IpAddress addrs[] = {kLoopback};
  ConnectionId late = client.connect_sctp(WireProtocol::kAsap, addrs, port, udp_port());
  if (late != kNoConnectionId) {
    ASSERT_TRUE(run_until(loop, [&] { return client_handler.is_closed(late); }));
    EXPECT_EQ(client_handler.close_reason(late), runtime::CloseReason::kConnectFailed);
  }
  run_for(loop, std::chrono::milliseconds(50));
  EXPECT_EQ(server_handler.connected.size(), 1u);
}

// A peer in another process has its own usrsctp stack on another UDP port (RFC 6951): outgoing
// associations use the given remote UDP port, incoming ones answer on the port the peer used.
class SctpTwoProcessTest : public SctpTransportTest {
 protected:
  // Starts the helper; returns its stdout (nullptr: helper not available -> skip).
  // What a test with the foreign multi-homed peer lacks here ("" when nothing): the helper
  // binary, or a second IPv4 address of the host (set in `second`).
  static std::string foreign_peer_missing(IpAddress& second) {
    if (std::getenv("KERNEL_SCTP_PEER") == nullptr) return "KERNEL_SCTP_PEER not set (run through meson test)";
    const std::optional<IpAddress> other = second_host_address();
    if (!other) return "no second IPv4 address on this host";
    second = *other;
    return {};
  }
  FILE* start_peer(const std::string& args) {
    const char* path = std::getenv("KERNEL_SCTP_PEER");
    if (path == nullptr) return nullptr;
    return ::popen((std::string(path) + " " + args).c_str(), "r");
  }
  // Reads one line from the helper while the loop keeps running (bounded by the helper's 10 s).
  std::string read_line(FILE* f) {
    char buf[128] = {};
    std::string line;
    int fd = ::fileno(f);
    for (int i = 0; i < 2000 && line.find('\n') == std::string::npos; ++i) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 0) > 0) {
        ssize_t n = ::read(fd, buf, sizeof buf - 1);
        if (n <= 0) break;
        line.append(buf, static_cast<std::size_t>(n));
      } else {
        loop.run_once(5);
      }
    }
    return line;
  }
};

TEST_F(SctpTwoProcessTest, OutgoingAssociationToPeerOnAnotherUdpPort) {
  FILE* f = start_peer("listen");
  if (f == nullptr) GTEST_SKIP() << "KERNEL_SCTP_PEER not set (run through meson test)";
  unsigned peer_udp = 0;
  unsigned peer_sctp = 0;
  const std::string ready = read_line(f);
  ASSERT_EQ(std::sscanf(ready.c_str(), "READY %u %u", &peer_udp, &peer_sctp), 2) << ready;
  ASSERT_NE(peer_udp, udp_port());
  const IpAddress addrs[] = {kLoopback};
  ConnectionId id = client.connect_sctp(WireProtocol::kAsap, addrs, static_cast<std::uint16_t>(peer_sctp),
                                        static_cast<std::uint16_t>(peer_udp));
  ASSERT_NE(id, kNoConnectionId);
  ASSERT_TRUE(run_until(loop, [&] { return client_handler.connected.size() == 1; }));
  EXPECT_EQ(client.peer_info(id)->udp_encapsulation_port, peer_udp);
  auto m = make_message(0x01, 20, 5);
  EXPECT_EQ(client.send(id, WireProtocol::kAsap, m), runtime::SendResult::kSent);
  ASSERT_TRUE(run_until(loop, [&] { return !client_handler.messages.empty(); }));
  EXPECT_EQ(client_handler.messages[0].bytes, m);
  client.close(id);
  ASSERT_TRUE(run_until(loop, [&] { return client_handler.is_closed(id); }));
  EXPECT_EQ(::pclose(f), 0);
}

TEST_F(SctpTwoProcessTest, IncomingAssociationFromPeerOnAnotherUdpPort) {
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  server_handler.on_message_hook = [&](ConnectionId id, const runtime::MessageInfo& info, std::span<const std::uint8_t> b) {
    server.send(id, info.protocol, b);  // echo
  };
  FILE* f = start_peer("connect " + std::to_string(udp_port()) + " " + std::to_string(port));
  if (f == nullptr) GTEST_SKIP() << "KERNEL_SCTP_PEER not set (run through meson test)";
  unsigned peer_udp = 0;
  unsigned zero = 1;
  const std::string ready = read_line(f);
  ASSERT_EQ(std::sscanf(ready.c_str(), "READY %u %u", &peer_udp, &zero), 2) << ready;
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.connected.size() == 1; }));
  EXPECT_EQ(server_handler.peers[server_handler.connected[0]].udp_encapsulation_port, peer_udp);
  const std::string echo = read_line(f);
  EXPECT_EQ(echo, "ECHO OK\n");
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.is_closed(server_handler.connected[0]); }));
  EXPECT_EQ(::pclose(f), 0);
}

// A foreign peer (plain threaded usrsctp in the helper process) sends PPIDs our transport never
// sends.
TEST_F(SctpTwoProcessTest, UnknownAndLegacyPpidsAreReported) {
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  const char* path = std::getenv("KERNEL_SCTP_PEER");
  if (path == nullptr) GTEST_SKIP() << "KERNEL_SCTP_PEER not set (run through meson test)";
  int to_peer[2];
  ASSERT_EQ(::pipe(to_peer), 0);
  FILE* f = start_peer("ppids " + std::to_string(udp_port()) + " " + std::to_string(port) + " <&" +
                       std::to_string(to_peer[0]));
  ASSERT_NE(f, nullptr);
  ::close(to_peer[0]);
  EXPECT_EQ(read_line(f), "SENT OK\n");
  ASSERT_TRUE(run_until(loop, [&] { return !server_handler.unknown_ppids.empty() && !server_handler.messages.empty(); }));
  ASSERT_EQ(server_handler.connected.size(), 1u);
  EXPECT_EQ(server_handler.unknown_ppids[0], std::make_pair(server_handler.connected[0], std::uint32_t{99}));
  EXPECT_EQ(server_handler.messages[0].info.protocol, WireProtocol::kAsap);
  EXPECT_EQ(server_handler.messages[0].info.ppid, kAsapLegacyPpid);
  EXPECT_EQ(server.counters().unknown_ppid, 1u);
  [[maybe_unused]] ssize_t w = ::write(to_peer[1], "\n", 1);  // the peer closes its association
  ::close(to_peer[1]);
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.is_closed(server_handler.connected[0]); }));
  EXPECT_EQ(::pclose(f), 0);
}

// ASAP-REG-06 needs every address of a multi-homed peer. A foreign peer (plain threaded usrsctp,
// as a PE on kernel SCTP would be) bound to 127.0.0.1 and a second address of the host lists both
// in its INIT; the engine (AF_CONN, which knows only the packets' source) reports the source
// address first, then the other one it read from the INIT. (Threaded usrsctp binds only the
// addresses getifaddrs() lists, so 127.0.0.2 is not one it takes.)
TEST_F(SctpTwoProcessTest, MultiHomedEndpointReportsAllAddresses) {
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  IpAddress second;
  if (const std::string missing = foreign_peer_missing(second); !missing.empty()) GTEST_SKIP() << missing;
  int to_peer[2];
  ASSERT_EQ(::pipe(to_peer), 0);
  FILE* f = start_peer("multihomed " + std::to_string(udp_port()) + " " + std::to_string(port) +
                       " 127.0.0.1 " + second.to_string() + " <&" + std::to_string(to_peer[0]));
  ASSERT_NE(f, nullptr);
  ::close(to_peer[0]);
  unsigned peer_port = 0;
  const std::string up = read_line(f);
  ASSERT_EQ(std::sscanf(up.c_str(), "UP %u", &peer_port), 1) << up;
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.connected.size() == 1; }));
  const ConnectionId sid = server_handler.connected[0];
  const ConnectionPeer* peer = server.peer_info(sid);
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(peer->addresses, (std::vector<IpAddress>{kLoopback, second}));
  EXPECT_EQ(peer->port, peer_port);
  EXPECT_EQ(server_handler.peers[sid].addresses, peer->addresses);  // what on_connected reported
  [[maybe_unused]] ssize_t w = ::write(to_peer[1], "\n", 1);        // the peer closes its association
  ::close(to_peer[1]);
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.is_closed(sid); }));
  EXPECT_EQ(::pclose(f), 0);
}

// RFC 5061 on a live association: the foreign peer (threaded usrsctp, which sends ASCONF with
// AUTH) starts on 127.0.0.1 only, adds a second address of the host (ADD-IP), makes it its
// primary (SET-PRIMARY) and deletes it again (DELETE-IP). Each change usrsctp accepts reaches the
// handler with the whole list (primary first), peer_info() follows it, and the association still
// carries messages. (Deleting the address our packets go to moves them to the peer's primary:
// poolregd's make-before-break test in tests/integration; this server's UDP socket is bound to
// the wildcard, so the kernel would pick the source of such packets by route.)
TEST_F(SctpTwoProcessTest, AsconfAddressChangesReachTheHandler) {
  const std::uint16_t port = listen(server, WireProtocol::kAsap);
  IpAddress second;
  if (const std::string missing = foreign_peer_missing(second); !missing.empty()) GTEST_SKIP() << missing;
  server_handler.on_message_hook = [&](ConnectionId id, const runtime::MessageInfo& info,
                                       std::span<const std::uint8_t> bytes) { server.send(id, info.protocol, bytes); };
  int to_peer[2];
  ASSERT_EQ(::pipe(to_peer), 0);
  FILE* f = start_peer("multihomed " + std::to_string(udp_port()) + " " + std::to_string(port) + " 127.0.0.1 <&" +
                       std::to_string(to_peer[0]));
  ASSERT_NE(f, nullptr);
  ::close(to_peer[0]);
  const std::string up = read_line(f);
  ASSERT_EQ(up.rfind("UP ", 0), 0u) << up;
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.connected.size() == 1; }));
  const ConnectionId sid = server_handler.connected[0];
  ASSERT_NE(server.peer_info(sid), nullptr);
  EXPECT_EQ(server.peer_info(sid)->addresses, (std::vector<IpAddress>{kLoopback}));
  auto command = [&](const std::string& c, std::size_t changes) {
    const std::string line = c + "\n";
    EXPECT_EQ(::write(to_peer[1], line.data(), line.size()), static_cast<ssize_t>(line.size()));
    EXPECT_EQ(read_line(f), "DONE " + c + "\n");
    return run_until(loop, [&] { return server_handler.address_changes.size() == changes; });
  };
  ASSERT_TRUE(command("ADD " + second.to_string(), 1));
  EXPECT_EQ(server_handler.address_changes[0].first, sid);
  EXPECT_EQ(server_handler.address_changes[0].second, (std::vector<IpAddress>{kLoopback, second}));
  ASSERT_TRUE(command("PRIM " + second.to_string(), 2));
  EXPECT_EQ(server_handler.address_changes[1].second, (std::vector<IpAddress>{second, kLoopback}));
  ASSERT_TRUE(command("DEL " + second.to_string(), 3));
  EXPECT_EQ(server_handler.address_changes[2].second, (std::vector<IpAddress>{kLoopback}));
  ASSERT_NE(server.peer_info(sid), nullptr);
  EXPECT_EQ(server.peer_info(sid)->addresses, (std::vector<IpAddress>{kLoopback}));
  const std::string echo = "0b00000401020304\n";
  ASSERT_EQ(::write(to_peer[1], echo.data(), echo.size()), static_cast<ssize_t>(echo.size()));
  EXPECT_EQ(read_line(f), "RECV 0b00000401020304\n");
  EXPECT_FALSE(server_handler.is_closed(sid));
  [[maybe_unused]] ssize_t w = ::write(to_peer[1], "\n", 1);  // the peer closes its association
  ::close(to_peer[1]);
  ASSERT_TRUE(run_until(loop, [&] { return server_handler.is_closed(sid); }));
  EXPECT_EQ(::pclose(f), 0);
}

TEST_F(SctpTransportTest, SecondStackInProcessIsRefused) {
  std::string error;
  SctpStackConfig config;
  config.udp_port = 0;
  EXPECT_EQ(SctpStack::create(config, &error), nullptr);
  EXPECT_NE(error.find("already"), std::string::npos);
}

TEST_F(SctpTransportTest, SendToUnknownIdFails) {
  EXPECT_EQ(server.send(12345, WireProtocol::kAsap, make_message(1, 8)), runtime::SendResult::kNoConnection);
  EXPECT_EQ(server.peer_info(12345), nullptr);
  server.close(12345);
  server.abort(12345);
  run_for(loop, std::chrono::milliseconds(5));
  EXPECT_TRUE(server_handler.closed.empty());
}

}  // namespace
}  // namespace poolreg::kernel
