// TakeoverCoordinator on its own: Init Takeover to everybody, acks, winning (all acks, nobody to
// ask, expiry), the lowest-ID tie break (32-bit and ID64), acks to foreign takeovers, Takeover
// Server from the winner, cancellation, and what ASAP is asked to probe
// (ENRP-TKO-01..07, NG-TCP-02).
#include "registrar/enrp/takeover_coordinator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "tests/registrar/enrp/enrp_part_harness.hpp"

namespace poolreg::enrp::testing {
namespace {

using Reply = TakeoverCoordinator::InitTakeoverReply;

constexpr RegistrarId kDead = 0x2000;
constexpr RegistrarId kPeerB = 0x3000;
constexpr RegistrarId kPeerC = 0x4000;
constexpr RegistrarId kLower = 0x0800;  // wins every tie against kSelf (0x1000)

class TakeoverCoordinatorTest : public EnrpPartTest {
 protected:
  FakePeMonitor monitor;
  TakeoverCoordinator takeover{config, *hs, peers, links, clock, monitor};

  // kSelf, a dead peer owning three PEs, and live peers B and C.
  void dead_peer_with_pes() {
    dead = &add_peer(kDead, PeerState::kDead);
    b = &add_peer(kPeerB);
    c = &add_peer(kPeerC);
    for (PoolElementId id = 1; id <= 3; ++id) add_pe(handle("pool"), id, kDead);
  }
  template <typename T>
  std::vector<T> sent_to(PeerEntry& peer) {
    return output.sent_as<T>(connection_of(peer));
  }

