// HandleTableSync on its own: responder pacing and cursor, the requester's request / continue /
// complete / abort cycle, purge at the end of an audit repair, timeouts, the audit comparison,
// and what happens to a peer's sync state when its entry is reset or merged
// (ENRP-SYNC-01..03, ENRP-AUD-01).
#include "registrar/enrp/handle_table_sync.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <set>

#include "registrar/enrp/peer_wire_options.hpp"
#include "tests/registrar/enrp/enrp_part_harness.hpp"

namespace poolreg::enrp::testing {
namespace {

using Outcome = HandleTableSync::ResponseOutcome;

constexpr RegistrarId kPeer = 0x2000;
constexpr RegistrarId kOther = 0x3000;

class HandleTableSyncTest : public EnrpPartTest {
 protected:
  HandleTableSync sync{config, *hs, peers, links, clock};

  // Our responses to `peer` so far.
  std::vector<wire::HandleTableResponse> responses_to(PeerEntry& peer) {
    return output.sent_as<wire::HandleTableResponse>(connection_of(peer));
  }
  std::vector<wire::HandleTableRequest> requests_to(PeerEntry& peer) {
    return output.sent_as<wire::HandleTableRequest>(connection_of(peer));
  }
  static std::size_t pe_count(const wire::HandleTableResponse& r) {
    std::size_t n = 0;
    for (const auto& pool : r.pools) n += pool.elements.size();
    return n;
  }
  wire::HandleTableResponse response_from_peer(std::vector<std::pair<PoolHandle, PoolElement>> pes,
                                               bool more) {
    wire::HandleTableResponse r;
    r.sender = kPeer;
    r.receiver = kSelf;
    r.more = more;
    for (auto& [h, pe] : pes) {
      if (r.pools.empty() || !(r.pools.back().pool_handle == h))
        r.pools.push_back(wire::HandleTableEntry{h, {}});
      r.pools.back().elements.push_back(pe);
    }
    return r;
  }
};

// ---- responder ----

TEST_F(HandleTableSyncTest, RespondsInBoundedChunksAndContinuesWhereItStopped_ENRP_SYNC_01_03) {
  config.max_elements_per_response = 7;
  for (PoolElementId id = 1; id <= 30; ++id) add_own_pe(handle(id % 2 ? "odd" : "even"), id);
  PeerEntry& p = add_peer(kPeer);
  const wire::HandleTableRequest req{kPeer, kSelf, false};

  std::set<PoolElementId> seen;
  for (int round = 0; round < 10; ++round) {
    sync.on_request(&p, connection_of(p), req);
    const auto resp = responses_to(p);
    ASSERT_EQ(resp.size(), static_cast<std::size_t>(round + 1));
    const auto& r = resp.back();
    EXPECT_FALSE(r.reject);
    EXPECT_GE(pe_count(r), 1u);
    EXPECT_LE(pe_count(r), 7u);
    for (const auto& pool : r.pools)
      for (const auto& pe : pool.elements) EXPECT_TRUE(seen.insert(pe.id).second) << "sent twice: " << pe.id;
    if (!r.more) break;
  }
  EXPECT_EQ(seen.size(), 30u);
  EXPECT_FALSE(responses_to(p).back().more);
  EXPECT_EQ(responses_to(p).size(), 5u);  // ceil(30 / 7)
  EXPECT_EQ(sync.counters().sync_requests_received, 5u);
  EXPECT_EQ(sync.counters().sync_responses_sent, 5u);
  EXPECT_EQ(sync.counters().sync_pes_sent, 30u);
}

TEST_F(HandleTableSyncTest, ResponseStaysWithinTheByteBoundButCarriesAtLeastOnePe_ENRP_SYNC_01) {
  config.max_response_bytes = 1;  // smaller than any PE: one PE per response anyway
  for (PoolElementId id = 1; id <= 3; ++id) add_own_pe(handle("pool"), id);
  PeerEntry& p = add_peer(kPeer);
  for (int i = 0; i < 3; ++i)
    sync.on_request(&p, connection_of(p), wire::HandleTableRequest{kPeer, kSelf, false});
  const auto resp = responses_to(p);
  ASSERT_EQ(resp.size(), 3u);
  for (const auto& r : resp) EXPECT_EQ(pe_count(r), 1u);
  EXPECT_TRUE(resp[0].more);
  EXPECT_FALSE(resp[2].more);

  // The encoded size of every response is within the configured bound (RSPLIB: 1400 bytes).
  config.max_response_bytes = 1400;
  for (PoolElementId id = 10; id < 200; ++id) add_own_pe(handle("big"), id);
  output.sent.clear();
  sync.on_request(&p, connection_of(p), wire::HandleTableRequest{kPeer, kSelf, false});
  ASSERT_EQ(output.sent.size(), 1u);
  EXPECT_LE(output.sent[0].bytes.size(), 1400u);
  EXPECT_GT(pe_count(responses_to(p).back()), 1u);
}

TEST_F(HandleTableSyncTest, OwnChildrenOnlyRequestGetsOnlyOurPes_ENRP_SYNC_01) {
  add_own_pe(handle("pool"), 1);
  add_own_pe(handle("pool"), 2);
  add_pe(handle("pool"), 3, kOther);
  PeerEntry& p = add_peer(kPeer);
  sync.on_request(&p, connection_of(p), wire::HandleTableRequest{kPeer, kSelf, true});
  const auto resp = responses_to(p);
  ASSERT_EQ(resp.size(), 1u);
  std::set<PoolElementId> ids;
  for (const auto& pool : resp[0].pools)
    for (const auto& pe : pool.elements) {
      ids.insert(pe.id);
      EXPECT_EQ(pe.home_registrar, kSelf);
    }
  EXPECT_EQ(ids, (std::set<PoolElementId>{1, 2}));
  EXPECT_FALSE(resp[0].more);
}

TEST_F(HandleTableSyncTest, ResponderCursorExpiresSoARestartedSyncBeginsAgain_ENRP_SYNC_03) {
  config.max_elements_per_response = 2;
  for (PoolElementId id = 1; id <= 6; ++id) add_own_pe(handle("pool"), id);
  PeerEntry& p = add_peer(kPeer);
  const wire::HandleTableRequest req{kPeer, kSelf, false};
  sync.on_request(&p, connection_of(p), req);
  const auto first = responses_to(p).back();
  ASSERT_TRUE(first.more);

  clock.advance(config.max_time_no_response / 2);  // the requester gave up meanwhile
  sync.on_request(&p, connection_of(p), req);
  const auto again = responses_to(p).back();
  ASSERT_EQ(pe_count(again), 2u);
  EXPECT_EQ(again.pools[0].elements[0].id, first.pools[0].elements[0].id);

  // A changed W flag restarts the walk too.
  sync.on_request(&p, connection_of(p), wire::HandleTableRequest{kPeer, kSelf, true});
  EXPECT_EQ(responses_to(p).back().pools[0].elements[0].id, first.pools[0].elements[0].id);
}

TEST_F(HandleTableSyncTest, StrangerGetsRejectOnItsConnection_ENRP_SYNC_02) {
  add_own_pe(handle("pool"), 1);
  sync.on_request(nullptr, 77, wire::HandleTableRequest{0x9999, kSelf, false});
  const auto resp = output.sent_as<wire::HandleTableResponse>(77);
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_TRUE(resp[0].reject);
  EXPECT_EQ(resp[0].receiver, 0x9999u);
  EXPECT_TRUE(resp[0].pools.empty());
  EXPECT_EQ(sync.counters().sync_rejects_sent, 1u);
  EXPECT_TRUE(output.connects.empty());
}

TEST_F(HandleTableSyncTest, TcpPeDescribedAsSctpToPeersWithoutTcp_NG_TCP) {
  PoolElement pe = make_pe(5, kSelf);
  pe.asap_transport->protocol = TransportProtocol::kTcp;
  handlespace::RegistrationOptions o;
  o.association = 42;
  ASSERT_TRUE(hs->register_pe(handle("pool"), pe, o).has_value());
  PeerEntry& p = add_peer(kPeer);
  sync.on_request(&p, connection_of(p), wire::HandleTableRequest{kPeer, kSelf, true});
  const auto resp = responses_to(p);
  ASSERT_EQ(resp.size(), 1u);
  ASSERT_TRUE(resp[0].pools[0].elements[0].asap_transport.has_value());
  EXPECT_EQ(resp[0].pools[0].elements[0].asap_transport->protocol, TransportProtocol::kSctp);
}

// ---- requester ----

TEST_F(HandleTableSyncTest, RequestsAgainOnMoreAndCompletesOnLast_ENRP_SYNC_03) {
  PeerEntry& p = add_peer(kPeer);
  sync.start(p, /*own_children_only=*/false, /*purge_at_end=*/false);
  EXPECT_TRUE(sync.running(p.key));
  auto reqs = requests_to(p);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_FALSE(reqs[0].own_children_only);
  EXPECT_EQ(reqs[0].receiver, kPeer);

  sync.start(p, true, true);  // already running: nothing new
  EXPECT_EQ(requests_to(p).size(), 1u);

  auto part1 = response_from_peer({{handle("pool"), make_pe(1, kPeer)}}, /*more=*/true);
  EXPECT_EQ(sync.on_response(p, part1, 100), Outcome::kContinued);
  EXPECT_EQ(requests_to(p).size(), 2u);
  auto part2 = response_from_peer({{handle("pool"), make_pe(2, kPeer)}}, /*more=*/false);
  EXPECT_EQ(sync.on_response(p, part2, 100), Outcome::kCompleted);
  EXPECT_FALSE(sync.running(p.key));
  EXPECT_EQ(requests_to(p).size(), 2u);

  EXPECT_TRUE(find_pe(*hs, handle("pool"), 1).has_value());
  EXPECT_TRUE(find_pe(*hs, handle("pool"), 2).has_value());
  EXPECT_EQ(sync.counters().sync_requests_sent, 2u);
  EXPECT_EQ(sync.counters().sync_responses_received, 2u);
  EXPECT_EQ(sync.counters().sync_pes_received, 2u);
  EXPECT_EQ(sync.counters().sync_bytes_received, 200u);
  EXPECT_EQ(sync.counters().sync_completed, 1u);
  EXPECT_EQ(sync.next_timer_due(), std::numeric_limits<TimeNs>::max());
}

TEST_F(HandleTableSyncTest, StoredPeersPesExpireAfterTheirRegistrationLife_ENRP_SYNC_01) {
  PeerEntry& p = add_peer(kPeer);
  PoolElement pe = make_pe(1, kPeer);
  pe.registration_life_ms = 4000;
  sync.start(p, false, false);
  auto resp = response_from_peer({{handle("pool"), pe}}, false);
  EXPECT_EQ(sync.on_response(p, resp, 0), Outcome::kCompleted);
  ASSERT_TRUE(hs->next_expiry().has_value());
  EXPECT_EQ(*hs->next_expiry(), clock.now() + 4000 * kNsPerMs);
}

TEST_F(HandleTableSyncTest, OurOwnPesInAResponseAreNotTouched_ENRP_SYNC_01) {
  add_own_pe(handle("pool"), 1);
  PeerEntry& p = add_peer(kPeer);
  sync.start(p, false, false);
  PoolElement stale = make_pe(1, kSelf, 0x0c000001);
  auto resp = response_from_peer({{handle("pool"), stale}, {handle("pool"), make_pe(2, kPeer)}}, false);
  EXPECT_EQ(sync.on_response(p, resp, 0), Outcome::kCompleted);
  const auto own = find_pe(*hs, handle("pool"), 1);
  ASSERT_TRUE(own.has_value());
  EXPECT_EQ(own->user_transport.addresses, make_pe(1, kSelf, 0x0b000001).user_transport.addresses);
  EXPECT_EQ(sync.counters().sync_pes_received, 1u);
}

TEST_F(HandleTableSyncTest, AuditRepairPurgesWhatThePeerNoLongerHas_ENRP_AUD_01) {
  add_pe(handle("pool"), 1, kPeer);
  add_pe(handle("pool"), 2, kPeer);  // stale: the peer does not have it any more
  add_pe(handle("pool"), 3, kOther);
  PeerEntry& p = add_peer(kPeer);
  sync.start(p, /*own_children_only=*/true, /*purge_at_end=*/true);
  EXPECT_TRUE(requests_to(p).at(0).own_children_only);
  auto resp = response_from_peer({{handle("pool"), make_pe(1, kPeer)}}, false);
  EXPECT_EQ(sync.on_response(p, resp, 0), Outcome::kCompleted);
  EXPECT_TRUE(find_pe(*hs, handle("pool"), 1).has_value());
  EXPECT_FALSE(find_pe(*hs, handle("pool"), 2).has_value());
  EXPECT_TRUE(find_pe(*hs, handle("pool"), 3).has_value());  // another owner: untouched
  EXPECT_EQ(sync.counters().sync_pes_purged, 1u);
}

TEST_F(HandleTableSyncTest, RejectAbortsWithoutPurge_ENRP_SYNC_02) {
  add_pe(handle("pool"), 1, kPeer);
  PeerEntry& p = add_peer(kPeer);
  sync.start(p, true, true);
  wire::HandleTableResponse reject;
  reject.sender = kPeer;
  reject.receiver = kSelf;
  reject.reject = true;
  EXPECT_EQ(sync.on_response(p, reject, 0), Outcome::kRejected);
  EXPECT_FALSE(sync.running(p.key));
  EXPECT_TRUE(find_pe(*hs, handle("pool"), 1).has_value());
  EXPECT_EQ(sync.counters().sync_completed, 0u);
  EXPECT_EQ(sync.counters().sync_pes_purged, 0u);
}

TEST_F(HandleTableSyncTest, RequesterGivesUpAfterMaxTimeNoResponseWithoutPurge_ENRP_SYNC_03) {
  add_pe(handle("pool"), 1, kPeer);
  PeerEntry& p = add_peer(kPeer);
  sync.start(p, true, true);
  const TimeNs deadline = clock.now() + config.max_time_no_response;
  EXPECT_EQ(sync.next_timer_due(), deadline);

  sync.run_timers(deadline - 1);
  EXPECT_TRUE(sync.running(p.key));
  sync.run_timers(deadline);
  EXPECT_FALSE(sync.running(p.key));
  EXPECT_EQ(sync.counters().sync_timeouts, 1u);
  EXPECT_TRUE(find_pe(*hs, handle("pool"), 1).has_value());

  // A late response is not applied (no request outstanding any more) and finishes nothing.
  auto late = response_from_peer({{handle("pool"), make_pe(4, kPeer)}}, false);
  EXPECT_EQ(sync.on_response(p, late, 0), Outcome::kNotRunning);
  EXPECT_FALSE(find_pe(*hs, handle("pool"), 4).has_value());
  EXPECT_EQ(sync.counters().sync_responses_unsolicited, 1u);
  EXPECT_EQ(sync.counters().sync_completed, 0u);
}

TEST_F(HandleTableSyncTest, NoSyncWithAPeerWhoseIdIsUnknown_ENRP_SYNC_01) {
  PeerEntry& p = add_peer(0, PeerState::kUnknown);
  sync.start(p, false, false);
  EXPECT_FALSE(sync.running(p.key));
  EXPECT_TRUE(output.sent.empty());
}

// ---- audit ----

TEST_F(HandleTableSyncTest, AuditComparesTheAnnouncedChecksumWithOurView_ENRP_AUD_01) {
  add_pe(handle("pool"), 1, kPeer);
  PeerEntry& p = add_peer(kPeer);
  wire::Presence presence = make_presence(kPeer, kSelf, false, announced_checksum16(hs->checksum16(kPeer)));
  sync.audit(p, presence);
  EXPECT_EQ(sync.counters().audits, 1u);
  EXPECT_EQ(sync.counters().audit_mismatches, 0u);
  EXPECT_FALSE(sync.running(p.key));

  presence.checksum = static_cast<std::uint16_t>(*presence.checksum ^ 0x0101);
  sync.audit(p, presence);
  EXPECT_EQ(sync.counters().audits, 2u);
  EXPECT_EQ(sync.counters().audit_mismatches, 1u);
  ASSERT_TRUE(sync.running(p.key));
  EXPECT_TRUE(requests_to(p).at(0).own_children_only);  // repair asks for the peer's own PEs

  sync.audit(p, presence);  // while the repair runs: no second comparison
  EXPECT_EQ(sync.counters().audits, 2u);

  presence.checksum.reset();  // no checksum announced: nothing to compare
  sync.abort(p.key);
  sync.audit(p, presence);
  EXPECT_EQ(sync.counters().audits, 2u);
}

TEST_F(HandleTableSyncTest, Checksum32DecidesTowardCk32Peers_NG_CK32) {
  config.next_gen = true;
  add_pe(handle("pool"), 1, kPeer);
  PeerEntry& p = add_peer(kPeer);
  p.ng_capabilities = wire::kNgCapId64 | wire::kNgCapCk32;
  wire::Presence presence = make_presence(kPeer, kSelf, false, 0x1234);  // wrong 16-bit value
  presence.checksum32 = hs->checksum32(kPeer);
  sync.audit(p, presence);
  EXPECT_EQ(sync.counters().audit_mismatches, 0u);
  presence.checksum32 = *presence.checksum32 + 1;
  sync.audit(p, presence);
  EXPECT_EQ(sync.counters().audit_mismatches, 1u);
}

TEST_F(HandleTableSyncTest, ForcedAuditAsksEveryLivePeerNotAlreadySyncing) {
  PeerEntry& alive = add_peer(kPeer);
  PeerEntry& syncing = add_peer(kOther);
  PeerEntry& dead = add_peer(0x4000, PeerState::kDead);
  PeerEntry& unknown = add_peer(0, PeerState::kUnknown);
  sync.start(syncing, false, false);
  sync.force_audit();
  EXPECT_EQ(sync.counters().audits, 1u);
  EXPECT_TRUE(sync.running(alive.key));
  EXPECT_EQ(requests_to(alive).size(), 1u);
  EXPECT_EQ(requests_to(syncing).size(), 1u);
  EXPECT_FALSE(sync.running(dead.key));
  EXPECT_FALSE(sync.running(unknown.key));
}

// ---- peer table changes ----

TEST_F(HandleTableSyncTest, ForgetAndTransferFollowThePeerEntry) {
  PeerEntry& dynamic = add_peer(kPeer);
  PeerEntry& fresh_static = add_peer(0, PeerState::kUnknown);
  sync.start(dynamic, false, false);
  ASSERT_TRUE(sync.running(dynamic.key));

  // The dynamic entry is merged into the static one: the running sync goes with it.
  sync.transfer(dynamic.key, fresh_static.key);
  EXPECT_FALSE(sync.running(dynamic.key));
  EXPECT_TRUE(sync.running(fresh_static.key));
  EXPECT_EQ(sync.next_timer_due(), clock.now() + config.max_time_no_response);

  // The entry is reset (restarted peer): nothing of it remains, no timer either.
  sync.forget(fresh_static.key);
  EXPECT_FALSE(sync.running(fresh_static.key));
  EXPECT_EQ(sync.next_timer_due(), std::numeric_limits<TimeNs>::max());
}

}  // namespace
}  // namespace poolreg::enrp::testing
