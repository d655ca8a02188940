// LaneTransport's connection model over the rings, with the lane side played by the test
// through LaneEventSink and by reading the command ring: on_connected / on_message / on_activity delivery,
// on_closed exactly once (also after close()/abort(), deferred, and never again when the poll side
// reports the same id later), sends and connects as ring commands, a full ring, listen rules, one
// wake-up of a sleeping lane per loop pass, stamped messages published as finished after the
// handler (order per association). No EAL: the rings are LaneRings.
#include "dataplane/runtime/lane_transport.hpp"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <memory>

#include "dataplane/runtime/combined_transport.hpp"
#include "dataplane/runtime/lane_event_sink.hpp"
#include "tests/dataplane/runtime/recording_handler.hpp"

namespace poolreg::runtime {
namespace {

using testing::RecordingHandler;
using testing::run_for;
using testing::run_until;
using namespace std::chrono_literals;

class LaneTransportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto engine = sctp::SctpEngine::create({}, ids_);  // one engine per usrsctp copy
    ASSERT_TRUE(engine) << engine.error();
    engine_ = engine->release();
  }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
  }
  void SetUp() override {
    rings_.commands = &commands_;
    rings_.events = &events_;
    rings_.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    rings_.lane_wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    rings_.order = &order_;
    ASSERT_TRUE(rings_.wake_fd >= 0 && rings_.lane_wake_fd >= 0);
    ids_.store(kLaneConnectionIdBase);
    transport_ = std::make_unique<LaneTransport>(
        loop_, handler_, std::vector<LaneTransport::Lane>{LaneTransport::Lane{rings_, engine_}}, ids_, 65535);
    poll_side_ = std::make_unique<LaneEventSink>(rings_);
  }
  void TearDown() override {
    if (rings_.wake_fd < 0) return;
    transport_.reset();
    poll_side_.reset();
    while (auto c = take_command()) {
    }
    drain_and_free(rings_);
    ::close(rings_.wake_fd);
    ::close(rings_.lane_wake_fd);
  }

  std::unique_ptr<LaneCommand> take_command() {
    return std::unique_ptr<LaneCommand>(static_cast<LaneCommand*>(commands_.pop()));
  }
  // How many times the lane was woken since the last call (the eventfd's counter).
  std::uint64_t lane_wakes() {
    std::uint64_t v = 0;
    if (::read(rings_.lane_wake_fd, &v, sizeof v) != sizeof v) return 0;
    return v;
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
  void message_from_poll_side(ConnectionId id, std::vector<std::uint8_t> bytes, std::uint64_t stamp = 0) {
    auto* data = static_cast<std::uint8_t*>(std::malloc(bytes.size()));
    std::memcpy(data, bytes.data(), bytes.size());
    MessageInfo info;
    info.ppid = kAsapPpid;
    info.lane_stamp = stamp;
    poll_side_->on_message(id, info, data, bytes.size());
    poll_side_->flush();
  }

  static inline sctp::SctpEngine* engine_ = nullptr;
  static inline std::atomic<std::uint64_t> ids_{kLaneConnectionIdBase};
  LaneRing commands_{8};
  LaneRing events_{1024};
  LaneOrder order_;
  LaneRings rings_;
  EventLoop loop_;
  RecordingHandler handler_;
  std::unique_ptr<LaneTransport> transport_;
  std::unique_ptr<LaneEventSink> poll_side_;
};

TEST_F(LaneTransportTest, DeliversConnectionsAndMessagesAndSendsCommands) {
  const ConnectionId id = accept_one();
  EXPECT_GE(id, kLaneConnectionIdBase);
  ASSERT_NE(transport_->peer_info(id), nullptr);
  EXPECT_EQ(transport_->peer_info(id)->udp_encapsulation_port, 50000);
  EXPECT_EQ(transport_->connection_count(), 1u);

  message_from_poll_side(id, {0x05, 0, 0, 8, 1, 2, 3, 4});
  ASSERT_TRUE(run_until(loop_, [&] { return handler_.messages.size() == 1; }));
  EXPECT_EQ(handler_.messages[0].bytes, (std::vector<std::uint8_t>{0x05, 0, 0, 8, 1, 2, 3, 4}));
  EXPECT_EQ(handler_.messages[0].info.protocol, WireProtocol::kAsap);

  const std::vector<std::uint8_t> reply = {0x06, 0, 0, 4};
  EXPECT_EQ(transport_->send(id, WireProtocol::kAsap, reply), SendResult::kSent);
  auto c = take_command();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, LaneCommand::Kind::kSend);
  EXPECT_EQ(c->id, id);
  EXPECT_EQ(std::vector<std::uint8_t>(c->data, c->data + c->length), reply);
  EXPECT_EQ(transport_->send(id + 1000, WireProtocol::kAsap, reply), SendResult::kNoConnection);
  EXPECT_EQ(transport_->send(id, WireProtocol::kAsap, {}), SendResult::kTooBig);
}