  PeerEntry* dead = nullptr;
  PeerEntry* b = nullptr;
  PeerEntry* c = nullptr;
};

TEST_F(TakeoverCoordinatorTest, StartAsksEveryPeerIncludingTheTarget_ENRP_TKO_01) {
  dead_peer_with_pes();
  EXPECT_FALSE(takeover.start(*dead).has_value());
  EXPECT_TRUE(takeover.running(kDead));
  for (PeerEntry* p : {dead, b, c}) {
    const auto init = sent_to<wire::InitTakeover>(*p);
    ASSERT_EQ(init.size(), 1u) << p->id;
    EXPECT_EQ(init[0].target, kDead);
    EXPECT_EQ(init[0].receiver, p->id);
  }
  const auto status = takeover.status();
  ASSERT_EQ(status.size(), 1u);
  EXPECT_TRUE(status[0].ours);
  EXPECT_EQ(status[0].target, kDead);
  EXPECT_EQ(status[0].taker, kSelf);
  EXPECT_EQ(status[0].outstanding, (std::vector<RegistrarId>{kPeerB, kPeerC}));
  EXPECT_EQ(status[0].expires_at, clock.now() + config.takeover_expiry);
  EXPECT_EQ(takeover.next_timer_due(), clock.now() + config.takeover_expiry);
  EXPECT_EQ(takeover.counters().takeovers_started, 1u);
}

TEST_F(TakeoverCoordinatorTest, AllAcksWinTakeOwnershipAndAskAsapToProbe_ENRP_TKO_05) {
  dead_peer_with_pes();
  PoolElement tcp = make_pe(4, kDead);
  tcp.asap_transport->protocol = TransportProtocol::kTcp;
  tcp.registration_life_ms = 7000;
  handlespace::RegistrationOptions o;
  o.expires_at = clock.now() + 60 * kNsPerSec;
  ASSERT_TRUE(hs->register_pe(handle("pool"), tcp, o).has_value());
  ASSERT_FALSE(takeover.start(*dead).has_value());

  EXPECT_FALSE(takeover.on_init_takeover_ack(*b, wire::InitTakeoverAck{kPeerB, kSelf, kDead}).has_value());
  EXPECT_FALSE(
      takeover.on_init_takeover_ack(*b, wire::InitTakeoverAck{kPeerB, kSelf, kDead}).has_value());  // twice
  const auto won = takeover.on_init_takeover_ack(*c, wire::InitTakeoverAck{kPeerC, kSelf, kDead});
  ASSERT_TRUE(won.has_value());
  EXPECT_EQ(*won, kDead);
  EXPECT_FALSE(takeover.running(kDead));

  // Takeover Server to the live peers, not to the target.
  EXPECT_EQ(sent_to<wire::TakeoverServer>(*b).size(), 1u);
  EXPECT_EQ(sent_to<wire::TakeoverServer>(*c).size(), 1u);
  EXPECT_TRUE(sent_to<wire::TakeoverServer>(*dead).empty());

  // Every PE is ours now; SCTP PEs are probed with H=1, the TCP PE lives its registration life.
  EXPECT_EQ(hs->pe_count_of_owner(kDead), 0u);
  EXPECT_EQ(hs->pe_count_of_owner(kSelf), 4u);
  ASSERT_EQ(monitor.calls.size(), 3u);
  for (const auto& [h, pe] : monitor.calls) {
    EXPECT_EQ(pe.home_registrar, kSelf);
    EXPECT_NE(pe.id, 4u);
  }
  ASSERT_TRUE(hs->next_expiry().has_value());
  EXPECT_EQ(*hs->next_expiry(), clock.now() + 7000 * kNsPerMs);
  EXPECT_EQ(takeover.counters().takeovers_won, 1u);
  EXPECT_EQ(takeover.counters().takeover_pes_taken, 4u);
}

TEST_F(TakeoverCoordinatorTest, NobodyToAskWinsAtOnce_ENRP_TKO_05) {
  dead = &add_peer(kDead, PeerState::kDead);
  add_pe(handle("pool"), 1, kDead);
  const auto won = takeover.start(*dead);
  ASSERT_TRUE(won.has_value());
  EXPECT_EQ(*won, kDead);
  EXPECT_EQ(sent_to<wire::InitTakeover>(*dead).size(), 1u);
  EXPECT_EQ(hs->pe_count_of_owner(kSelf), 1u);
  EXPECT_EQ(takeover.counters().takeovers_won, 1u);
}

TEST_F(TakeoverCoordinatorTest, ExpiryFinishesWithoutAllAcks_ENRP_TKO_05) {
  dead_peer_with_pes();
  ASSERT_FALSE(takeover.start(*dead).has_value());
  const TimeNs expiry = takeover.next_timer_due();
  EXPECT_TRUE(takeover.run_timers(expiry - 1).empty());
  EXPECT_EQ(takeover.run_timers(expiry), (std::vector<RegistrarId>{kDead}));
  EXPECT_EQ(hs->pe_count_of_owner(kSelf), 3u);
  EXPECT_EQ(takeover.next_timer_due(), std::numeric_limits<TimeNs>::max());
}

TEST_F(TakeoverCoordinatorTest, InitTakeoverOfUsMeansWeMustAnnounceOurselves_ENRP_TKO_02) {
  b = &add_peer(kPeerB);
  EXPECT_EQ(takeover.on_init_takeover(*b, wire::InitTakeover{kPeerB, kSelf, kSelf}), Reply::kTargetIsUs);
  EXPECT_TRUE(output.sent.empty());  // the caller sends Presence, no ack
}

TEST_F(TakeoverCoordinatorTest, LowerIdCompetitorWinsAndWeAck_ENRP_TKO_03) {
  dead_peer_with_pes();
  PeerEntry& lower = add_peer(kLower);
  ASSERT_FALSE(takeover.start(*dead).has_value());
  EXPECT_EQ(takeover.on_init_takeover(lower, wire::InitTakeover{kLower, kSelf, kDead}), Reply::kAcknowledged);
  EXPECT_FALSE(takeover.running(kDead));
  EXPECT_EQ(takeover.counters().takeovers_lost, 1u);
  const auto acks = sent_to<wire::InitTakeoverAck>(lower);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].target, kDead);
  EXPECT_EQ(dead->taker, kLower);
  EXPECT_EQ(dead->deadline, clock.now() + config.max_time_no_response);

  const auto status = takeover.status();
  ASSERT_EQ(status.size(), 1u);
  EXPECT_FALSE(status[0].ours);
  EXPECT_EQ(status[0].target, kDead);
  EXPECT_EQ(status[0].taker, kLower);
}

TEST_F(TakeoverCoordinatorTest, HigherIdCompetitorIsIgnored_ENRP_TKO_03) {
  dead_peer_with_pes();
  ASSERT_FALSE(takeover.start(*dead).has_value());
  EXPECT_EQ(takeover.on_init_takeover(*b, wire::InitTakeover{kPeerB, kSelf, kDead}), Reply::kIgnored);
  EXPECT_TRUE(takeover.running(kDead));
  EXPECT_TRUE(sent_to<wire::InitTakeoverAck>(*b).empty());
  EXPECT_EQ(dead->taker, 0u);
}

