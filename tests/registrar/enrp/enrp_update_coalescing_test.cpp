// Handle Update damping (issue 14 item 4, enrp.update_coalesce_ms): a PE re-registering many
// times within the window costs one Handle Update per window with the latest state; an isolated
// update is sent at once; ping-pong between two addresses does not multiply ENRP traffic; a
// Presence never announces a checksum the peers cannot have (held updates go first). A change of
// only a PE's association addresses waits for the PE's next update (enrp.transport_update_delay_ms):
// a make-before-break move (ADD-IP, re-registration, DELETE-IP) costs one Handle Update.
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

constexpr TimeNs kTransportDelay = 2 * kNsPerSec;

// make_pe with its ASAP transport (the association's addresses) set to `asap`.
PoolElement with_asap(PoolElement pe, std::vector<IpAddress> asap) {
  pe.asap_transport->addresses = std::move(asap);
  return pe;
}

TEST(UpdateCoalescer, TransportOnlyWaitsForTheNextUpdateOrItsDelay) {
  UpdateCoalescer u;
  const PoolHandle h = handle("P");
  const PoolElement pe = make_pe(1, 0x1000, 0x0b000001, 7000);
  u.offer_transport_only(h, pe, 0, kTransportDelay);  // ADD-IP
  EXPECT_EQ(u.held(), 1u);
  EXPECT_EQ(u.held_transport_only(), 1u);
  EXPECT_EQ(u.next_due(), std::optional<TimeNs>{kTransportDelay});
  std::vector<UpdateCoalescer::Update> out;
  u.take_all(out);  // a Presence does not need it
  EXPECT_TRUE(out.empty());
  // The re-registration goes out at once and carries it.
  EXPECT_TRUE(u.offer(h, pe, wire::UpdateAction::kAddPe, 10, kWindow));
  EXPECT_EQ(u.held(), 0u);
  EXPECT_EQ(u.coalesced(), 1u);
  // DELETE-IP within the window: held as transport-only; the window ends without a send.
  u.offer_transport_only(h, pe, 20, kTransportDelay);
  u.take_due(10 + kWindow, kWindow, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(u.held_transport_only(), 1u);
  // Nothing else came: it goes out when its delay ends (the bound counts from the first change).
  u.take_due(20 + kTransportDelay - 1, kWindow, out);
  EXPECT_TRUE(out.empty());
  u.take_due(20 + kTransportDelay, kWindow, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(u.held(), 0u);
  EXPECT_EQ(u.held_transport_only(), 0u);
  // It opened a window: an update right after is held.
  EXPECT_FALSE(u.offer(h, pe, wire::UpdateAction::kAddPe, 20 + kTransportDelay + 1, kWindow));
}

TEST(UpdateCoalescer, TransportOnlyJoinsAHeldUpdateAndSupersedeDropsIt) {
  UpdateCoalescer u;
  const PoolHandle h = handle("P");
  PoolElement pe = make_pe(1, 0x1000, 0x0b000001, 7000);
  EXPECT_TRUE(u.offer(h, pe, wire::UpdateAction::kAddPe, 0, kWindow));
  EXPECT_FALSE(u.offer(h, pe, wire::UpdateAction::kAddPe, 1, kWindow));  // held, ordinary
  pe = with_asap(pe, {IpAddress::v4(0x0b000002)});
  u.offer_transport_only(h, pe, 2, kTransportDelay);  // rides the held one, newest state
  EXPECT_EQ(u.held_transport_only(), 0u);
  std::vector<UpdateCoalescer::Update> out;
  u.take_due(kWindow, kWindow, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].pe.asap_transport, pe.asap_transport);
  // Damping off: a direct send supersedes a waiting transport change.
  u.offer_transport_only(h, pe, 3 * kWindow, kTransportDelay);
  u.supersede(h, pe.id);
  EXPECT_EQ(u.held(), 0u);
  EXPECT_FALSE(u.next_due().has_value());
}

TEST(UpdateCoalescer, QuietWindowsAreForgottenWithoutHeldUpdates) {
  UpdateCoalescer u;
  const PoolHandle h = handle("P");
  for (PoolElementId id = 1; id <= 100; ++id) EXPECT_TRUE(u.offer(h, make_pe(id, 0x1000), wire::UpdateAction::kAddPe, 0, kWindow));
  EXPECT_FALSE(u.pass_due(kWindow - 1));
  EXPECT_TRUE(u.pass_due(kWindow)) << "the pass must run to forget them, though nothing is held";
  std::vector<UpdateCoalescer::Update> out;
  u.take_due(kWindow, kWindow, out);
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(u.pass_due(10 * kWindow));
}

TEST_F(EnrpCluster, MakeBeforeBreakMoveCostsOneHandleUpdate) {
  EnrpConfig config = coalescing_config();
  config.transport_update_delay = kTransportDelay;
  make3(config);
  start_and_settle();
  const PoolHandle h = handle("MobilePool");
  const PoolElement before = with_asap(make_pe(0x45, kA, 0x0b000001, 7000), {IpAddress::v4(0x0b000001)});
  register_owned(*a, h, before);
  net.pump();
  net.advance(kWindow);
  const TimeNs since = net.clock.now();
  // ADD-IP, re-registration with the new address 5 ms later, DELETE-IP of the old one 200 ms later.
  a->srv().on_owned_pe_transport_changed(h, with_asap(before, {IpAddress::v4(0x0b000001), IpAddress::v4(0x0b000002)}));
  net.advance(5 * kNsPerMs);
  const PoolElement moved =
      with_asap(make_pe(0x45, kA, 0x0b000002, 7000), {IpAddress::v4(0x0b000001), IpAddress::v4(0x0b000002)});
  register_owned(*a, h, moved);
  net.pump();
  for (SimNode* n : {b, c})
    EXPECT_EQ(find_pe(*n->hs, h, 0x45)->user_transport.addresses, std::vector<IpAddress>{IpAddress::v4(0x0b000002)})
        << n->id << ": the re-registration is visible at once";
  net.advance(200 * kNsPerMs);
  const PoolElement settled = with_asap(moved, {IpAddress::v4(0x0b000002)});
  a->srv().on_owned_pe_transport_changed(h, settled);
  // Presence rounds pass (they do not flush it), the delay has not ended: one update so far.
  net.advance(kTransportDelay / 2);
  EXPECT_EQ(net.sent_between(a->index, b->index, EnrpType::kHandleUpdate, since).size(), 1u);
  // The PE's next move carries the DELETE-IP's state; without one it goes out after the delay.
  net.advance(kTransportDelay);
  EXPECT_EQ(net.sent_between(a->index, b->index, EnrpType::kHandleUpdate, since).size(), 2u);
  for (SimNode* n : {b, c}) EXPECT_EQ(find_pe(*n->hs, h, 0x45)->asap_transport, settled.asap_transport) << n->id;
  for (SimNode* n : {a, b, c})
    for (const auto& p : n->srv().peers()) EXPECT_TRUE(p.in_sync) << n->id << " about " << p.id;
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
