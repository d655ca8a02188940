// AsapServer: endpoint keep-alive (ASAP-KA-*), association loss, unreachable reports (ASAP-EU-01)
// and takeover monitoring (monitor_as_new_home, ENRP-TKO-05, NG-TCP-02).
#include <gtest/gtest.h>

#include "tests/registrar/asap/asap_test_support.hpp"

namespace poolreg::asap::testing {
namespace {

using wire::AsapType;

class AsapKeepAliveTest : public AsapServerTest {
 protected:
  TimeNs t0() const { return clock_.now(); }
  void advance_and_run(TimeNs delta) {
    clock_.advance(delta);
    server().run_timers(clock_.now());
  }
  std::size_t keepalives() const { return out_.count_type(AsapType::kEndpointKeepAlive); }
  // A PU association from one address (reports count once per reporting address).
  void connect_pu(ConnectionId c, IpAddress address) { server().on_connection_up(c, sctp_peer({address}, 40000)); }
  const IpAddress kPuAddr1 = IpAddress::v4(0xc0a80001);
  const IpAddress kPuAddr2 = IpAddress::v4(0xc0a80002);
  const IpAddress kPuAddr3 = IpAddress::v4(0xc0a80003);
};

TEST_F(AsapKeepAliveTest, KeepAliveSentAfterIdleInterval_ASAP_KA_01) {
  connect_pe(1);
  register_ok(1, "K", make_pe(1));
  ASSERT_TRUE(server().next_timer_due().has_value());
  EXPECT_LE(*server().next_timer_due(), t0() + config_.keepalive_interval + config_.timer_tick);
  advance_and_run(config_.keepalive_interval - kNsPerMs);
  EXPECT_EQ(keepalives(), 0u);
  advance_and_run(kNsPerMs);
  ASSERT_EQ(keepalives(), 1u);
  EXPECT_EQ(out_.sent.back().connection, 1u);
  auto ka = out_.last_as<wire::EndpointKeepAlive>();
  EXPECT_FALSE(ka.home);
  EXPECT_EQ(ka.registrar_id, kOwnId);
  EXPECT_EQ(ka.pool_handle, handle("K"));
  ASSERT_TRUE(ka.pe_id.has_value());
  EXPECT_EQ(*ka.pe_id, 1u);
  EXPECT_EQ(out_.sent.back().bytes[1], 0);  // H=0
  EXPECT_EQ(server().counters().keepalives_sent, 1u);
}

TEST_F(AsapKeepAliveTest, AckRearmsTheCycle_ASAP_KA_03) {
  connect_pe(1);
  register_ok(1, "K", make_pe(1));
  advance_and_run(config_.keepalive_interval);
  ASSERT_EQ(keepalives(), 1u);
  clock_.advance(kNsPerSec);
  deliver(1, keepalive_ack("K", 1));
  advance_and_run(config_.keepalive_timeout - kNsPerSec);  // the old timeout instant
  EXPECT_EQ(pe_count(), 1u);
  EXPECT_EQ(keepalives(), 1u);  // ack + 4 s: not yet
  advance_and_run(kNsPerSec);   // ack + interval
  EXPECT_EQ(keepalives(), 2u);
  EXPECT_EQ(server().counters().keepalive_acks, 1u);
  EXPECT_TRUE(enrp_.removed.empty());
}

TEST_F(AsapKeepAliveTest, MissingAckRemovesPeSendsDelAndAborts_ASAP_KA_02) {
  connect_pe(1);
  register_ok(1, "K", make_pe(1));
  advance_and_run(config_.keepalive_interval);
  advance_and_run(config_.keepalive_timeout - kNsPerMs);
  EXPECT_EQ(pe_count(), 1u);
  advance_and_run(kNsPerMs);
  EXPECT_EQ(pe_count(), 0u);
  ASSERT_EQ(enrp_.removed.size(), 1u);
  EXPECT_EQ(enrp_.removed[0].second.id, 1u);
  EXPECT_EQ(out_.aborted, std::vector<ConnectionId>{1});
  EXPECT_EQ(server().counters().keepalive_timeouts, 1u);
  EXPECT_EQ(server().counters().removed_by_keepalive_timeout, 1u);
  EXPECT_EQ(server().monitored_pes(), 0u);
  EXPECT_FALSE(server().next_timer_due().has_value());
}

TEST_F(AsapKeepAliveTest, TimeoutSparesAssociationWithLivePes_ASAP_KA_02) {
  connect_pe(1);
  register_ok(1, "K", make_pe(1));
  register_ok(1, "K", make_pe(2));
  advance_and_run(config_.keepalive_interval);
  ASSERT_EQ(keepalives(), 2u);
  deliver(1, keepalive_ack("K", 2));
  advance_and_run(config_.keepalive_timeout);
  EXPECT_FALSE(lookup("K", 1));
  EXPECT_TRUE(lookup("K", 2));
  EXPECT_TRUE(out_.aborted.empty());
  EXPECT_EQ(enrp_.removed.size(), 1u);
}

TEST_F(AsapKeepAliveTest, AckForUnknownPeOrWrongAssociationIgnored_ASAP_KA_03) {
  connect_pe(1);
  connect_pe(2);
  register_ok(1, "K", make_pe(1));
  out_.clear();
  deliver(1, keepalive_ack("K", 99));
  deliver(2, keepalive_ack("K", 1));
  EXPECT_TRUE(out_.sent.empty());  // no answer to an Ack
  EXPECT_EQ(server().counters().keepalive_acks_unknown, 1u);
  EXPECT_EQ(server().counters().keepalive_acks_wrong_association, 1u);
  advance_and_run(config_.keepalive_interval);
  advance_and_run(config_.keepalive_timeout);
  EXPECT_EQ(pe_count(), 0u);  // the foreign Ack did not keep it alive
}

TEST_F(AsapKeepAliveTest, ReRegistrationRestartsTransmissionTimer_ASAP_KA_01) {
  connect_pe(1);
  register_ok(1, "K", make_pe(1));
  advance_and_run(3 * kNsPerSec);
  register_ok(1, "K", make_pe(1));
  advance_and_run(3 * kNsPerSec);
  EXPECT_EQ(keepalives(), 0u);
  advance_and_run(2 * kNsPerSec);
  EXPECT_EQ(keepalives(), 1u);
}

TEST_F(AsapKeepAliveTest, ConnectionLossRemovesItsPes_ASAP_KA_04) {
  connect_pe(1);
  connect_pe(2);
  register_ok(1, "A", make_pe(1));
  register_ok(1, "B", make_pe(2));
  register_ok(2, "A", make_pe(3));
  server().on_connection_closed(1);
  EXPECT_EQ(pe_count(), 1u);
  EXPECT_TRUE(lookup("A", 3));
  EXPECT_EQ(enrp_.removed.size(), 2u);
  EXPECT_EQ(server().counters().removed_by_association_loss, 2u);
  EXPECT_EQ(server().monitored_pes(), 1u);
  // Later timers only concern PE 3.
  advance_and_run(config_.keepalive_interval);
  EXPECT_EQ(keepalives(), 1u);
  EXPECT_EQ(out_.sent.back().connection, 2u);
}

// A large association loss is spread over passes of teardown_batch PEs (issue 16): resolutions
// are answered between the passes, every removed owned PE gets its ENRP DEL, a PE of the lost
// association may re-register over a new one meanwhile (no 0x4) and is then kept, and the
// teardown completes.
TEST_F(AsapKeepAliveTest, LargeConnectionLossIsSpreadOverPasses_ASAP_KA_04) {
  config_.teardown_batch = 100;
  connect_pe(1);
  connect_pe(2);
  constexpr PoolElementId kPes = 1'050;
  for (PoolElementId id = 1; id <= kPes; ++id) register_ok(1, id % 2 ? "A" : "B", make_pe(id));
  register_ok(2, "A", make_pe(5'000));
  server().on_connection_closed(1);
  EXPECT_EQ(pe_count(), kPes + 1 - 100);  // the first pass only
  EXPECT_EQ(enrp_.removed.size(), 100u);
  EXPECT_EQ(server().pending_teardowns(), 1u);
  ASSERT_TRUE(server().next_timer_due().has_value());
  EXPECT_LE(*server().next_timer_due(), clock_.now());  // the next pass is due at once
  EXPECT_EQ(resolve_ids("A", 3).size(), 3u);            // answered meanwhile
  // A PE of the lost association reconnects and re-registers before its removal: accepted.
  PoolElementId moved = 0;
  for (PoolElementId id = kPes; id >= 1 && moved == 0; --id)
    if (lookup(id % 2 ? "A" : "B", id)) moved = id;
  ASSERT_NE(moved, 0u);
  connect_pe(3);
  register_ok(3, moved % 2 ? "A" : "B", make_pe(moved));
  std::size_t passes = 0;
  while (server().pending_teardowns() > 0 && passes < 100) {
    server().run_timers(clock_.now());
    ++passes;
    EXPECT_LE(enrp_.removed.size(), 100 * (passes + 1));  // never more than a batch per pass
    EXPECT_FALSE(resolve_ids("B", 3).empty() && pe_count() > 2);
  }
  EXPECT_EQ(passes, 10u);  // 949 PEs left after the first pass and the move: 9 x 100 + 49
  EXPECT_EQ(server().counters().association_teardown_passes, 10u);
  EXPECT_EQ(pe_count(), 2u);
  EXPECT_TRUE(lookup(moved % 2 ? "A" : "B", moved));
  EXPECT_TRUE(lookup("A", 5'000));
  EXPECT_EQ(enrp_.removed.size(), kPes - 1);
  EXPECT_EQ(server().counters().removed_by_association_loss, kPes - 1);
  EXPECT_EQ(server().monitored_pes(), 2u);
  ASSERT_TRUE(server().next_timer_due().has_value());
  EXPECT_GT(*server().next_timer_due(), clock_.now());  // only keep-alive timers again
}

// Reports count once per reporting address (issue 17): three hosts reach MAX-BAD-PE-REPORT.
// The PE is ours over a live association, so it is probed first and removed when silent
// (asap_unreachable_probe_test.cpp has the live case).
TEST_F(AsapKeepAliveTest, UnreachableReportsRemoveAtThreshold_ASAP_EU_01) {
  connect_pe(1);
  register_ok(1, "E", make_pe(1));
  out_.clear();
  connect_pu(77, kPuAddr1);
  connect_pu(78, kPuAddr2);
  connect_pu(79, kPuAddr3);
  deliver(77, unreachable("E", 1));
  deliver(78, unreachable("E", 1));
  EXPECT_EQ(pe_count(), 1u);
  EXPECT_TRUE(out_.sent.empty());  // Endpoint Unreachable has no reply
  deliver(79, unreachable("E", 1));
  ASSERT_EQ(out_.sent.size(), 1u);  // the probe keep-alive to the PE, nothing to the reporters
  EXPECT_EQ(out_.sent.back().connection, 1u);
  advance_and_run(config_.keepalive_timeout + config_.timer_tick);
  EXPECT_EQ(pe_count(), 0u);
  ASSERT_EQ(enrp_.removed.size(), 1u);
  EXPECT_EQ(server().counters().removed_by_unreachable_reports, 1u);
  EXPECT_EQ(server().monitored_pes(), 0u);
  deliver(79, unreachable("E", 1));
  EXPECT_EQ(server().counters().unreachable_unknown_pe, 1u);
}

// Not ours: removed at the threshold without a probe or a DEL (as before issue 17).
TEST_F(AsapKeepAliveTest, UnreachableForeignPeRemovedWithoutDel_ASAP_EU_01) {
  PoolElement foreign = make_pe(5);
  foreign.home_registrar = kOtherPr;
  ASSERT_TRUE(hs_.register_pe(handle("E"), foreign).has_value());
  connect_pu(77, kPuAddr1);
  connect_pu(78, kPuAddr2);
  connect_pu(79, kPuAddr3);
  for (ConnectionId c : {77u, 78u, 77u}) deliver(c, unreachable("E", 5));
  EXPECT_EQ(pe_count(), 1u) << "one address counted twice";
  deliver(79, unreachable("E", 5));
  EXPECT_EQ(pe_count(), 0u);
  EXPECT_TRUE(enrp_.removed.empty());
  EXPECT_TRUE(out_.sent.empty());
}

TEST_F(AsapKeepAliveTest, UnreachableRateLimitDropsExcess_SEC_01) {
  config_.eu_rate_limit = RateLimit{1.0, 1.0};
  config_.max_bad_pe_reports = 2;
  PoolElement foreign = make_pe(1);
  foreign.home_registrar = kOtherPr;
  ASSERT_TRUE(hs_.register_pe(handle("E"), foreign).has_value());
  connect_pu(77, kPuAddr1);
  connect_pu(78, kPuAddr2);
  deliver(77, unreachable("E", 1));
  deliver(77, unreachable("E", 1));  // dropped: over the limit
  EXPECT_EQ(pe_count(), 1u);
  EXPECT_EQ(server().counters().unreachable_rate_limited, 1u);
  clock_.advance(kNsPerSec);
  deliver(78, unreachable("E", 1));
  EXPECT_EQ(pe_count(), 0u);
}

class AsapTakeoverTest : public AsapKeepAliveTest {
 protected:
  // A PE learned from a peer and now owned by us (as after ENRP change_owner).
  PoolElement taken_pe(PoolElementId id, TransportProtocol asap = TransportProtocol::kSctp,
                       RegistrarId home = kOwnId) {
    PoolElement pe = make_pe(id, {kPeAddr1});
    pe.home_registrar = home;
    TransportEndpoint t;
    t.protocol = asap;
    t.port = 50123;
    t.addresses = {kPeAddr1};
    pe.asap_transport = t;
    EXPECT_TRUE(hs_.register_pe(handle("T"), pe).has_value());
    return pe;
  }
};

TEST_F(AsapTakeoverTest, NewHomeSendsHomeKeepAliveAndBindsOnAck_ENRP_TKO_05) {
  const PoolElement pe = taken_pe(1);
  server().monitor_as_new_home(handle("T"), pe);
  ASSERT_EQ(out_.connects.size(), 1u);
  EXPECT_EQ(out_.connects[0].first, WireProtocol::kAsap);
  EXPECT_EQ(out_.connects[0].second, *pe.asap_transport);
  const ConnectionId c = 9000;
  ASSERT_EQ(keepalives(), 1u);
  EXPECT_EQ(out_.sent.back().connection, c);
  auto ka = out_.last_as<wire::EndpointKeepAlive>();
  EXPECT_TRUE(ka.home);
  EXPECT_EQ(ka.registrar_id, kOwnId);
  EXPECT_EQ(*ka.pe_id, 1u);
  EXPECT_EQ(server().counters().keepalives_home_sent, 1u);

  deliver(c, keepalive_ack("T", 1));
  EXPECT_EQ(server().counters().takeover_bound, 1u);
  // Bound: a re-registration from another association is refused, from c accepted.
  connect_pe(2);
  EXPECT_EQ(first_cause(register_rejected(2, "T", make_pe(1)).error), ErrorCause::kNonUniquePeIdentifier);
  register_ok(c, "T", make_pe(1));
  // Monitored over c from now on; losing c removes the PE (ASAP-KA-04).
  server().on_connection_closed(c);
  EXPECT_EQ(pe_count(), 0u);
  EXPECT_EQ(enrp_.removed.size(), 1u);
}

// Issue 14 item 6: the PE reconnected to us (new association from its ASAP endpoint) before
// re-registering; the takeover Keep-Alive must use that association, not a second connect.
TEST_F(AsapTakeoverTest, ExistingAssociationOfThePeCarriesTheHomeKeepAlive) {
  const PoolElement pe = taken_pe(1);
  connect_pe(5, {kPeAddr1}, pe.asap_transport->port);
  server().monitor_as_new_home(handle("T"), pe);
  EXPECT_TRUE(out_.connects.empty()) << "no second association to the same endpoint";
  ASSERT_EQ(keepalives(), 1u);
  EXPECT_EQ(out_.sent.back().connection, 5u);
  EXPECT_TRUE(out_.last_as<wire::EndpointKeepAlive>().home);
  EXPECT_EQ(server().counters().takeover_existing_associations, 1u);

  deliver(5, keepalive_ack("T", 1));
  EXPECT_EQ(server().counters().takeover_bound, 1u);
  // Kept and bound to association 5: monitored there, removed with it.
  advance_and_run(config_.keepalive_timeout);
  EXPECT_EQ(pe_count(), 1u);
  EXPECT_TRUE(enrp_.removed.empty());
  server().on_connection_closed(5);
  EXPECT_EQ(pe_count(), 0u);
}

// A PE whose Ack never comes over the association it opened itself: removed after the timeout,
// and the association treated as the PE's own (aborted as RSPLIB does, when configured).
TEST_F(AsapTakeoverTest, ExistingAssociationWithoutAckRemovesPe) {
  const PoolElement pe = taken_pe(1);
  connect_pe(5, {kPeAddr1}, pe.asap_transport->port);
  server().monitor_as_new_home(handle("T"), pe);
  advance_and_run(config_.keepalive_timeout);
  EXPECT_EQ(pe_count(), 0u);
  ASSERT_EQ(enrp_.removed.size(), 1u);
  EXPECT_EQ(out_.aborted, std::vector<ConnectionId>{5}) << "abort_on_keepalive_timeout is on by default";
}

// Several PEs behind one SCTP endpoint (one process, one association): one connect, every
// Keep-Alive over it, each PE bound by its own Ack.
TEST_F(AsapTakeoverTest, PesBehindOneEndpointShareOneTakeoverAssociation) {
  const PoolElement a = taken_pe(1);
  const PoolElement b = taken_pe(2);
  server().monitor_as_new_home(handle("T"), a);
  server().monitor_as_new_home(handle("T"), b);
  ASSERT_EQ(out_.connects.size(), 1u);
  ASSERT_EQ(keepalives(), 2u);
  EXPECT_EQ(out_.sent[0].connection, 9000u);
  EXPECT_EQ(out_.sent[1].connection, 9000u);
  deliver(9000, keepalive_ack("T", 1));
  deliver(9000, keepalive_ack("T", 2));
  EXPECT_EQ(server().counters().takeover_bound, 2u);
  EXPECT_EQ(server().counters().takeover_existing_associations, 1u);
  advance_and_run(config_.keepalive_timeout);
  EXPECT_EQ(pe_count(), 2u);
}

// The endpoint index follows ADD-IP / DELETE-IP: an address the association lost no longer
// matches, an added one does.
TEST_F(AsapTakeoverTest, EndpointMatchFollowsAssociationAddressChanges) {
  PoolElement pe = taken_pe(1);
  connect_pe(5, {kPeAddr2}, pe.asap_transport->port);
  server().on_addresses_changed(5, sctp_peer({kPeAddr1, kPeAddr2}, pe.asap_transport->port));
  server().on_addresses_changed(5, sctp_peer({kPeAddr1}, pe.asap_transport->port));
  server().monitor_as_new_home(handle("T"), pe);
  EXPECT_TRUE(out_.connects.empty());
  EXPECT_EQ(out_.sent.back().connection, 5u);

  PoolElement other = make_pe(2, {kPeAddr2});
  other.home_registrar = kOwnId;
  other.asap_transport = pe.asap_transport;
  other.asap_transport->addresses = {kPeAddr2};
  ASSERT_TRUE(hs_.register_pe(handle("T"), other).has_value());
  server().monitor_as_new_home(handle("T"), other);
  EXPECT_EQ(out_.connects.size(), 1u) << "kPeAddr2 was deleted from association 5";
}

TEST_F(AsapTakeoverTest, BoundPeIsMonitoredWithRegularKeepAlives_ASAP_KA_01) {
  const PoolElement pe = taken_pe(1);
  server().monitor_as_new_home(handle("T"), pe);
  deliver(9000, keepalive_ack("T", 1));
  out_.clear();
  advance_and_run(config_.keepalive_interval);
  ASSERT_EQ(keepalives(), 1u);
  EXPECT_FALSE(out_.last_as<wire::EndpointKeepAlive>().home);
  EXPECT_EQ(out_.sent.back().connection, 9000u);
}

TEST_F(AsapTakeoverTest, NoAckRemovesTakenPe_ASAP_KA_02) {
  const PoolElement pe = taken_pe(1);
  server().monitor_as_new_home(handle("T"), pe);
  advance_and_run(config_.keepalive_timeout);
  EXPECT_EQ(pe_count(), 0u);
  ASSERT_EQ(enrp_.removed.size(), 1u);
  EXPECT_EQ(out_.aborted, std::vector<ConnectionId>{9000});
}

TEST_F(AsapTakeoverTest, ImmediateConnectFailureStillTimesOut_ASAP_KA_02) {
  out_.fail_connect = true;
  const PoolElement pe = taken_pe(1);
  server().monitor_as_new_home(handle("T"), pe);
  EXPECT_EQ(keepalives(), 0u);
  EXPECT_EQ(server().counters().connects_failed, 1u);
  advance_and_run(config_.keepalive_timeout);
  EXPECT_EQ(pe_count(), 0u);
}

TEST_F(AsapTakeoverTest, TcpPeKeptForItsLife_NG_TCP_02) {
  const PoolElement pe = taken_pe(1, TransportProtocol::kTcp);
  server().monitor_as_new_home(handle("T"), pe);
  EXPECT_TRUE(out_.connects.empty());
  EXPECT_EQ(keepalives(), 0u);
  ASSERT_TRUE(hs_.next_expiry().has_value());
  EXPECT_EQ(*hs_.next_expiry(), clock_.now() + pe.registration_life_ms * kNsPerMs);
  EXPECT_EQ(server().counters().takeover_kept_for_life, 1u);
}

TEST_F(AsapTakeoverTest, SuggestionAckDoesNotBindOrRemove_NG_TKS_01) {
  const PoolElement pe = taken_pe(1, TransportProtocol::kSctp, kOtherPr);
  server().monitor_as_new_home(handle("T"), pe);
  EXPECT_TRUE(out_.last_as<wire::EndpointKeepAlive>().home);
  deliver(9000, keepalive_ack("T", 1));
  EXPECT_EQ(server().counters().takeover_bound, 0u);
  EXPECT_EQ(server().monitored_pes(), 0u);
  // The PE then re-registers here over that association and becomes ours.
  register_ok(9000, "T", make_pe(1));
  EXPECT_EQ(lookup("T", 1)->home_registrar, kOwnId);
}

TEST_F(AsapTakeoverTest, SuggestionWithoutAckLeavesForeignPe_NG_TKS_01) {
  const PoolElement pe = taken_pe(1, TransportProtocol::kSctp, kOtherPr);
  server().monitor_as_new_home(handle("T"), pe);
  advance_and_run(config_.keepalive_timeout);
  EXPECT_EQ(pe_count(), 1u);
  EXPECT_TRUE(enrp_.removed.empty());
  EXPECT_EQ(out_.aborted, std::vector<ConnectionId>{9000});  // our probe association is closed
}

TEST_F(AsapTakeoverTest, OwnershipMovedAwayStopsMonitoring) {
  connect_pe(1);
  register_ok(1, "K", make_pe(1));
  // A peer's ADD (PE re-registered at another PR) arrives through ENRP.
  PoolElement moved = *lookup("K", 1);
  moved.home_registrar = kOtherPr;
  ASSERT_TRUE(hs_.register_pe(handle("K"), moved, {.association = 0, .expires_at = 0}).has_value());
  advance_and_run(config_.keepalive_interval);
  EXPECT_EQ(keepalives(), 0u);
  EXPECT_EQ(server().monitored_pes(), 0u);
  EXPECT_EQ(pe_count(), 1u);
}

}  // namespace
}  // namespace poolreg::asap::testing
