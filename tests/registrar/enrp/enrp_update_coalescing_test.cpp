// Handle Update damping (issue 14 item 4, enrp.update_coalesce_ms): a PE re-registering many
// times within the window costs one Handle Update per window with the latest state; an isolated
// update is sent at once; ping-pong between two addresses does not multiply ENRP traffic; a
// Presence never announces a checksum the peers cannot have (held updates go first).
#include <gtest/gtest.h>

#include "registrar/enrp/update_coalescer.hpp"
#include "tests/registrar/enrp/enrp_sim_cluster.hpp"

namespace poolreg::enrp::testing {
namespace {

using wire::EnrpType;

constexpr TimeNs kWindow = 50 * kNsPerMs;

EnrpConfig coalescing_config() {
  EnrpConfig c = EnrpConfig::fast();
  c.update_coalesce = kWindow;
  return c;
}

TEST(UpdateCoalescer, FirstGoesOutThenTheLatestPerWindow) {
  UpdateCoalescer u;
  const PoolHandle h = handle("P");
  PoolElement pe = make_pe(1, 0x1000, 0x0b000001, 7000);
  EXPECT_TRUE(u.offer(h, pe, wire::UpdateAction::kAddPe, 0, kWindow));
  pe.user_transport.port = 7001;
  EXPECT_FALSE(u.offer(h, pe, wire::UpdateAction::kAddPe, 10, kWindow));
  pe.user_transport.port = 7002;
  EXPECT_FALSE(u.offer(h, pe, wire::UpdateAction::kAddPe, 20, kWindow));
  EXPECT_EQ(u.coalesced(), 1u);
  ASSERT_EQ(u.next_due(), std::optional<TimeNs>{kWindow});
  std::vector<UpdateCoalescer::Update> out;
  u.take_due(kWindow - 1, kWindow, out);
  EXPECT_TRUE(out.empty());
  u.take_due(kWindow, kWindow, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].pe.user_transport.port, 7002);
  // A new window opened with the trailing send; a quiet one then forgets the PE.
  EXPECT_FALSE(u.next_due().has_value()) << "nothing held: no wake-up needed";
  out.clear();
  u.take_due(2 * kWindow, kWindow, out);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(u.offer(h, pe, wire::UpdateAction::kDeletePe, 2 * kWindow + 1, kWindow));
}

TEST(UpdateCoalescer, LatestStateWinsAcrossActions) {
  UpdateCoalescer u;
  const PoolHandle h = handle("P");
  const PoolElement pe = make_pe(1, 0x1000);
  EXPECT_TRUE(u.offer(h, pe, wire::UpdateAction::kAddPe, 0, kWindow));
  EXPECT_FALSE(u.offer(h, pe, wire::UpdateAction::kDeletePe, 1, kWindow));
  EXPECT_FALSE(u.offer(h, pe, wire::UpdateAction::kAddPe, 2, kWindow));  // back within the window
  std::vector<UpdateCoalescer::Update> out;
  u.take_all(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].action, wire::UpdateAction::kAddPe);
  EXPECT_EQ(u.held(), 0u);
}

TEST_F(EnrpCluster, PingPongCostsOneUpdatePerWindowAndPeersSeeTheLatest) {
  make3(coalescing_config());
  start_and_settle();
  const PoolHandle h = handle("MobilePool");
  const TimeNs since = net.clock.now();
  register_owned(*a, h, make_pe(0x42, kA, 0x0b000001, 7000));
  net.pump();
  // Isolated first update: at once.
  EXPECT_TRUE(find_pe(*b->hs, h, 0x42).has_value());
  // 20 moves between two addresses within one window.
  for (int i = 0; i < 20; ++i) {
    register_owned(*a, h, make_pe(0x42, kA, i % 2 == 0 ? 0x0b000002 : 0x0b000001, 7000 + i));
    net.advance(kNsPerMs);
  }
  net.advance(kWindow);
  const auto updates = net.sent_between(a->index, b->index, EnrpType::kHandleUpdate, since);
  EXPECT_EQ(updates.size(), 2u) << "the first at once, the latest when the window ends";
  EXPECT_EQ(a->srv().counters().updates_coalesced, 19u);
  for (SimNode* n : {b, c}) {
    auto pe = find_pe(*n->hs, h, 0x42);
    ASSERT_TRUE(pe.has_value());
    EXPECT_EQ(pe->user_transport.port, 7019) << n->id;
    EXPECT_EQ(pe->user_transport.addresses, std::vector<IpAddress>{IpAddress::v4(0x0b000001u)});
  }
  // Checksums agree after the next Presence round: no sync was needed.
  net.advance(cycle());
  for (SimNode* n : {a, b, c})
    for (const auto& p : n->srv().peers()) EXPECT_TRUE(p.in_sync) << n->id << " about " << p.id;
  EXPECT_EQ(b->srv().counters().audit_mismatches + c->srv().counters().audit_mismatches, 0u);
}

TEST_F(EnrpCluster, DeregistrationRightAfterAMoveIsNotLost) {
  make3(coalescing_config());
  start_and_settle();
  const PoolHandle h = handle("GonePool");
  register_owned(*a, h, make_pe(0x43, kA));
  net.pump();
  register_owned(*a, h, make_pe(0x43, kA, 0x0b000009, 7100));
  deregister_owned(*a, h, 0x43);
  net.pump();
  EXPECT_TRUE(find_pe(*b->hs, h, 0x43).has_value()) << "held within the window";
  net.advance(kWindow);
  for (SimNode* n : {b, c}) EXPECT_FALSE(find_pe(*n->hs, h, 0x43).has_value()) << n->id;
}

TEST_F(EnrpCluster, CoalescingOffSendsEveryUpdate) {
  make3();
  start_and_settle();
  const PoolHandle h = handle("PlainPool");
  const TimeNs since = net.clock.now();
  for (int i = 0; i < 5; ++i) register_owned(*a, h, make_pe(0x44, kA, 0x0b000001, 7000 + i));
  net.pump();
  EXPECT_EQ(net.sent_between(a->index, b->index, EnrpType::kHandleUpdate, since).size(), 5u);
  EXPECT_EQ(a->srv().counters().updates_coalesced, 0u);
}

}  // namespace
}  // namespace poolreg::enrp::testing
