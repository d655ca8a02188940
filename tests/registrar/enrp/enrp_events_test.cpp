// EnrpServer raises peer, takeover and audit events and the PE/pool events of the writes ENRP
// applies (Handle Updates, expiry, takeover re-homing), so PEs learned from peers show in
// poolctl events too (issue 18).
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "registrar/common/registrar_event.hpp"
#include "tests/registrar/common/event_recorder.hpp"
#include "tests/registrar/enrp/enrp_sim_cluster.hpp"

namespace poolreg::enrp::testing {
namespace {

using K = RegistrarEventKind;

using Recorder = poolreg::testing::EventRecorder;

class EnrpEventsTest : public EnrpCluster {
 protected:
  void watch(SimNode& n, Recorder& r, RegistrarEventSink& sink) {
    sink.set_listener(&r);
    sink.set_interest(kAllEventKinds);
    n.srv().set_event_sink(&sink);
  }
  static TimeNs dead_after(const EnrpConfig& c = EnrpConfig::fast()) {
    return c.max_time_last_heard + c.max_time_no_response + 1;
  }
  RegistrarEventSink sink_b, sink_c;
  Recorder at_b, at_c;
};

TEST_F(EnrpEventsTest, PeersComeUpAndPeLearnedFromAPeerShowsInOrder) {
  make3();
  watch(*b, at_b, sink_b);
  start_and_settle();
  auto ups = at_b.of(K::kPeerUp);
  ASSERT_EQ(ups.size(), 2u) << "A and C, once each";
  std::vector<RegistrarId> up_ids{ups[0].peer, ups[1].peer};
  std::sort(up_ids.begin(), up_ids.end());
  EXPECT_EQ(up_ids, (std::vector<RegistrarId>{kA, kC}));
  EXPECT_TRUE(ups[0].peer_endpoint.has_value());
  at_b.events.clear();

  const PoolHandle h = handle("EchoPool");
  register_owned(*a, h, make_pe(0x12345678, kA, 0x0b000001, 7000));
  net.pump();
  register_owned(*a, h, make_pe(0x12345678, kA, 0x0b0000aa, 7001));  // mobility
  net.pump();
  deregister_owned(*a, h, 0x12345678);
  net.pump();
  ASSERT_EQ(at_b.kinds(),
            (std::vector<K>{K::kPoolCreated, K::kPeRegistered, K::kPeMoved, K::kPeRemoved, K::kPoolRemoved}));
  EXPECT_EQ(at_b.events[1].pe->home_registrar, kA);
  EXPECT_EQ(at_b.events[2].pe->user_transport.port, 7001);
  EXPECT_EQ(at_b.events[3].cause, PeRemovalCause::kEnrpPeer);
  EXPECT_EQ(at_b.events[4].cause, PeRemovalCause::kEnrpPeer);
}

TEST_F(EnrpEventsTest, DeadPeerIsDownThenDeadThenTakenOver) {
  make3();
  watch(*b, at_b, sink_b);
  watch(*c, at_c, sink_c);
  start_and_settle();
  const PoolHandle h = handle("TakePool");
  for (PoolElementId id : {0x301, 0x302}) register_owned(*a, h, make_pe(id, kA));
  net.pump();
  at_b.events.clear();
  at_c.events.clear();

  net.kill(a->index);
  net.advance(dead_after() + EnrpConfig::fast().takeover_expiry + cycle());

  for (Recorder* r : {&at_b, &at_c}) {
    const auto kinds = r->kinds();
    const auto down = std::find(kinds.begin(), kinds.end(), K::kPeerDown);
    const auto dead = std::find(kinds.begin(), kinds.end(), K::kPeerDead);
    ASSERT_NE(down, kinds.end());
    ASSERT_NE(dead, kinds.end());
    EXPECT_LT(down - kinds.begin(), dead - kinds.begin()) << "down before dead";
    EXPECT_EQ(r->of(K::kPeerDead)[0].peer, kA);
  }
  // Exactly one winner (lowest ID: B); both see A's PEs re-homed to it.
  ASSERT_EQ(at_b.of(K::kTakeoverWon).size(), 1u);
  EXPECT_EQ(at_b.of(K::kTakeoverWon)[0].peer, kA);
  EXPECT_EQ(at_b.of(K::kTakeoverWon)[0].count, 2u);
  EXPECT_TRUE(at_c.of(K::kTakeoverWon).empty());
  for (Recorder* r : {&at_b, &at_c}) {
    auto moved = r->of(K::kPeMoved);
    ASSERT_EQ(moved.size(), 2u);
    for (const auto& m : moved) {
      EXPECT_EQ(m.previous_home, kA);
      EXPECT_EQ(m.pe->home_registrar, kB);
    }
  }
  EXPECT_FALSE(at_b.of(K::kTakeoverStarted).empty());
}

}  // namespace
}  // namespace poolreg::enrp::testing
