// ENRP peer identity and the limits on what a peer may change (issue 17, finding 1): a message
// is from the peer its transport origin shows, never from whoever its sender ID names; a peer's
// Handle Update or Handle Table Response never takes over a PE this registrar owns over a live
// ASAP association; a Handle Table Response nobody asked for changes nothing.
#include <gtest/gtest.h>

#include <vector>

#include "tests/registrar/enrp/enrp_sim_cluster.hpp"

namespace poolreg::enrp::testing {
namespace {

class EnrpPeerIdentity : public EnrpCluster {
 protected:
  // A and B (static peers of each other) over `kind`, in next-gen mode; E is a stranger on its
  // own address that knows their IDs. A owns PE 55 (bound to an ASAP association), B owns 77.
  void make_pair(TransportProtocol kind) {
    kind_ = kind;
    net.enrp_protocol = kind;
    a = &net.add_node(kA, fast_ng_tcp_config());
    b = &net.add_node(kB, fast_ng_tcp_config());
    net.mesh_static_peers();
    e = &net.add_external(0x6666);
    start_and_settle(2 * kNsPerSec);
    net.advance(2 * cycle());
    register_owned(*a, pool_, make_pe(55, kA, 0x0b000055));
    register_owned(*b, pool_, make_pe(77, kB, 0x0b000077));
    net.pump();
    ASSERT_TRUE(find_pe(*a->hs, pool_, 77).has_value());
    ASSERT_TRUE(find_pe(*b->hs, pool_, 55).has_value());
  }

  // E opens an ENRP connection to A and speaks as B.
  void impersonate_b() { impersonate_b_over(net.connect(e->index, SimNetwork::endpoint_of(*a, kind_))); }

  void impersonate_b_over(ConnectionId cid) {
    net.pump();
    // Presence naming B's real endpoint, then an ADD re-pointing A's PE, then a DEL of B's PE.
    net.inject(e->index, cid, make_presence(kB, kA, false, 0xffff, SimNetwork::endpoint_of(*b, kind_)), true);
    wire::HandleUpdate add;
    add.sender = kB;
    add.receiver = kA;
    add.action = wire::UpdateAction::kAddPe;
    add.pool_handle = pool_;
    add.element = make_pe(55, kB, 0x0b0000ee);
    net.inject(e->index, cid, add, true);
    wire::HandleUpdate del;
    del.sender = kB;
    del.receiver = kA;
    del.action = wire::UpdateAction::kDeletePe;
    del.pool_handle = pool_;
    del.element = make_pe(77, kB, 0x0b000077);
    net.inject(e->index, cid, del, true);
    net.pump();
  }

  void expect_a_untouched() {
    auto own = find_pe(*a->hs, pool_, 55);
    ASSERT_TRUE(own.has_value());
    EXPECT_EQ(own->home_registrar, kA);
    EXPECT_EQ(own->user_transport.addresses.front(), IpAddress::v4(0x0b000055));
    auto theirs = find_pe(*a->hs, pool_, 77);
    ASSERT_TRUE(theirs.has_value()) << "a stranger speaking as B deleted B's PE";
    EXPECT_EQ(theirs->home_registrar, kB);
    EXPECT_EQ(a->srv().counters().rejected_identity_mismatch, 3u);
    EXPECT_EQ(a->srv().counters().updates_applied, 1u);  // B's own ADD of 77 only
  }

  // The real B still gets through afterwards.
  void expect_b_still_heard() {
    register_owned(*b, pool_, make_pe(78, kB, 0x0b000078));
    net.pump();
    EXPECT_TRUE(find_pe(*a->hs, pool_, 78).has_value());
    net.advance(2 * cycle());
    const std::vector<PeerSnapshot> peers = a->srv().peers();  // a copy: pb points into it
    const PeerSnapshot* pb = peer_by_id(peers, kB);
    ASSERT_NE(pb, nullptr);
    EXPECT_EQ(pb->state, PeerState::kAlive);
    EXPECT_TRUE(pb->in_sync);
  }

