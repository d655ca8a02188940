// RegistrarEvent names, the sink's interest/sequence/clock, and the shared PE/pool event rules
// (publish_pe_written / publish_pe_removed) every writer uses.
#include "registrar/common/registrar_event.hpp"
#include "tests/registrar/common/event_recorder.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace poolreg {
namespace {

using Recorder = poolreg::testing::EventRecorder;

std::int64_t fixed_clock() { return 1'700'000'000'123'000'000; }

PoolElement pe(PoolElementId id, std::uint16_t port, RegistrarId home = 0x10) {
  PoolElement p;
  p.id = id;
  p.home_registrar = home;
  p.user_transport.port = port;
  p.user_transport.addresses = {IpAddress::v4(0x7f000001u)};
  return p;
}

using K = RegistrarEventKind;

TEST(RegistrarEvent, NamesRoundTripAndFamilies) {
  for (std::size_t i = 0; i < kRegistrarEventKinds; ++i) {
    const auto k = static_cast<K>(i);
    auto back = parse_event_kind(event_kind_name(k));
    ASSERT_TRUE(back.has_value()) << event_kind_name(k);
    EXPECT_EQ(*back, k);
    EXPECT_EQ(event_kinds_named(event_kind_name(k)), event_kind_bit(k));
  }
  EXPECT_FALSE(parse_event_kind("pe_exploded").has_value());
  EXPECT_EQ(event_kinds_named("pe"), event_kind_bit(K::kPeRegistered) | event_kind_bit(K::kPeMoved) |
                                         event_kind_bit(K::kPeRemoved));
  EXPECT_EQ(event_kinds_named("peer"),
            event_kind_bit(K::kPeerUp) | event_kind_bit(K::kPeerDown) | event_kind_bit(K::kPeerDead));
  EXPECT_EQ(event_kinds_named("pool"), event_kind_bit(K::kPoolCreated) | event_kind_bit(K::kPoolRemoved));
  EXPECT_EQ(event_kinds_named("all"), kAllEventKinds);
  EXPECT_EQ(event_kinds_named(""), 0u);
  EXPECT_EQ(event_kinds_named("p"), 0u);
  EXPECT_EQ(event_kinds_named("bogus"), 0u);
  EXPECT_EQ(removal_cause_name(PeRemovalCause::kKeepaliveTimeout), "keepalive_timeout");
  EXPECT_EQ(removal_cause_name(PeRemovalCause::kEnrpPeer), "enrp_peer");
}

TEST(RegistrarEvent, SinkWantsNothingWithoutListenerOrInterest) {
  RegistrarEventSink sink;
  Recorder r;
  EXPECT_FALSE(wants_event(nullptr, K::kPeRegistered));
  EXPECT_FALSE(sink.wants(K::kPeRegistered));
  sink.set_interest(kAllEventKinds);
  EXPECT_FALSE(sink.wants(K::kPeRegistered)) << "no listener";
  sink.set_interest(0);
  sink.set_listener(&r);
  EXPECT_FALSE(sink.wants(K::kPeRegistered)) << "no interest";
  sink.publish(RegistrarEvent{});
  EXPECT_TRUE(r.events.empty());
  EXPECT_EQ(sink.published(), 0u);
  sink.set_interest(event_kind_bit(K::kPeRemoved));
  EXPECT_TRUE(sink.wants(K::kPeRemoved));
  EXPECT_FALSE(sink.wants(K::kPeRegistered));
}

TEST(RegistrarEvent, PublishStampsSequenceAndTime) {
  RegistrarEventSink sink;
  Recorder r;
  sink.set_listener(&r);
  sink.set_interest(kAllEventKinds);
  sink.set_wall_clock(&fixed_clock);
  for (int i = 0; i < 3; ++i) {
    RegistrarEvent e;
    e.kind = K::kPeerUp;
    e.peer = 0x20 + i;
    sink.publish(e);
  }
  ASSERT_EQ(r.events.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r.events[i].seq, i + 1);
    EXPECT_EQ(r.events[i].wall_time_ns, fixed_clock());
  }
  EXPECT_EQ(sink.published(), 3u);
}

