// DpdkSctpTransport's connection model over the rings, with the poll side played by the test
// through RingEventSink and by reading the command ring: on_connected / on_message / on_activity delivery,
// on_closed exactly once (also after close()/abort(), deferred, and never again when the poll side
// reports the same id later), sends and connects as ring commands, a full ring, listen rules.
#include "dataplane/dpdk/dpdk_sctp_transport.hpp"

#include <gtest/gtest.h>
#include <rte_ring.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <memory>

#include "dataplane/dpdk/combined_transport.hpp"
#include "tests/dataplane/dpdk/eal_test_environment.hpp"
#include "tests/dataplane/kernel/recording_handler.hpp"

namespace poolreg::dpdk {
namespace {

using kernel::testing::RecordingHandler;
using kernel::testing::run_for;
using kernel::testing::run_until;
using namespace std::chrono_literals;

class DpdkSctpTransportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (test::EalTestEnvironment::instance().pool() == nullptr) return;
    std::string error;
    engine_ = SctpConnEngine::create({}, ids_, &error).release();  // one engine per usrsctp copy
    ASSERT_NE(engine_, nullptr) << error;
  }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
  }
  void SetUp() override {
    POOLREG_REQUIRE_EAL();
    static int n = 0;
    const std::string name = "t" + std::to_string(++n);
    rings_.commands = rte_ring_create((name + "c").c_str(), 8, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    rings_.events = rte_ring_create((name + "e").c_str(), 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    rings_.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ASSERT_TRUE(rings_.commands != nullptr && rings_.events != nullptr && rings_.wake_fd >= 0);
    ids_.store(kDpdkConnectionIdBase);
    transport_ = std::make_unique<DpdkSctpTransport>(
        loop_, handler_, std::vector<TransportLane>{TransportLane{rings_, engine_}}, ids_, 65535);
    poll_side_ = std::make_unique<RingEventSink>(rings_);
  }
  void TearDown() override {
    if (rings_.commands == nullptr) return;
    transport_.reset();
    poll_side_.reset();
    while (auto c = take_command()) {
    }
    void* obj;
    while (rte_ring_dequeue(rings_.events, &obj) == 0) delete static_cast<TransportEvent*>(obj);
    rte_ring_free(rings_.commands);
    rte_ring_free(rings_.events);
    ::close(rings_.wake_fd);
  }

  std::unique_ptr<TransportCommand> take_command() {
    void* obj = nullptr;
    if (rte_ring_dequeue(rings_.commands, &obj) != 0) return nullptr;
    return std::unique_ptr<TransportCommand>(static_cast<TransportCommand*>(obj));
  }
  ConnectionId accept_one() {
    ConnectionPeer peer;
    peer.addresses = {IpAddress::v4(0x0a000002u)};
    peer.port = 40000;
    peer.udp_encapsulation_port = 50000;
    const ConnectionId id = ids_.fetch_add(1);
    poll_side_->on_connected(id, peer);
    poll_side_->flush();
    EXPECT_TRUE(
        run_until(loop_, [&] { return !handler_.connected.empty() && handler_.connected.back() == id; }));
    return id;
  }
  void message_from_poll_side(ConnectionId id, std::vector<std::uint8_t> bytes) {
    auto* data = static_cast<std::uint8_t*>(std::malloc(bytes.size()));
    std::memcpy(data, bytes.data(), bytes.size());
    kernel::MessageInfo info;
    info.ppid = kAsapPpid;
    poll_side_->on_message(id, info, data, bytes.size());
    poll_side_->flush();
  }

  static inline SctpConnEngine* engine_ = nullptr;
  static inline std::atomic<std::uint64_t> ids_{kDpdkConnectionIdBase};
  TransportRings rings_;
  kernel::EventLoop loop_;
  RecordingHandler handler_;
  std::unique_ptr<DpdkSctpTransport> transport_;
  std::unique_ptr<RingEventSink> poll_side_;
};

TEST_F(DpdkSctpTransportTest, DeliversConnectionsAndMessagesAndSendsCommands) {
  const ConnectionId id = accept_one();
  EXPECT_GE(id, kDpdkConnectionIdBase);
  ASSERT_NE(transport_->peer_info(id), nullptr);
  EXPECT_EQ(transport_->peer_info(id)->udp_encapsulation_port, 50000);
  EXPECT_EQ(transport_->connection_count(), 1u);

  message_from_poll_side(id, {0x05, 0, 0, 8, 1, 2, 3, 4});
  ASSERT_TRUE(run_until(loop_, [&] { return handler_.messages.size() == 1; }));
  EXPECT_EQ(handler_.messages[0].bytes, (std::vector<std::uint8_t>{0x05, 0, 0, 8, 1, 2, 3, 4}));
  EXPECT_EQ(handler_.messages[0].info.protocol, WireProtocol::kAsap);

  const std::vector<std::uint8_t> reply = {0x06, 0, 0, 4};
  EXPECT_EQ(transport_->send(id, WireProtocol::kAsap, reply), kernel::SendResult::kSent);
  auto c = take_command();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, TransportCommand::Kind::kSend);
  EXPECT_EQ(c->id, id);
  EXPECT_EQ(std::vector<std::uint8_t>(c->data, c->data + c->length), reply);
  EXPECT_EQ(transport_->send(id + 1000, WireProtocol::kAsap, reply), kernel::SendResult::kNoConnection);
  EXPECT_EQ(transport_->send(id, WireProtocol::kAsap, {}), kernel::SendResult::kTooBig);
}