// Order per association (lane_order.hpp): a stamped message counts as finished once the handler
// had it, also when its connection is no longer open (dropped is finished too); unstamped
// messages publish nothing.
TEST_F(LaneTransportTest, StampedMessagesAreFinishedOnceTheHandlerHadThem) {
  const ConnectionId id = accept_one();
  EXPECT_TRUE(order_.finished(0));  // nothing handed over
  const std::uint64_t first = order_.stamp();
  const std::uint64_t second = order_.stamp();
  EXPECT_EQ(first, 1u);
  EXPECT_EQ(second, 2u);
  message_from_poll_side(id, {0x01, 0, 0, 4}, first);
  message_from_poll_side(id + 1000, {0x02, 0, 0, 4}, second);  // no such connection: dropped
  EXPECT_FALSE(order_.finished(first));                        // the control loop has not run
  ASSERT_TRUE(run_until(loop_, [&] { return order_.finished_stamp() == second; }));
  EXPECT_TRUE(order_.finished(first));
  EXPECT_TRUE(order_.finished(second));
  EXPECT_EQ(handler_.messages.size(), 1u);
  EXPECT_FALSE(order_.finished(order_.stamp()));  // 3: not handed over yet
  message_from_poll_side(id, {0x05, 0, 0, 4});    // unstamped
  ASSERT_TRUE(run_until(loop_, [&] { return handler_.messages.size() == 2; }));
  EXPECT_EQ(order_.finished_stamp(), second);
}

TEST_F(LaneTransportTest, ActivityOfOpenConnectionsReachesTheHandler) {
  const ConnectionId id = accept_one();
  poll_side_->on_activity(id);
  poll_side_->on_activity(id + 1000);  // not open here: dropped
  poll_side_->flush();
  ASSERT_TRUE(run_until(loop_, [&] { return !handler_.activity.empty(); }));
  run_for(loop_, 20ms);
  EXPECT_EQ(handler_.activity, std::vector<ConnectionId>{id});
  EXPECT_TRUE(handler_.messages.empty());
}

TEST_F(LaneTransportTest, CloseIsReportedOnceAndLaterPollReportsAreIgnored) {
  const ConnectionId id = accept_one();
  transport_->close(id);
  EXPECT_EQ(transport_->peer_info(id), nullptr);
  EXPECT_EQ(transport_->connection_count(), 0u);
  EXPECT_TRUE(handler_.closed.empty());  // deferred, never re-entrant
  auto c = take_command();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, LaneCommand::Kind::kClose);
  ASSERT_TRUE(run_until(loop_, [&] { return handler_.is_closed(id); }));
  EXPECT_EQ(handler_.close_reason(id), CloseReason::kLocalClose);

  // The poll side had already queued things for this id: they are dropped.
  message_from_poll_side(id, {0x05, 0, 0, 4});
  poll_side_->on_closed(id, CloseReason::kCommLost);
  poll_side_->flush();
  run_for(loop_, 50ms);
  EXPECT_EQ(handler_.closed_count[id], 1);
  EXPECT_TRUE(handler_.messages.empty());
  EXPECT_EQ(transport_->send(id, WireProtocol::kAsap, std::vector<std::uint8_t>{1, 2, 3, 4}),
            SendResult::kNoConnection);
  transport_->abort(id);  // already gone: nothing more
  EXPECT_EQ(take_command(), nullptr);
}

TEST_F(LaneTransportTest, PeerCloseAndFailedConnectAreReported) {
  const ConnectionId id = accept_one();
  poll_side_->on_closed(id, CloseReason::kPeerClosed);
  poll_side_->flush();
  ASSERT_TRUE(run_until(loop_, [&] { return handler_.is_closed(id); }));
  EXPECT_EQ(handler_.close_reason(id), CloseReason::kPeerClosed);

  const std::vector<IpAddress> to = {IpAddress::v4(0x0a000003u)};
  const ConnectionId out = transport_->connect_sctp(WireProtocol::kEnrp, to, 9901, 9899);
  ASSERT_GE(out, kLaneConnectionIdBase);
  auto c = take_command();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, LaneCommand::Kind::kConnect);
  EXPECT_EQ(c->id, out);
  EXPECT_EQ(c->port, 9901);
  EXPECT_EQ(c->addresses, to);
  ASSERT_NE(transport_->peer_info(out), nullptr);  // connecting: known, outgoing
  EXPECT_TRUE(transport_->peer_info(out)->outgoing);
  poll_side_->on_closed(out, CloseReason::kConnectFailed);
  poll_side_->flush();
  ASSERT_TRUE(run_until(loop_, [&] { return handler_.is_closed(out); }));
  EXPECT_EQ(handler_.close_reason(out), CloseReason::kConnectFailed);
  EXPECT_EQ(transport_->counters().connect_failures, 1u);
  EXPECT_TRUE(std::find(handler_.connected.begin(), handler_.connected.end(), out) ==
              handler_.connected.end());
}