class PublishRules : public ::testing::Test {
 protected:
  void SetUp() override {
    sink.set_listener(&r);
    sink.set_interest(kAllEventKinds);
  }
  RegistrarEventSink sink;
  Recorder r;
  PoolHandle h = *PoolHandle::from_string("echo");
};

TEST_F(PublishRules, NewPeInNewPoolIsPoolCreatedThenRegistered) {
  publish_pe_written(&sink, h, pe(1, 7000), true, true, 0, nullptr);
  EXPECT_EQ(r.kinds(), (std::vector<K>{K::kPoolCreated, K::kPeRegistered}));
  EXPECT_EQ(r.events[0].handle, h);
  EXPECT_FALSE(r.events[0].pe.has_value());
  ASSERT_TRUE(r.events[1].pe.has_value());
  EXPECT_EQ(r.events[1].pe->id, 1u);
}

TEST_F(PublishRules, UnchangedRefreshIsSilentChangedTransportIsMoved) {
  const PoolElement before = pe(1, 7000);
  publish_pe_written(&sink, h, pe(1, 7000), false, false, 0x10, &before);
  EXPECT_TRUE(r.events.empty()) << "a refresh with the same transport raises nothing";
  publish_pe_written(&sink, h, pe(1, 7001), false, false, 0x10, &before);
  ASSERT_EQ(r.kinds(), (std::vector<K>{K::kPeMoved}));
  EXPECT_EQ(r.events[0].previous_home, 0u) << "same home";
  EXPECT_EQ(r.events[0].pe->user_transport.port, 7001);
}

TEST_F(PublishRules, RehomedPeIsMovedWithPreviousHome) {
  publish_pe_written(&sink, h, pe(1, 7000, 0x30), false, false, 0x10, nullptr);
  ASSERT_EQ(r.kinds(), (std::vector<K>{K::kPeMoved}));
  EXPECT_EQ(r.events[0].previous_home, 0x10u);
  EXPECT_EQ(r.events[0].pe->home_registrar, 0x30u);
}

TEST_F(PublishRules, RemovalWithCauseThenPoolRemoved) {
  publish_pe_removed(&sink, h, pe(1, 7000), false, PeRemovalCause::kKeepaliveTimeout);
  publish_pe_removed(&sink, h, pe(2, 7000), true, PeRemovalCause::kDeregistration);
  ASSERT_EQ(r.kinds(), (std::vector<K>{K::kPeRemoved, K::kPeRemoved, K::kPoolRemoved}));
  EXPECT_EQ(r.events[0].cause, PeRemovalCause::kKeepaliveTimeout);
  EXPECT_EQ(r.events[1].cause, PeRemovalCause::kDeregistration);
  EXPECT_EQ(r.events[1].pe->id, 2u);
  EXPECT_EQ(r.events[2].handle, h);
  EXPECT_EQ(r.events[0].seq + 1, r.events[1].seq);
  EXPECT_EQ(r.events[1].seq + 1, r.events[2].seq);
}

TEST_F(PublishRules, OnlyWantedKindsAreBuilt) {
  sink.set_interest(event_kind_bit(K::kPoolRemoved));
  publish_pe_written(&sink, h, pe(1, 7000), true, true, 0, nullptr);
  publish_pe_removed(&sink, h, pe(1, 7000), true, PeRemovalCause::kOperator);
  ASSERT_EQ(r.kinds(), (std::vector<K>{K::kPoolRemoved}));
  EXPECT_EQ(r.events[0].seq, 1u) << "unwanted events take no sequence number";
  publish_pe_written(nullptr, h, pe(1, 7000), true, true, 0, nullptr);  // a null sink is fine
}

}  // namespace
}  // namespace poolreg
