// EnrpServer peer management: Presence, discovery, liveness, own-ID filter, SEC-04, lists,
// multicast (ENRP-PEER-01..06, ENRP-LIST-01, SEC-04).
#include <gtest/gtest.h>

#include "tests/registrar/enrp/enrp_sim_cluster.hpp"

namespace poolreg::enrp::testing {
namespace {

using wire::EnrpType;

TEST_F(EnrpCluster, PresenceExchangeDiscoversStaticPeers_ENRP_PEER_01_03_06) {
  make3();
  net.start_all();
  net.pump();
  // ENRP-PEER-06: the first Presence to a static peer carries receiver ID 0.
  auto first = net.sent_between(a->index, b->index, EnrpType::kPresence);
  ASSERT_FALSE(first.empty());
  const auto& p = std::get<wire::Presence>(first.front());
  EXPECT_EQ(p.sender, kA);
  EXPECT_EQ(p.receiver, 0u);
  EXPECT_TRUE(p.reply_required);
  ASSERT_TRUE(p.checksum.has_value());
  EXPECT_EQ(*p.checksum, 0xffff);  // empty set
  ASSERT_TRUE(p.server_info.has_value());
  EXPECT_EQ(p.server_info->registrar_id, kA);
  EXPECT_EQ(p.server_info->transport, SimNetwork::endpoint_of(*a));
  EXPECT_FALSE(p.ng_capabilities.has_value());  // RFC mode: no extension TLVs

  net.advance(1 * kNsPerSec);
  for (SimNode* n : {a, b, c}) {
    auto peers = n->srv().peers();
    ASSERT_EQ(peers.size(), 2u) << n->id;
    for (const auto& q : peers) {
      EXPECT_EQ(q.state, PeerState::kAlive);
      EXPECT_NE(q.id, 0u);
      EXPECT_NE(q.id, n->id);
      EXPECT_TRUE(q.in_sync);
    }
    EXPECT_EQ(n->srv().counters().peers_alive, 2u);
  }
  // Once the ID is known every Presence names the receiver.
  const TimeNs since = net.clock.now();
  net.advance(cycle());
  auto later = net.sent_between(a->index, b->index, EnrpType::kPresence, since);
  ASSERT_FALSE(later.empty());
  for (const auto& m : later) EXPECT_EQ(std::get<wire::Presence>(m).receiver, kB);
}

TEST_F(EnrpCluster, HeartbeatEveryCycleWithJitter_ENRP_PEER_01) {
  make3();
  start_and_settle();
  const TimeNs since = net.clock.now();
  net.advance(60 * kNsPerSec);
  std::vector<TimeNs> times;
  for (const SentRecord* r : net.raw_sent(a->index, b->index, EnrpType::kPresence))
    if (r->at >= since && (r->bytes[1] & 0x01) == 0) times.push_back(r->at);
  ASSERT_GE(times.size(), 20u);
  const TimeNs interval = EnrpConfig::fast().heartbeat_interval;
  TimeNs lo = UINT64_MAX, hi = 0;
  for (std::size_t i = 1; i < times.size(); ++i) {
    const TimeNs d = times[i] - times[i - 1];
    EXPECT_GE(d, interval - interval / 8);
    EXPECT_LE(d, interval + interval / 8);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_LT(lo, hi) << "no jitter";
  for (SimNode* n : {a, b, c}) EXPECT_EQ(n->srv().counters().peers_alive, 2u);
}

class EnrpSingle : public ::testing::Test {
 protected:
  // Server A (0x1000) with external peer X (0x5000) as its only static peer.
  void make(EnrpConfig config = EnrpConfig::fast(), bool x_static = true) {
    a = &net.add_node(0x1000, config);
    x = &net.add_external(0x5000);
    if (x_static) net.set_static_peers(*a, {x->index});
  }
  // The connection A opened to X (X's side), after start.
  ConnectionId a_to_x() {
    EXPECT_FALSE(x->connections_up.empty());
    return x->connections_up.empty() ? 0 : x->connections_up.front();
  }
  std::vector<wire::EnrpMessage> inbox_of_type(EnrpType t) {
    std::vector<wire::EnrpMessage> out;
    for (auto& [cid, bytes] : x->inbox) {
      auto m = decode_msg(bytes);
      if (m && wire::enrp_type_of(*m) == t) out.push_back(std::move(*m));
    }
    return out;
  }
  SimNetwork net;
  SimNode* a = nullptr;
  SimNode* x = nullptr;
};

TEST_F(EnrpSingle, PresenceWithReplyRequiredIsAnswered_ENRP_PEER_02) {
  make();
  a->srv().start();
  net.pump();
  const ConnectionId cid = a_to_x();
  net.inject(x->index, cid, make_presence(0x5000, 0x1000, true));
  net.pump();
  x->inbox.clear();
  net.inject(x->index, cid, make_presence(0x5000, 0x1000, true));
  net.pump();
  auto got = inbox_of_type(EnrpType::kPresence);
  ASSERT_EQ(got.size(), 1u);
  const auto& p = std::get<wire::Presence>(got[0]);
  EXPECT_FALSE(p.reply_required);
  EXPECT_EQ(p.receiver, 0x5000u);
  EXPECT_EQ(p.sender, 0x1000u);
}

TEST_F(EnrpSingle, SilentPeerIsProbedThenDead_ENRP_PEER_04) {
  make();
  a->srv().start();
  net.pump();
  const ConnectionId cid = a_to_x();
  net.inject(x->index, cid, make_presence(0x5000, 0x1000, false));
  net.pump();
  ASSERT_EQ(a->srv().peers()[0].state, PeerState::kAlive);
  const EnrpConfig cfg = EnrpConfig::fast();
  x->inbox.clear();
  net.advance(cfg.max_time_last_heard + 1);
  EXPECT_EQ(a->srv().peers()[0].state, PeerState::kProbing);
  bool probe = false;
  for (const auto& m : inbox_of_type(EnrpType::kPresence)) probe |= std::get<wire::Presence>(m).reply_required;
  EXPECT_TRUE(probe) << "MAX-TIME-LAST-HEARD must send Presence R=1";
  net.advance(cfg.max_time_no_response + 1);
  auto peers = a->srv().peers();
  ASSERT_EQ(peers.size(), 1u);  // static peers stay, dead
  EXPECT_EQ(peers[0].state, PeerState::kDead);
  EXPECT_EQ(a->srv().counters().takeovers_started, 0u);  // it owned nothing
  // An answer brings it back.
  net.inject(x->index, cid, make_presence(0x5000, 0x1000, false));
  net.pump();
  EXPECT_EQ(a->srv().peers()[0].state, PeerState::kAlive);
  EXPECT_EQ(a->srv().peers()[0].id, 0x5000u);
}

TEST_F(EnrpSingle, MessagesWithOwnIdAreIgnored_ENRP_PEER_05) {
  make();
  a->srv().start();
  net.pump();
  const ConnectionId cid = a_to_x();
  x->inbox.clear();
  net.inject(x->index, cid, make_presence(0x1000, 0, true));
  net.pump();
  EXPECT_EQ(a->srv().counters().own_id_ignored, 1u);
  EXPECT_EQ(a->srv().peers()[0].id, 0u);
  EXPECT_TRUE(x->inbox.empty());
}

TEST_F(EnrpSingle, UnknownPeerRejectedUnlessDynamicPeersAllowed_SEC_04) {
  make(EnrpConfig::fast(), /*x_static=*/false);
  a->srv().start();
  net.pump();
  const ConnectionId cid = net.connect_external(x->index, a->index);
  net.inject(x->index, cid, make_presence(0x5000, 0, true));
  wire::HandleUpdate u;
  u.sender = 0x5000;
  u.pool_handle = handle("Rogue");
  u.element = make_pe(77, 0x5000);
  net.inject(x->index, cid, u);
  net.pump();
  EXPECT_EQ(a->srv().counters().rejected_unknown_peer, 2u);
  EXPECT_TRUE(a->srv().peers().empty());
  EXPECT_TRUE(x->inbox.empty());
  EXPECT_EQ(count_all(*a->hs), 0u);

  // RSPLIB behaviour when allowed: a Presence introduces the peer.
  SimNetwork net2;
  EnrpConfig cfg = EnrpConfig::fast();
  cfg.allow_dynamic_peers = true;
  SimNode& a2 = net2.add_node(0x1000, cfg);
  SimNode& x2 = net2.add_external(0x5000);
  a2.srv().start();
  const ConnectionId cid2 = net2.connect_external(x2.index, a2.index);
  net2.inject(x2.index, cid2, make_presence(0x5000, 0, true));
  net2.pump();
  ASSERT_EQ(a2.srv().peers().size(), 1u);
  EXPECT_EQ(a2.srv().peers()[0].id, 0x5000u);
  ASSERT_FALSE(x2.inbox.empty());
  auto reply = decode_msg(x2.inbox.front().second);
  ASSERT_TRUE(reply && std::holds_alternative<wire::Presence>(*reply));
  EXPECT_TRUE(std::get<wire::Presence>(*reply).reply_required);  // ENRP-PEER-03
}

TEST_F(EnrpCluster, ListResponseIntroducesPeers_ENRP_LIST_01_ENRP_PEER_03) {
  a = &net.add_node(kA);
  b = &net.add_node(kB);
  c = &net.add_node(kC);
  net.set_static_peers(*a, {1, 2});
  net.set_static_peers(*b, {0});
  net.set_static_peers(*c, {0});
  start_and_settle(3 * kNsPerSec);
  // A answered B's List Request with C's Server Information.
  auto lists = net.sent_between(a->index, b->index, EnrpType::kListResponse);
  ASSERT_FALSE(lists.empty());
  bool lists_c = false;
  for (const auto& m : lists)
    for (const auto& si : std::get<wire::ListResponse>(m).servers)
      if (si.registrar_id == kC) {
        lists_c = true;
        EXPECT_EQ(si.transport, SimNetwork::endpoint_of(*c));
      }
  EXPECT_TRUE(lists_c);
  net.advance(3 * cycle());
  auto bp = b->srv().peers();
  ASSERT_NE(peer_by_id(bp, kC), nullptr);
  EXPECT_EQ(peer_by_id(bp, kC)->state, PeerState::kAlive);
  auto cp = c->srv().peers();
  ASSERT_NE(peer_by_id(cp, kB), nullptr);
  EXPECT_EQ(peer_by_id(cp, kB)->state, PeerState::kAlive);
  EXPECT_FALSE(net.sent_between(b->index, c->index, EnrpType::kPresence).empty());
}

TEST_F(EnrpSingle, MulticastPresenceEveryCycle_ENRP_PEER_01) {
  EnrpConfig cfg = EnrpConfig::fast();
  cfg.multicast = true;
  cfg.allow_dynamic_peers = true;
  make(cfg);
  a->srv().start();
  net.advance(10 * kNsPerSec);
  ASSERT_GE(a->multicast.sent.size(), 4u);
  auto m = decode_msg(a->multicast.sent.back());
  ASSERT_TRUE(m && std::holds_alternative<wire::Presence>(*m));
  EXPECT_EQ(std::get<wire::Presence>(*m).receiver, 0u);
  EXPECT_FALSE(std::get<wire::Presence>(*m).reply_required);

  // A multicast Presence from a new PR adds it (address from the UDP source, port from the
  // Server Information) and gets a unicast Presence R=1; no audit, no reply-required answer.
  SimNode& y = net.add_external(0x6000);
  TransportEndpoint wildcard;
  wildcard.port = kEnrpPort;
  wildcard.addresses = {IpAddress::v4(0u)};
  auto bytes = encode_msg(make_presence(0x6000, 0, true, 0x1234, wildcard));
  a->srv().on_multicast_message(y.address, kEnrpPort, bytes);
  net.pump();
  auto peers = a->srv().peers();
  const PeerSnapshot* py = peer_by_id(peers, 0x6000);
  ASSERT_NE(py, nullptr);
  EXPECT_EQ(py->endpoint.addresses, std::vector<IpAddress>{y.address});
  EXPECT_EQ(a->srv().counters().multicast_presence_received, 1u);
  EXPECT_EQ(a->srv().counters().audits, 0u);
  ASSERT_EQ(y.inbox.size(), 1u);
  EXPECT_TRUE(std::get<wire::Presence>(*decode_msg(y.inbox[0].second)).reply_required);
}

}  // namespace
}  // namespace poolreg::enrp::testing