TEST_F(TakeoverCoordinatorTest, TieBreakUsesFullIdsOnlyBetweenId64Peers_NG_ID64) {
  // Own ID 0x2_00000001 (short 1); the peer 0x1_00000002 (short 2): lower as a 64-bit ID,
  // higher in the 32-bit form RFC peers see.
  config.own_id = 0x2'0000'0001ULL;
  config.next_gen = true;
  dead = &add_peer(0x5'0000'0005ULL, PeerState::kDead);
  add_pe(handle("pool"), 1, dead->id);
  PeerEntry& peer = add_peer(0x1'0000'0002ULL);
  PeerEntry& other = add_peer(0x6'0000'0006ULL);
  (void)other;
  const wire::InitTakeover init{peer.id, config.own_id, dead->id};

  ASSERT_FALSE(takeover.start(*dead).has_value());
  EXPECT_EQ(takeover.on_init_takeover(peer, init), Reply::kIgnored);  // RFC peer: 2 > 1, we keep ours
  EXPECT_TRUE(takeover.running(dead->id));

  peer.ng_capabilities = wire::kNgCapId64;
  EXPECT_EQ(takeover.on_init_takeover(peer, init), Reply::kAcknowledged);  // ID64: it is lower
  EXPECT_FALSE(takeover.running(dead->id));
}

TEST_F(TakeoverCoordinatorTest, ForeignTakeoverIsAckedAndRemembered_ENRP_TKO_04) {
  dead = &add_peer(kDead, PeerState::kProbing);
  b = &add_peer(kPeerB);
  EXPECT_EQ(takeover.on_init_takeover(*b, wire::InitTakeover{kPeerB, kSelf, kDead}), Reply::kAcknowledged);
  EXPECT_EQ(dead->taker, kPeerB);
  EXPECT_EQ(sent_to<wire::InitTakeoverAck>(*b).size(), 1u);
  EXPECT_EQ(takeover.counters().takeovers_lost, 0u);

  // Nonsense: a PR taking itself over, or target 0.
  EXPECT_EQ(takeover.on_init_takeover(*b, wire::InitTakeover{kPeerB, kSelf, kPeerB}), Reply::kIgnored);
  EXPECT_EQ(takeover.on_init_takeover(*b, wire::InitTakeover{kPeerB, kSelf, 0}), Reply::kIgnored);
  EXPECT_EQ(sent_to<wire::InitTakeoverAck>(*b).size(), 1u);
}

TEST_F(TakeoverCoordinatorTest, TakeoverServerMovesThePesToTheWinner_ENRP_TKO_06) {
  dead_peer_with_pes();
  ASSERT_FALSE(takeover.start(*dead).has_value());
  const auto drop = takeover.on_takeover_server(*b, wire::TakeoverServer{kPeerB, kSelf, kDead});
  ASSERT_TRUE(drop.has_value());  // the target is dead: its entry goes
  EXPECT_EQ(*drop, kDead);
  EXPECT_EQ(hs->pe_count_of_owner(kPeerB), 3u);
  EXPECT_EQ(hs->pe_count_of_owner(kDead), 0u);
  EXPECT_FALSE(takeover.running(kDead));
  EXPECT_EQ(takeover.counters().takeovers_lost, 1u);
  EXPECT_EQ(takeover.counters().takeovers_completed, 1u);
  EXPECT_TRUE(monitor.calls.empty());

  // A target that is alive again keeps its entry; a Takeover Server of us changes nothing.
  PeerEntry& back = add_peer(0x7000);
  add_pe(handle("pool"), 9, 0x7000);
  EXPECT_FALSE(takeover.on_takeover_server(*b, wire::TakeoverServer{kPeerB, kSelf, 0x7000}).has_value());
  EXPECT_EQ(back.state, PeerState::kAlive);
  add_own_pe(handle("own"), 10);
  EXPECT_FALSE(takeover.on_takeover_server(*b, wire::TakeoverServer{kPeerB, kSelf, kSelf}).has_value());
  EXPECT_EQ(hs->pe_count_of_owner(kSelf), 1u);
}

TEST_F(TakeoverCoordinatorTest, CancelWhenTheTargetIsHeardAgain_ENRP_TKO_07) {
  dead_peer_with_pes();
  ASSERT_FALSE(takeover.start(*dead).has_value());
  takeover.cancel(kDead);
  takeover.cancel(kDead);  // once only
  EXPECT_FALSE(takeover.running(kDead));
  EXPECT_EQ(takeover.counters().takeovers_cancelled, 1u);
  EXPECT_TRUE(takeover.run_timers(clock.now() + config.takeover_expiry).empty());
  EXPECT_EQ(hs->pe_count_of_owner(kDead), 3u);
}

}  // namespace
}  // namespace poolreg::enrp::testing