// Native SCTP connects (poolregd's ENRP to an enrp.peers entry with sctp_native): refused at
// once while the lanes have no native path, else a connect command with UDP port 0 (native).
TEST_F(LaneTransportTest, NativeConnectNeedsNativeLanes) {
  const std::vector<IpAddress> to = {IpAddress::v4(0x0a000004u)};
  EXPECT_EQ(transport_->connect_sctp_native(WireProtocol::kEnrp, to, 9901), kNoConnectionId);
  EXPECT_EQ(transport_->counters().connect_failures, 1u);
  EXPECT_EQ(take_command(), nullptr);
  transport_->set_native(true);
  const ConnectionId out = transport_->connect_sctp_native(WireProtocol::kEnrp, to, 9901);
  ASSERT_GE(out, kLaneConnectionIdBase);
  auto c = take_command();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, LaneCommand::Kind::kConnect);
  EXPECT_EQ(c->port, 9901);
  EXPECT_EQ(c->udp_port, 0);
  ASSERT_NE(transport_->peer_info(out), nullptr);
  EXPECT_EQ(transport_->peer_info(out)->udp_encapsulation_port, 0);
  // An encapsulated connect with port 0 still means the configured default, not native.
  const ConnectionId udp = transport_->connect_sctp(WireProtocol::kEnrp, to, 9902, 0);
  ASSERT_GE(udp, kLaneConnectionIdBase);
  c = take_command();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->udp_port, kSctpUdpEncapsulationPort);
}

TEST_F(LaneTransportTest, FullCommandRingDropsSendsButKeepsCloses) {
  const ConnectionId id = accept_one();
  const std::vector<std::uint8_t> m = {0x06, 0, 0, 4};
  int sent = 0;
  while (transport_->send(id, WireProtocol::kAsap, m) == SendResult::kSent) ++sent;
  EXPECT_EQ(sent, 8);  // a ring of 8 slots holds 8
  EXPECT_EQ(transport_->send(id, WireProtocol::kAsap, m), SendResult::kQueueFull);
  EXPECT_EQ(transport_->counters().send_dropped_queue_full, 2u);
  transport_->close(id);  // ring full: kept in the transport's backlog
  for (int i = 0; i < 8; ++i) ASSERT_NE(take_command(), nullptr);
  EXPECT_EQ(take_command(), nullptr);
  std::unique_ptr<LaneCommand> c;  // the backlog is retried from a loop timer
  ASSERT_TRUE(run_until(loop_, [&] { return (c = take_command()) != nullptr; }));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, LaneCommand::Kind::kClose);
}

TEST_F(LaneTransportTest, ListenersOnlyAtStartUpAndNoTcp) {
  EXPECT_FALSE(transport_->listen_tcp(WireProtocol::kAsap, {}, 3863).has_value());
  EXPECT_EQ(transport_->connect_tcp(WireProtocol::kAsap, IpAddress::v4(0x0a000003u), 3863),
            kNoConnectionId);
  static std::uint16_t port = 20000;
  const auto r = transport_->listen_sctp(WireProtocol::kAsap, {}, ++port);
  EXPECT_TRUE(r) << r.error().detail;
  EXPECT_EQ(*r, port);
  transport_->mark_started();
  EXPECT_FALSE(transport_->listen_sctp(WireProtocol::kEnrp, {}, ++port).has_value());
}

TEST_F(LaneTransportTest, ASleepingLaneIsWokenOncePerLoopPass) {
  const ConnectionId id = accept_one();
  lane_wakes();  // whatever accepting took
  const std::vector<std::uint8_t> m = {0x06, 0, 0, 4};
  ASSERT_EQ(transport_->send(id, WireProtocol::kAsap, m), SendResult::kSent);
  ASSERT_EQ(transport_->send(id, WireProtocol::kAsap, m), SendResult::kSent);
  ASSERT_EQ(transport_->send(id, WireProtocol::kAsap, m), SendResult::kSent);
  EXPECT_EQ(lane_wakes(), 0u);  // not from inside send(): at the end of the loop pass
  run_for(loop_, 20ms);
  EXPECT_EQ(lane_wakes(), 1u);  // three commands, one write
  for (int i = 0; i < 3; ++i) ASSERT_NE(take_command(), nullptr);
  run_for(loop_, 20ms);
  EXPECT_EQ(lane_wakes(), 0u);  // nothing queued since
}

}  // namespace
}  // namespace poolreg::runtime