  TransportProtocol kind_ = TransportProtocol::kSctp;
  SimNode* e = nullptr;
  const PoolHandle pool_ = handle("Guarded");
};

TEST_F(EnrpPeerIdentity, StrangerClaimingPeerIdOverTcpIsDropped_SEC_04) {
  make_pair(TransportProtocol::kTcp);
  impersonate_b();
  expect_a_untouched();
  expect_b_still_heard();
}

TEST_F(EnrpPeerIdentity, StrangerClaimingPeerIdOverSctpIsDropped_SEC_04) {
  make_pair(TransportProtocol::kSctp);
  impersonate_b();
  expect_a_untouched();
  expect_b_still_heard();
}

// Over SCTP a peer's addresses beyond the one the association runs on are its INIT's claim: a
// stranger listing B's address there, sending from B's ENRP port, is still not B.
TEST_F(EnrpPeerIdentity, StrangerListingPeerAddressInInitIsDropped_SEC_04) {
  make_pair(TransportProtocol::kSctp);
  const TransportEndpoint b_endpoint = SimNetwork::endpoint_of(*b, kind_);
  impersonate_b_over(net.connect(e->index, SimNetwork::endpoint_of(*a, kind_), b_endpoint.addresses, b_endpoint.port));
  expect_a_untouched();
  expect_b_still_heard();
}

// The real peer cannot take a PE we own over a live association either (the ENRP twin of ASAP
// cause 0x4); the PE stays ours, bound to its association.
TEST_F(EnrpPeerIdentity, UpdateNeverTakesLiveOwnedPe_SEC_05) {
  make_pair(TransportProtocol::kSctp);
  register_owned(*b, pool_, make_pe(55, kB, 0x0b0000ee));  // B announces A's PE as its own
  net.pump();
  auto own = find_pe(*a->hs, pool_, 55);
  ASSERT_TRUE(own.has_value());
  EXPECT_EQ(own->home_registrar, kA);
  EXPECT_EQ(own->user_transport.addresses.front(), IpAddress::v4(0x0b000055));
  EXPECT_EQ(a->srv().counters().updates_refused_owned_live, 1u);
  bool bound = false;
  a->hs->lookup(pool_, 55, [&](const handlespace::PoolElementView& v) { bound = v.association() != 0; });
  EXPECT_TRUE(bound);
}

class EnrpTableResponseTrust : public ::testing::Test {
 protected:
  // Server A (0x1000) with external static peer X (0x5000); X answers A's start-up sync.
  void make() {
    a = &net.add_node(0x1000);
    x = &net.add_external(0x5000);
    net.set_static_peers(*a, {x->index});
    a->srv().start();
    net.pump();
    ASSERT_FALSE(x->connections_up.empty());
    cid = x->connections_up.front();
    net.inject(x->index, cid, make_presence(0x5000, 0x1000, false));
    net.pump();
    ASSERT_EQ(a->srv().counters().sync_requests_sent, 1u);
    net.inject(x->index, cid, response_with(make_pe(90, 0x5000)));
    net.pump();
    ASSERT_EQ(a->srv().counters().sync_completed, 1u);
    ASSERT_TRUE(find_pe(*a->hs, pool_, 90).has_value());
  }
  wire::HandleTableResponse response_with(const PoolElement& pe) const {
    wire::HandleTableResponse r;
    r.sender = 0x5000;
    r.receiver = 0x1000;
    r.pools.push_back(wire::HandleTableEntry{pool_, {pe}});
    return r;
  }
  SimNetwork net;
  SimNode* a = nullptr;
  SimNode* x = nullptr;
  ConnectionId cid = 0;
  const PoolHandle pool_ = handle("Synced");
};

TEST_F(EnrpTableResponseTrust, UnsolicitedResponseIsIgnored_ENRP_SYNC_01) {
  make();
  net.inject(x->index, cid, response_with(make_pe(91, 0x5000)));
  net.pump();
  EXPECT_FALSE(find_pe(*a->hs, pool_, 91).has_value()) << "no request was outstanding";
  EXPECT_EQ(a->srv().counters().sync_responses_unsolicited, 1u);
  EXPECT_EQ(a->srv().counters().sync_completed, 1u);
}

TEST_F(EnrpTableResponseTrust, SolicitedResponseNeverTakesLiveOwnedPe_SEC_05) {
  make();
  register_owned(*a, pool_, make_pe(55, 0x1000, 0x0b000055), /*announce=*/false);
  a->srv().force_audit();  // a request is outstanding now
  net.pump();
  net.inject(x->index, cid, response_with(make_pe(55, 0x5000, 0x0b0000ee)));
  net.pump();
  auto own = find_pe(*a->hs, pool_, 55);
  ASSERT_TRUE(own.has_value());
  EXPECT_EQ(own->home_registrar, 0x1000u);
  EXPECT_EQ(a->srv().counters().sync_pes_refused_owned_live, 1u);
  EXPECT_EQ(a->srv().counters().sync_completed, 2u);
}

}  // namespace
}  // namespace poolreg::enrp::testing
