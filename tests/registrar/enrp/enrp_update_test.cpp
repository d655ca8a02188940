// EnrpServer Handle Updates: ADD/DEL propagation, mobility, own-home echo, SEC-05, takeover
// suggestion (ENRP-UPD-01..03, SEC-05, NG-TKS-01).
#include <gtest/gtest.h>

#include "tests/registrar/enrp/enrp_sim_cluster.hpp"

namespace poolreg::enrp::testing {
namespace {

using wire::EnrpType;

TEST_F(EnrpCluster, AddAndDelPropagateToEveryPeer_ENRP_UPD_01_02) {
  make3();
  start_and_settle();
  const PoolHandle h = handle("EchoPool");
  register_owned(*a, h, make_pe(0x12345678, kA, 0x0b000001, 7000));
  net.pump();
  for (SimNode* n : {b, c}) {
    auto pe = find_pe(*n->hs, h, 0x12345678);
    ASSERT_TRUE(pe.has_value()) << n->id;
    EXPECT_EQ(pe->home_registrar, kA);
    EXPECT_EQ(pe->user_transport.port, 7000);
    ASSERT_TRUE(pe->asap_transport.has_value());
    // Peer-owned PEs expire after their registration life (30 s).
    auto exp = n->hs->next_expiry();
    ASSERT_TRUE(exp.has_value());
    EXPECT_EQ(*exp, net.clock.now() + 30 * kNsPerSec);
    EXPECT_EQ(n->srv().counters().updates_applied, 1u);
  }
  // Re-registration with new addresses (mobility): the peers see the new ones.
  register_owned(*a, h, make_pe(0x12345678, kA, 0x0b0000aa, 7001));
  net.pump();
  for (SimNode* n : {b, c}) {
    auto pe = find_pe(*n->hs, h, 0x12345678);
    ASSERT_TRUE(pe.has_value());
    EXPECT_EQ(pe->user_transport.addresses, std::vector<IpAddress>{IpAddress::v4(0x0b0000aau)});
    EXPECT_EQ(pe->user_transport.port, 7001);
  }
  // The checksums agree everywhere.
  net.advance(cycle());
  for (SimNode* n : {a, b, c})
    for (const auto& p : n->srv().peers()) EXPECT_TRUE(p.in_sync) << n->id << " about " << p.id;
  EXPECT_EQ(a->srv().counters().audit_mismatches + b->srv().counters().audit_mismatches, 0u);

  deregister_owned(*a, h, 0x12345678);
  net.pump();
  for (SimNode* n : {b, c}) EXPECT_FALSE(find_pe(*n->hs, h, 0x12345678).has_value());
}

// A static peer never heard from gets no Handle Updates (they would only pile up in the
// transport ahead of its start-up sync); it learns everything from its mentor's table instead.
TEST_F(EnrpCluster, NoUpdatesToPeerNeverHeardFromItSyncsInstead_ENRP_UPD_01_ENRP_SYNC_01) {
  a = &net.add_node(kA);
  b = &net.add_node(kB);
  net.mesh_static_peers();
  net.kill(b->index);  // B is not running yet
  a->srv().start();
  net.advance(1 * kNsPerSec);
  const PoolHandle h = handle("EarlyPool");
  for (PoolElementId id = 1; id <= 300; ++id) register_owned(*a, h, make_pe(id, kA));
  net.advance(1 * kNsPerSec);
  EXPECT_TRUE(net.sent_between(a->index, b->index, EnrpType::kHandleUpdate).empty());
  EXPECT_FALSE(net.sent_between(a->index, b->index, EnrpType::kPresence).empty());  // still contacted

  net.revive(b->index);
  net.build(*b);
  b->srv().start();
  const TimeNs since = net.clock.now();
  net.advance(2 * kNsPerSec);
  EXPECT_TRUE(b->srv().startup_complete());
  EXPECT_EQ(count_all(*b->hs), 300u);
  EXPECT_EQ(b->srv().counters().sync_timeouts, 0u);
  // Once B is heard from, updates flow again.
  register_owned(*a, h, make_pe(301, kA));
  net.pump();
  EXPECT_TRUE(find_pe(*b->hs, h, 301).has_value());
  EXPECT_EQ(net.sent_between(a->index, b->index, EnrpType::kHandleUpdate, since).size(), 1u);
}

TEST_F(EnrpCluster, ReRegistrationAtAnotherRegistrarMovesOwnership_SEC_05) {
  make3();
  start_and_settle();
  const PoolHandle h = handle("MobilePool");
  register_owned(*a, h, make_pe(42, kA));
  net.pump();
  // The PE re-registers at B (e.g. after following a takeover suggestion or a server hunt).
  register_owned(*b, h, make_pe(42, kB, 0x0b000002));
  net.pump();
  auto at_c = find_pe(*c->hs, h, 42);
  ASSERT_TRUE(at_c.has_value());
  EXPECT_EQ(at_c->home_registrar, kB);
  // A still has the PE registered over a live association: B's update does not take it (the
  // ENRP twin of ASAP cause 0x4); A lets go when that association goes.
  auto at_a = find_pe(*a->hs, h, 42);
  ASSERT_TRUE(at_a.has_value());
  EXPECT_EQ(at_a->home_registrar, kA);
  EXPECT_EQ(a->srv().counters().updates_refused_owned_live, 1u);
  // A's ASAP side notices the old association closing and reports the PE removed: the DEL
  // must not delete the PE now owned by B (SEC-05).
  deregister_owned(*a, h, 42);
  net.pump();
  for (SimNode* n : {b, c}) {
    EXPECT_TRUE(find_pe(*n->hs, h, 42).has_value()) << n->id;
  }
  EXPECT_EQ(c->srv().counters().rejected_not_owner, 1u);
  EXPECT_EQ(b->srv().counters().rejected_not_owner, 1u);
  // A learns B's PE back from B's next Presence (its checksum includes 42: audit repair).
  net.advance(2 * cycle());
  at_a = find_pe(*a->hs, h, 42);
  ASSERT_TRUE(at_a.has_value());
  EXPECT_EQ(at_a->home_registrar, kB);
}

// Handover hold (issue 14 item 3): a PE whose association A lost is held at A (no DEL); when it
// re-registers at B meanwhile, B's update is taken by A at once (the held PE has no live
// association), so A's PUs get B's PE without waiting for the hold's end or an audit repair.
TEST_F(EnrpCluster, AddForAHeldPeMovesItAtOnce) {
  make3();
  start_and_settle();
  const PoolHandle h = handle("MobilePool");
  register_owned(*a, h, make_pe(43, kA));
  net.pump();
  ASSERT_EQ(a->hs->hold_association(1'000'000 + 43, [](const PoolHandle&, const handlespace::PoolElementView&) {}), 1u);
  register_owned(*b, h, make_pe(43, kB, 0x0b000002));
  net.pump();
  auto at_a = find_pe(*a->hs, h, 43);
  ASSERT_TRUE(at_a.has_value());
  EXPECT_EQ(at_a->home_registrar, kB);
  EXPECT_FALSE(a->hs->held(h, 43));
  EXPECT_EQ(a->srv().counters().updates_refused_owned_live, 0u);
  // Nothing is left bound to the lost association: the hold's end removes nothing.
  EXPECT_EQ(a->hs->remove_association(1'000'000 + 43, [](const handlespace::RemovedPe&) {}), 0u);
}

TEST_F(EnrpCluster, AddNamingOurselvesAsHomeIsIgnored_ENRP_UPD_03) {
  make3();
  start_and_settle();
  const PoolHandle h = handle("EchoPool");
  register_owned(*a, h, make_pe(5, kA, 0x0b000005, 5005));
  net.pump();
  // B echoes a stale copy of A's PE naming A as home, with other addresses.
  wire::HandleUpdate u;
  u.sender = kB;
  u.receiver = kA;
  u.pool_handle = h;
  u.element = make_pe(5, kA, 0x0b0000ff, 9999);
  a->srv().on_message(net.connection_at(a->index, b->index), encode_msg(u));
  auto pe = find_pe(*a->hs, h, 5);
  ASSERT_TRUE(pe.has_value());
  EXPECT_EQ(pe->user_transport.port, 5005);
  EXPECT_EQ(a->srv().counters().updates_ignored, 1u);
}

TEST_F(EnrpCluster, DelFromNonOwnerIgnored_SEC_05_ENRP_UPD_02) {
  make3();
  start_and_settle();
  const PoolHandle h = handle("EchoPool");
  register_owned(*a, h, make_pe(6, kA));
  net.pump();
  wire::HandleUpdate del;
  del.sender = kC;
  del.receiver = kB;
  del.action = wire::UpdateAction::kDeletePe;
  del.pool_handle = h;
  del.element = make_pe(6, kA);
  b->srv().on_message(net.connection_at(b->index, c->index), encode_msg(del));
  EXPECT_TRUE(find_pe(*b->hs, h, 6).has_value());
  EXPECT_EQ(b->srv().counters().rejected_not_owner, 1u);
  // The owner's DEL works.
  del.sender = kA;
  b->srv().on_message(net.connection_at(b->index, a->index), encode_msg(del));
  EXPECT_FALSE(find_pe(*b->hs, h, 6).has_value());
  // DEL of an unknown PE: ignored.
  b->srv().on_message(net.connection_at(b->index, a->index), encode_msg(del));
  EXPECT_EQ(b->srv().counters().updates_ignored, 2u);
}

// XOR metric: with A=0x1000, B=0x2000, C=0x3000 and PE ID 0x0100: A^PE=0x1100, B^PE=0x2100,
// C^PE=0x3100 → C is the suggested home.
TEST_F(EnrpCluster, TakeoverSuggestionGoesToBestXorPeer_NG_TKS_01) {
  EnrpConfig cfg = EnrpConfig::fast();
  cfg.takeover_suggestion = true;
  make3(cfg);
  start_and_settle();
  const PoolHandle h = handle("SugPool");
  const TimeNs since = net.clock.now();
  register_owned(*a, h, make_pe(0x0100, kA));
  net.pump();
  auto to_c = net.sent_between(a->index, c->index, EnrpType::kHandleUpdate, since);
  auto to_b = net.sent_between(a->index, b->index, EnrpType::kHandleUpdate, since);
  ASSERT_EQ(to_c.size(), 2u);  // the normal update, then the T=1 copy
  EXPECT_FALSE(std::get<wire::HandleUpdate>(to_c[0]).takeover_suggested);
  EXPECT_TRUE(std::get<wire::HandleUpdate>(to_c[1]).takeover_suggested);
  ASSERT_EQ(to_b.size(), 1u);
  EXPECT_FALSE(std::get<wire::HandleUpdate>(to_b[0]).takeover_suggested);
  ASSERT_EQ(c->monitor.calls.size(), 1u);
  EXPECT_EQ(c->monitor.calls[0].second.id, 0x0100u);
  EXPECT_EQ(c->monitor.calls[0].second.home_registrar, kA);
  EXPECT_TRUE(b->monitor.calls.empty());
  EXPECT_EQ(a->srv().counters().takeover_suggestions_sent, 1u);
  // A re-registration within the same registration life does not probe the PE again.
  register_owned(*a, h, make_pe(0x0100, kA));
  net.pump();
  EXPECT_EQ(c->monitor.calls.size(), 1u);
  // No suggestion when our own metric is the best: PE 0x3000 → A^PE=0x2000, B^PE=0x1000, C^PE=0.
  const TimeNs since2 = net.clock.now() + 1;
  net.advance(1);
  register_owned(*a, h, make_pe(0x3000, kA));
  net.pump();
  for (SimNode* n : {b, c})
    for (const auto& m : net.sent_between(a->index, n->index, EnrpType::kHandleUpdate, since2))
      EXPECT_FALSE(std::get<wire::HandleUpdate>(m).takeover_suggested);
}

TEST_F(EnrpCluster, TakeoverSuggestionOffByDefault_NG_TKS_01) {
  make3();
  start_and_settle();
  register_owned(*a, handle("SugPool"), make_pe(0x0100, kA));
  net.pump();
  EXPECT_EQ(net.sent_between(a->index, c->index, EnrpType::kHandleUpdate).size(), 1u);
  // A T=1 update received while the feature is off is applied as a plain update.
  wire::HandleUpdate u;
  u.sender = kA;
  u.receiver = kC;
  u.takeover_suggested = true;
  u.pool_handle = handle("SugPool");
  u.element = make_pe(0x0200, kA);
  c->srv().on_message(net.connection_at(c->index, a->index), encode_msg(u));
  EXPECT_TRUE(find_pe(*c->hs, handle("SugPool"), 0x0200).has_value());
  EXPECT_TRUE(c->monitor.calls.empty());
}

}  // namespace
}  // namespace poolreg::enrp::testing
