// AsapServer raises PE and pool events (poolctl events, issue 18) where its handlespace writes
// happen: registration, re-registration that moved, deregistration, keep-alive timeout,
// association loss, operator removal; and nothing at all while nobody listens.
#include <gtest/gtest.h>

#include <vector>

#include "registrar/common/registrar_event.hpp"
#include "tests/registrar/common/event_recorder.hpp"
#include "tests/registrar/asap/asap_test_support.hpp"

namespace poolreg::asap::testing {
namespace {

using K = RegistrarEventKind;

using Recorder = poolreg::testing::EventRecorder;

class AsapEventsTest : public AsapServerTest {
 protected:
  void SetUp() override {
    sink.set_listener(&recorder);
    sink.set_interest(kAllEventKinds);
    server().set_event_sink(&sink);
  }
  void advance_and_run(TimeNs delta) {
    clock_.advance(delta);
    server().run_timers(clock_.now());
  }
  RegistrarEventSink sink;
  Recorder recorder;
};

TEST_F(AsapEventsTest, RegisterThenDeregisterInOrderWithCause) {
  connect_pe(1);
  register_ok(1, "EchoPool", make_pe(101));
  register_ok(1, "EchoPool", make_pe(102));
  deliver(1, deregistration("EchoPool", 101));
  deliver(1, deregistration("EchoPool", 102));
  ASSERT_EQ(recorder.kinds(), (std::vector<K>{K::kPoolCreated, K::kPeRegistered, K::kPeRegistered, K::kPeRemoved,
                                              K::kPeRemoved, K::kPoolRemoved}));
  const auto& ev = recorder.events;
  EXPECT_EQ(ev[1].pe->id, 101u);
  EXPECT_EQ(ev[1].pe->home_registrar, kOwnId);
  ASSERT_TRUE(ev[1].pe->asap_transport.has_value());
  EXPECT_EQ(ev[2].pe->id, 102u);
  EXPECT_EQ(ev[3].pe->id, 101u);
  EXPECT_EQ(ev[3].cause, PeRemovalCause::kDeregistration);
  EXPECT_EQ(ev[4].cause, PeRemovalCause::kDeregistration);
  EXPECT_EQ(*ev[5].handle, handle("EchoPool"));
  for (std::size_t i = 1; i < ev.size(); ++i) EXPECT_EQ(ev[i].seq, ev[i - 1].seq + 1);
}

TEST_F(AsapEventsTest, ReregistrationMovesOnlyWhenTheTransportChanged) {
  connect_pe(1);
  register_ok(1, "P", make_pe(7, {kPeAddr1}));
  register_ok(1, "P", make_pe(7, {kPeAddr1}));  // refresh: nothing
  register_ok(1, "P", make_pe(7, {kPeAddr2}));  // another address: moved
  ASSERT_EQ(recorder.kinds(), (std::vector<K>{K::kPoolCreated, K::kPeRegistered, K::kPeMoved}));
  EXPECT_EQ(recorder.events[2].pe->user_transport.addresses, std::vector<IpAddress>{kPeAddr2});
}

TEST_F(AsapEventsTest, KeepAliveTimeoutAssociationLossAndOperatorCauses) {
  connect_pe(1);
  connect_pe(2, {kPeAddr1, kPeAddr2, kPeAddr3}, 50002);
  register_ok(1, "K", make_pe(1));
  register_ok(2, "L", make_pe(2));
  register_ok(2, "L", make_pe(3));
  recorder.events.clear();

  server().on_connection_closed(2);
  ASSERT_EQ(recorder.kinds(), (std::vector<K>{K::kPeRemoved, K::kPeRemoved, K::kPoolRemoved}));
  for (int i = 0; i < 2; ++i) EXPECT_EQ(recorder.events[i].cause, PeRemovalCause::kAssociationLoss);
  recorder.events.clear();

  advance_and_run(config_.keepalive_interval);      // keep-alive out
  advance_and_run(config_.keepalive_timeout + 1);   // no ack
  ASSERT_EQ(recorder.kinds(), (std::vector<K>{K::kPeRemoved, K::kPoolRemoved}));
  EXPECT_EQ(recorder.events[0].cause, PeRemovalCause::kKeepaliveTimeout);
  EXPECT_EQ(recorder.events[0].pe->id, 1u);
  recorder.events.clear();

  connect_pe(3, {kPeAddr1, kPeAddr2, kPeAddr3}, 50003);
  register_ok(3, "O", make_pe(9));
  recorder.events.clear();
  ASSERT_TRUE(server().operator_deregister(handle("O"), 9));
  ASSERT_EQ(recorder.kinds(), (std::vector<K>{K::kPeRemoved, K::kPoolRemoved}));
  EXPECT_EQ(recorder.events[0].cause, PeRemovalCause::kOperator);
  EXPECT_EQ(recorder.events[1].cause, PeRemovalCause::kOperator);
}

TEST_F(AsapEventsTest, NothingWithoutInterest) {
  sink.set_interest(0);
  connect_pe(1);
  register_ok(1, "Q", make_pe(1));
  deliver(1, deregistration("Q", 1));
  EXPECT_TRUE(recorder.events.empty());
  EXPECT_EQ(sink.published(), 0u);
  // A filter for removals only gets removals.
  sink.set_interest(event_kind_bit(K::kPeRemoved));
  register_ok(1, "Q", make_pe(1));
  deliver(1, deregistration("Q", 1));
  EXPECT_EQ(recorder.kinds(), (std::vector<K>{K::kPeRemoved}));
}

}  // namespace
}  // namespace poolreg::asap::testing