TEST_F(DpdkSctpTransportTest, ActivityOfOpenConnectionsReachesTheHandler) {
  const ConnectionId id = accept_one();
  poll_side_->on_activity(id);
  poll_side_->on_activity(id + 1000);  // not open here: dropped
  poll_side_->flush();
  ASSERT_TRUE(run_until(loop_, [&] { return !handler_.activity.empty(); }));
  run_for(loop_, 20ms);
  EXPECT_EQ(handler_.activity, std::vector<ConnectionId>{id});
  EXPECT_TRUE(handler_.messages.empty());
}

TEST_F(DpdkSctpTransportTest, CloseIsReportedOnceAndLaterPollReportsAreIgnored) {
  const ConnectionId id = accept_one();
  transport_->close(id);
  EXPECT_EQ(transport_->peer_info(id), nullptr);
  EXPECT_EQ(transport_->connection_count(), 0u);
  EXPECT_TRUE(handler_.closed.empty());  // deferred, never re-entrant
  auto c = take_command();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, TransportCommand::Kind::kClose);
  ASSERT_TRUE(run_until(loop_, [&] { return handler_.is_closed(id); }));
  EXPECT_EQ(handler_.close_reason(id), kernel::CloseReason::kLocalClose);

  // The poll side had already queued things for this id: they are dropped.
  message_from_poll_side(id, {0x05, 0, 0, 4});
  poll_side_->on_closed(id, kernel::CloseReason::kCommLost);
  poll_side_->flush();
  run_for(loop_, 50ms);
  EXPECT_EQ(handler_.closed_count[id], 1);
  EXPECT_TRUE(handler_.messages.empty());
  EXPECT_EQ(transport_->send(id, WireProtocol::kAsap, std::vector<std::uint8_t>{1, 2, 3, 4}),
            kernel::SendResult::kNoConnection);
  transport_->abort(id);  // already gone: nothing more
  EXPECT_EQ(take_command(), nullptr);
}

TEST_F(DpdkSctpTransportTest, PeerCloseAndFailedConnectAreReported) {
  const ConnectionId id = accept_one();
  poll_side_->on_closed(id, kernel::CloseReason::kPeerClosed);
  poll_side_->flush();
  ASSERT_TRUE(run_until(loop_, [&] { return handler_.is_closed(id); }));
  EXPECT_EQ(handler_.close_reason(id), kernel::CloseReason::kPeerClosed);

  const std::vector<IpAddress> to = {IpAddress::v4(0x0a000003u)};
  const ConnectionId out = transport_->connect_sctp(WireProtocol::kEnrp, to, 9901, 9899);
  ASSERT_GE(out, kDpdkConnectionIdBase);
  auto c = take_command();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, TransportCommand::Kind::kConnect);
  EXPECT_EQ(c->id, out);
  EXPECT_EQ(c->port, 9901);
  EXPECT_EQ(c->addresses, to);
  ASSERT_NE(transport_->peer_info(out), nullptr);  // connecting: known, outgoing
  EXPECT_TRUE(transport_->peer_info(out)->outgoing);
  poll_side_->on_closed(out, kernel::CloseReason::kConnectFailed);
  poll_side_->flush();
  ASSERT_TRUE(run_until(loop_, [&] { return handler_.is_closed(out); }));
  EXPECT_EQ(handler_.close_reason(out), kernel::CloseReason::kConnectFailed);
  EXPECT_EQ(transport_->counters().connect_failures, 1u);
  EXPECT_TRUE(std::find(handler_.connected.begin(), handler_.connected.end(), out) ==
              handler_.connected.end());
}

TEST_F(DpdkSctpTransportTest, FullCommandRingDropsSendsButKeepsCloses) {
  const ConnectionId id = accept_one();
  const std::vector<std::uint8_t> m = {0x06, 0, 0, 4};
  int sent = 0;
  while (transport_->send(id, WireProtocol::kAsap, m) == kernel::SendResult::kSent) ++sent;
  EXPECT_EQ(sent, 7);  // a ring of 8 slots holds 7
  EXPECT_EQ(transport_->send(id, WireProtocol::kAsap, m), kernel::SendResult::kQueueFull);
  EXPECT_EQ(transport_->counters().send_dropped_queue_full, 2u);
  transport_->close(id);  // ring full: kept in the transport's backlog
  for (int i = 0; i < 7; ++i) ASSERT_NE(take_command(), nullptr);
  EXPECT_EQ(take_command(), nullptr);
  std::unique_ptr<TransportCommand> c;  // the backlog is retried from a loop timer
  ASSERT_TRUE(run_until(loop_, [&] { return (c = take_command()) != nullptr; }));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, TransportCommand::Kind::kClose);
}

TEST_F(DpdkSctpTransportTest, ListenersOnlyAtStartUpAndNoTcp) {
  EXPECT_FALSE(transport_->listen_tcp(WireProtocol::kAsap, {}, 3863).ok);
  EXPECT_EQ(transport_->connect_tcp(WireProtocol::kAsap, IpAddress::v4(0x0a000003u), 3863),
            kNoConnectionId);
  static std::uint16_t port = 20000;
  const auto r = transport_->listen_sctp(WireProtocol::kAsap, {}, ++port);
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.port, port);
  transport_->mark_started();
  EXPECT_FALSE(transport_->listen_sctp(WireProtocol::kEnrp, {}, ++port).ok);
}

}  // namespace
}  // namespace poolreg::dpdk
