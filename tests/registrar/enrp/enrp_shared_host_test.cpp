// EnrpServer with several registrars on one address (one host, NAT): a static peer is its ENRP
// endpoint, address AND port (PeerTable::find_static_by_endpoint). A restarted registrar
// (same or new ID) must be recognised as the peer at its own endpoint and never taken for
// another registrar on the same address; over TCP, where the source port is ephemeral, the
// port announced in the Presence's Server Information identifies it.
#include <gtest/gtest.h>

#include "tests/registrar/enrp/enrp_sim_cluster.hpp"

namespace poolreg::enrp::testing {
namespace {

class EnrpSharedHost : public EnrpCluster {
 protected:
  // A, B and C on one address with ports 9901, 9902, 9903.
  void make_shared(std::optional<EnrpConfig> config = std::nullopt) {
    a = &net.add_node(kA, config);
    b = &net.add_node(kB, config, a->index);
    c = &net.add_node(kC, config, a->index);
    net.mesh_static_peers();
  }
  // Every node knows both others alive, by their own ID at their own endpoint, in sync.
  void expect_converged() {
    for (SimNode* n : {a, b, c}) {
      auto peers = n->srv().peers();
      ASSERT_EQ(peers.size(), 2u) << n->id;
      for (SimNode* m : {a, b, c}) {
        if (m == n) continue;
        const PeerSnapshot* p = peer_by_id(peers, m->id);
        ASSERT_NE(p, nullptr) << n->id << " does not know " << m->id;
        EXPECT_EQ(p->state, PeerState::kAlive) << n->id << " about " << m->id;
        EXPECT_EQ(p->endpoint.port, m->port) << n->id << " about " << m->id;
        EXPECT_TRUE(p->in_sync) << n->id << " about " << m->id;
      }
    }
  }
  static constexpr TimeNs dead_after(const EnrpConfig& c = EnrpConfig::fast()) {
    return c.max_time_last_heard + c.max_time_no_response + 1;
  }
  const PoolHandle h = handle("SharedHostPool");
};

TEST_F(EnrpSharedHost, PeersOnOneAddressStayDistinct_ENRP_PEER_03) {
  make_shared();
  ASSERT_EQ(a->address, c->address);
  start_and_settle();
  net.advance(cycle());
  expect_converged();
  register_owned(*a, h, make_pe(1, kA));
  register_owned(*b, h, make_pe(2, kB));
  net.pump();
  for (SimNode* n : {a, b, c}) EXPECT_EQ(count_all(*n->hs), 2u) << n->id;
  net.advance(2 * cycle());
  expect_converged();
  for (SimNode* n : {a, b, c}) EXPECT_EQ(n->srv().counters().rejected_unknown_peer, 0u) << n->id;
}

// Crash and restart with the same ID before anybody noticed: the restarted C talks over new
// associations from the shared address; A and B must map them to C (its port), resync it and
// agree on the checksums.
TEST_F(EnrpSharedHost, RestartWithSameIdRejoinsAndSyncs_ENRP_SYNC_01) {
  make_shared();
  start_and_settle();
  for (PoolElementId id : {11u, 12u}) register_owned(*a, h, make_pe(id, kA));
  register_owned(*b, h, make_pe(21, kB));
  net.pump();
  ASSERT_EQ(count_all(*c->hs), 3u);
  net.build(*c);  // fresh state, same ID, same endpoint; old associations closed
  c->srv().start();
  net.advance(2 * kNsPerSec);
  EXPECT_TRUE(c->srv().startup_complete());
  EXPECT_EQ(count_all(*c->hs), 3u);
  for (RegistrarId owner : {kA, kB}) EXPECT_EQ(c->hs->checksum16(owner), a->hs->checksum16(owner)) << owner;
  net.advance(2 * cycle());
  expect_converged();
}

// C comes back under a new ID: its static entry takes the new ID, B's entry (same address) is
// untouched, and the PEs of C's previous incarnation are taken over.
TEST_F(EnrpSharedHost, RestartWithNewIdDoesNotTouchOtherPeerOnSameAddress_ENRP_TKO_01) {
  make_shared();
  start_and_settle();
  register_owned(*c, h, make_pe(31, kC));
  register_owned(*b, h, make_pe(21, kB));
  net.pump();
  constexpr RegistrarId kC2 = 0x3100;
  c->config.own_id = kC2;
  c->id = kC2;
  net.build(*c);
  c->srv().start();
  net.advance(dead_after() + EnrpConfig::fast().takeover_expiry + cycle());
  for (SimNode* n : {a, b}) {
    auto peers = n->srv().peers();
    const PeerSnapshot* other = peer_by_id(peers, n == a ? kB : kA);
    ASSERT_NE(other, nullptr) << n->id;
    EXPECT_EQ(other->state, PeerState::kAlive) << n->id;
    EXPECT_EQ(other->endpoint.port, (n == a ? b : a)->port) << n->id;
    const PeerSnapshot* fresh = peer_by_id(peers, kC2);
    ASSERT_NE(fresh, nullptr) << n->id;
    EXPECT_EQ(fresh->endpoint.port, c->port);
    EXPECT_EQ(fresh->state, PeerState::kAlive);
    EXPECT_EQ(n->hs->pe_count_of_owner(kC), 0u) << n->id;
  }
  EXPECT_EQ(a->srv().counters().takeovers_won + b->srv().counters().takeovers_won, 1u);
  for (SimNode* n : {a, b, c}) EXPECT_EQ(count_all(*n->hs), 2u) << n->id;
  net.advance(2 * cycle());
  expect_converged();
}

// ENRP over TCP: connections from a peer come from ephemeral ports; the Presence's Server
// Information port tells which static peer on the shared address it is.
TEST_F(EnrpSharedHost, TcpPeersOnOneAddressIdentifiedByAnnouncedPort_NG_TCP_01) {
  net.enrp_protocol = TransportProtocol::kTcp;
  make_shared(fast_ng_tcp_config());
  start_and_settle(2 * kNsPerSec);
  net.advance(cycle());
  expect_converged();
  EXPECT_EQ(net.link_count(), 3u);  // one connection per pair (nextgen.md 6.10)
  net.build(*b);
  b->srv().start();
  net.advance(2 * kNsPerSec);
  net.advance(2 * cycle());
  expect_converged();
}

// A stranger on the shared address (an unknown port) is not a static peer (SEC-04).
TEST_F(EnrpSharedHost, UnknownPortOnStaticPeerAddressIsAStranger_SEC_04) {
  a = &net.add_node(kA);
  b = &net.add_node(kB, std::nullopt, a->index);
  c = &net.add_node(kC, std::nullopt, a->index);
  net.set_static_peers(*a, {b->index});
  net.set_static_peers(*b, {a->index});
  net.set_static_peers(*c, {a->index});  // A does not list C
  start_and_settle();
  net.advance(cycle());
  auto peers = a->srv().peers();
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0].id, kB);
  EXPECT_EQ(peers[0].state, PeerState::kAlive);
  EXPECT_GT(a->srv().counters().rejected_unknown_peer, 0u);
  EXPECT_EQ(peer_by_id(c->srv().peers(), kA), nullptr);
}

}  // namespace
}  // namespace poolreg::enrp::testing
