// EnrpServer takeover of a dead peer (ENRP-TKO-01..07) and the restart of the dead peer.
#include <gtest/gtest.h>

#include "tests/registrar/enrp/enrp_sim_cluster.hpp"

namespace poolreg::enrp::testing {
namespace {

using wire::EnrpType;

class EnrpTakeoverTest : public EnrpCluster {
 protected:
  static constexpr int kBPes = 5;
  const PoolHandle h = handle("TakePool");

  void cluster_with_b_pes(std::optional<EnrpConfig> cfg = std::nullopt) {
    make3(cfg);
    start_and_settle();
    for (int i = 0; i < kBPes; ++i) register_owned(*b, h, make_pe(0x200 + i, kB));
    register_owned(*a, h, make_pe(0x100, kA));
    net.pump();
    ASSERT_EQ(a->hs->pe_count_of_owner(kB), static_cast<std::size_t>(kBPes));
    ASSERT_EQ(c->hs->pe_count_of_owner(kB), static_cast<std::size_t>(kBPes));
  }
  static TimeNs dead_after(const EnrpConfig& c = EnrpConfig::fast()) {
    return c.max_time_last_heard + c.max_time_no_response + 1;
  }
};

TEST_F(EnrpTakeoverTest, ExactlyOneSurvivorTakesOverDeadPeer_ENRP_TKO_01_04_05_06) {
  cluster_with_b_pes();
  net.kill(b->index);
  net.advance(dead_after() + EnrpConfig::fast().takeover_expiry + cycle());

  const auto& ca = a->srv().counters();
  const auto& cc = c->srv().counters();
  EXPECT_EQ(ca.takeovers_won + cc.takeovers_won, 1u);
  SimNode* winner = ca.takeovers_won == 1 ? a : c;
  SimNode* other = winner == a ? c : a;
  EXPECT_EQ(other->srv().counters().takeovers_completed, 1u);  // got Takeover Server
  for (SimNode* n : {a, c}) {
    EXPECT_EQ(n->hs->pe_count_of_owner(kB), 0u) << n->id;
    EXPECT_EQ(n->hs->pe_count_of_owner(winner->id), static_cast<std::size_t>(kBPes) + (winner == a ? 1 : 0));
    for (int i = 0; i < kBPes; ++i) {
      auto pe = find_pe(*n->hs, h, 0x200 + i);
      ASSERT_TRUE(pe.has_value());
      EXPECT_EQ(pe->home_registrar, winner->id);
    }
  }
  // H=1 probes for every taken PE, by the winner only.
  ASSERT_EQ(winner->monitor.calls.size(), static_cast<std::size_t>(kBPes));
  for (const auto& [handle, pe] : winner->monitor.calls) {
    EXPECT_EQ(handle, h);
    EXPECT_EQ(pe.home_registrar, winner->id);
    EXPECT_TRUE(pe.asap_transport.has_value());
  }
  EXPECT_TRUE(other->monitor.calls.empty());
  // The taken PEs no longer expire at the winner (monitored by keep-alives instead): only a
  // possible expiry for PEs owned by others remains.
  EXPECT_FALSE(winner->hs->next_expiry().has_value());
  // Dead peer B is no longer considered alive anywhere and nothing is in progress.
  EXPECT_TRUE(a->srv().takeover_status().empty());
  EXPECT_TRUE(c->srv().takeover_status().empty());
  // Checksums agree between the survivors.
  net.advance(cycle());
  EXPECT_TRUE(peer_by_id(a->srv().peers(), kC)->in_sync);
  EXPECT_TRUE(peer_by_id(c->srv().peers(), kA)->in_sync);
}

TEST_F(EnrpTakeoverTest, CompetingTakeoversLowestIdWins_ENRP_TKO_03) {
  cluster_with_b_pes();
  net.kill(b->index);
  // A and C heard B's last Presence at the same instant, so both start at the same time.
  net.advance(dead_after() + 1 * kNsPerSec);
  EXPECT_EQ(a->srv().counters().takeovers_started, 1u);
  EXPECT_EQ(c->srv().counters().takeovers_started, 1u);
  EXPECT_EQ(a->srv().counters().takeovers_won, 1u);  // lowest ID
  EXPECT_EQ(c->srv().counters().takeovers_lost, 1u);
  EXPECT_EQ(c->srv().counters().takeovers_won, 0u);
  EXPECT_FALSE(net.sent_between(c->index, a->index, EnrpType::kInitTakeoverAck).empty());
  EXPECT_TRUE(net.sent_between(a->index, c->index, EnrpType::kInitTakeoverAck).empty());
  EXPECT_EQ(c->hs->pe_count_of_owner(kA), static_cast<std::size_t>(kBPes) + 1);
  EXPECT_EQ(a->monitor.calls.size(), static_cast<std::size_t>(kBPes));
  EXPECT_TRUE(c->monitor.calls.empty());
}

TEST_F(EnrpTakeoverTest, RestartedPeerSyncsAndChecksumsMatch) {
  cluster_with_b_pes();
  net.kill(b->index);
  net.advance(dead_after() + EnrpConfig::fast().takeover_expiry + cycle());
  ASSERT_EQ(a->hs->pe_count_of_owner(kB), 0u);
  // B restarts with fresh state (and the same address; RSPLIB would draw a new ID, we keep it).
  net.build(*b);
  net.revive(b->index);
  b->srv().start();
  net.advance(2 * kNsPerSec);
  EXPECT_TRUE(b->srv().startup_complete());
  EXPECT_EQ(count_all(*b->hs), count_all(*a->hs));
  for (RegistrarId owner : {kA, kC}) {
    EXPECT_EQ(b->hs->checksum16(owner), a->hs->checksum16(owner)) << owner;
    EXPECT_EQ(b->hs->checksum16(owner), c->hs->checksum16(owner)) << owner;
  }
  net.advance(2 * cycle());
  for (SimNode* n : {a, b, c}) {
    auto peers = n->srv().peers();
    ASSERT_EQ(peers.size(), 2u);
    for (const auto& p : peers) {
      EXPECT_EQ(p.state, PeerState::kAlive) << n->id << " about " << p.id;
      EXPECT_TRUE(p.in_sync) << n->id << " about " << p.id;
    }
  }
  // A restarted B with a new ID is just as welcome.
  b->config.own_id = 0x2100;
  b->id = 0x2100;
  net.build(*b);
  b->srv().start();
  net.advance(2 * kNsPerSec);
  EXPECT_EQ(count_all(*b->hs), count_all(*a->hs));
  net.advance(dead_after() + cycle());
  EXPECT_NE(peer_by_id(a->srv().peers(), 0x2100), nullptr);
  EXPECT_EQ(peer_by_id(a->srv().peers(), kB), nullptr);
}

// B restarts at once under a new ID (RSPLIB draws a random one): the PEs of its previous
// incarnation must still be taken over, because nobody will ever refresh them.
TEST_F(EnrpTakeoverTest, StaticPeerBackWithNewIdOldIncarnationTakenOver_ENRP_TKO_01) {
  cluster_with_b_pes();
  b->config.own_id = 0x2100;
  b->id = 0x2100;
  net.build(*b);
  b->srv().start();
  net.advance(dead_after() + EnrpConfig::fast().takeover_expiry + cycle());
  for (SimNode* n : {a, b, c}) EXPECT_EQ(n->hs->pe_count_of_owner(kB), 0u) << n->id;
  EXPECT_EQ(a->srv().counters().takeovers_won + c->srv().counters().takeovers_won, 1u);
  SimNode* winner = a->srv().counters().takeovers_won == 1 ? a : c;
  EXPECT_EQ(winner->monitor.calls.size(), static_cast<std::size_t>(kBPes));
  for (SimNode* n : {a, b, c}) {
    auto pe = find_pe(*n->hs, h, 0x200);
    ASSERT_TRUE(pe.has_value());
    EXPECT_EQ(pe->home_registrar, winner->id);
  }
  EXPECT_EQ(peer_by_id(a->srv().peers(), 0x2100)->state, PeerState::kAlive);
}

TEST_F(EnrpTakeoverTest, TwoRegistrarClusterFinishesWithoutWaiting_ENRP_TKO_05) {
  a = &net.add_node(kA);
  b = &net.add_node(kB);
  net.mesh_static_peers();
  start_and_settle();
  register_owned(*b, h, make_pe(0x201, kB));
  net.pump();
  net.kill(b->index);
  net.advance(dead_after());
  EXPECT_EQ(a->srv().counters().takeovers_won, 1u);  // nobody to ask: at once, not after expiry
  EXPECT_EQ(a->hs->pe_count_of_owner(kA), 1u);
  EXPECT_EQ(a->monitor.calls.size(), 1u);
}

// Issue 18: a dead static peer is reset (ID 0, its PEs ours) but still shows who it was.
TEST_F(EnrpTakeoverTest, DeadStaticPeerKeepsLastIdAndPeCountForDisplay) {
  a = &net.add_node(kA);
  b = &net.add_node(kB);
  net.mesh_static_peers();
  start_and_settle();
  register_owned(*b, h, make_pe(0x201, kB));
  register_owned(*b, h, make_pe(0x202, kB));
  net.pump();
  net.kill(b->index);
  net.advance(dead_after());
  ASSERT_EQ(a->srv().counters().takeovers_won, 1u);

  const auto peers = a->srv().peers();
  ASSERT_EQ(peers.size(), 1u);
  const PeerSnapshot& dead = peers.front();
  EXPECT_EQ(dead.state, PeerState::kDead);
  EXPECT_EQ(dead.id, 0u);  // identity forgotten: a restart may come with any ID
  EXPECT_EQ(dead.last_id, kB);
  EXPECT_EQ(dead.last_pe_count, 2u);
  EXPECT_EQ(dead.pe_count, 0u);
  EXPECT_NE(dead.last_heard, 0u);
  EXPECT_EQ(peer_by_id(peers, kB), nullptr);  // the last ID never matches as an identity

  const auto& wins = a->srv().recent_takeover_wins();
  ASSERT_EQ(wins.size(), 1u);
  EXPECT_EQ(wins.front().target, kB);
  EXPECT_EQ(wins.front().pes, 2u);
  EXPECT_EQ(wins.front().number, 1u);

  // Heard again: alive under its ID, the dead incarnation's display fields gone.
  net.revive(b->index);
  net.advance(cycle());
  const auto back = a->srv().peers();
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back.front().state, PeerState::kAlive);
  EXPECT_EQ(back.front().last_pe_count, 0u);
  EXPECT_EQ(back.front().last_id, back.front().id);
}

TEST_F(EnrpTakeoverTest, InitTakeoverForUsTriggersPresenceToAll_ENRP_TKO_02) {
  make3();
  start_and_settle();
  const TimeNs since = net.clock.now();
  wire::InitTakeover it{kC, kA, kA};
  a->srv().on_message(net.connection_at(a->index, c->index), encode_msg(it));
  net.pump();
  EXPECT_FALSE(net.sent_between(a->index, b->index, EnrpType::kPresence, since).empty());
  EXPECT_FALSE(net.sent_between(a->index, c->index, EnrpType::kPresence, since).empty());
  EXPECT_TRUE(net.sent_between(a->index, c->index, EnrpType::kInitTakeoverAck, since).empty());
}

TEST_F(EnrpTakeoverTest, InitTakeoverForOtherTargetIsAcked_ENRP_TKO_04) {
  make3();
  start_and_settle();
  const TimeNs since = net.clock.now();
  wire::InitTakeover it{kC, kA, 0x9999};  // target unknown to A: still acked
  a->srv().on_message(net.connection_at(a->index, c->index), encode_msg(it));
  net.pump();
  auto acks = net.sent_between(a->index, c->index, EnrpType::kInitTakeoverAck, since);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(std::get<wire::InitTakeoverAck>(acks[0]).target, 0x9999u);
}

// A waits for an ack from a peer that never answers: B coming back cancels the takeover; if
// B stays away, TAKEOVER-EXPIRY finishes it anyway (RSPSIM rule).
class EnrpTakeoverExternal : public ::testing::Test {
 protected:
  void make() {
    a = &net.add_node(0x1000);
    b = &net.add_node(0x2000);
    x = &net.add_external(0x5000);
    net.set_static_peers(*a, {1, 2});
    net.set_static_peers(*b, {0});
    a->srv().start();
    b->srv().start();
    net.pump();
    cid = x->connections_up.front();
    keep_x_alive();
    net.advance(1 * kNsPerSec);
    register_owned(*b, handle("P"), make_pe(0x77, 0x2000));
    net.pump();
    ASSERT_EQ(a->hs->pe_count_of_owner(0x2000), 1u);
  }
  void keep_x_alive() { net.inject(x->index, cid, make_presence(0x5000, 0x1000, false)); }
  // Advances while X keeps sending Presence every second (but never acks).
  void advance_with_x(TimeNs total) {
    for (TimeNs t = 0; t < total; t += kNsPerSec) {
      keep_x_alive();
      net.advance(std::min<TimeNs>(kNsPerSec, total - t));
    }
  }
  SimNetwork net;
  SimNode* a = nullptr;
  SimNode* b = nullptr;
  SimNode* x = nullptr;
  ConnectionId cid = 0;
};

TEST_F(EnrpTakeoverExternal, PresenceFromTargetCancelsTakeover_ENRP_TKO_07) {
  make();
  net.kill(b->index);
  const EnrpConfig cfg = EnrpConfig::fast();
  advance_with_x(cfg.max_time_last_heard + cfg.max_time_no_response + 1 * kNsPerSec);
  ASSERT_EQ(a->srv().counters().takeovers_started, 1u);
  auto status = a->srv().takeover_status();
  ASSERT_EQ(status.size(), 1u);
  EXPECT_TRUE(status[0].ours);
  EXPECT_EQ(status[0].target, 0x2000u);
  EXPECT_EQ(status[0].outstanding, std::vector<RegistrarId>{0x5000});
  // X got the Init Takeover.
  bool init_seen = false;
  for (auto& [c, bytes] : x->inbox) init_seen |= bytes[0] == static_cast<std::uint8_t>(EnrpType::kInitTakeover);
  EXPECT_TRUE(init_seen);
  net.revive(b->index);
  advance_with_x(full_cycle());
  EXPECT_EQ(a->srv().counters().takeovers_cancelled, 1u);
  EXPECT_EQ(a->srv().counters().takeovers_won, 0u);
  EXPECT_TRUE(a->srv().takeover_status().empty());
  EXPECT_EQ(a->hs->pe_count_of_owner(0x2000), 1u);
  EXPECT_TRUE(a->monitor.calls.empty());
}

TEST_F(EnrpTakeoverExternal, ExpiryAssumesConsent_ENRP_TKO_05) {
  make();
  net.kill(b->index);
  const EnrpConfig cfg = EnrpConfig::fast();
  advance_with_x(cfg.max_time_last_heard + cfg.max_time_no_response + 1 * kNsPerSec);
  ASSERT_EQ(a->srv().counters().takeovers_started, 1u);
  EXPECT_EQ(a->srv().counters().takeovers_won, 0u);
  advance_with_x(cfg.takeover_expiry);
  EXPECT_EQ(a->srv().counters().takeovers_won, 1u);
  EXPECT_EQ(a->hs->pe_count_of_owner(0x1000), 1u);
  EXPECT_EQ(a->monitor.calls.size(), 1u);
  // Takeover Server went to X.
  bool ts = false;
  for (auto& [c, bytes] : x->inbox) ts |= bytes[0] == static_cast<std::uint8_t>(EnrpType::kTakeoverServer);
  EXPECT_TRUE(ts);
}

TEST_F(EnrpTakeoverExternal, TakeoverServerMovesPesToSender_ENRP_TKO_06_SEC_05) {
  make();
  // From a stranger (not in the table): ignored.
  SimNode& y = net.add_external(0x6000);
  const ConnectionId ycid = net.connect_external(y.index, a->index);
  net.inject(y.index, ycid, wire::TakeoverServer{0x6000, 0x1000, 0x2000});
  net.pump();
  EXPECT_EQ(a->hs->pe_count_of_owner(0x2000), 1u);
  // From a peer: B's PEs become X's.
  net.inject(x->index, cid, wire::TakeoverServer{0x5000, 0x1000, 0x2000});
  net.pump();
  EXPECT_EQ(a->hs->pe_count_of_owner(0x2000), 0u);
  EXPECT_EQ(a->hs->pe_count_of_owner(0x5000), 1u);
  EXPECT_EQ(a->srv().counters().takeovers_completed, 1u);
}

}  // namespace
}  // namespace poolreg::enrp::testing
