// AsapServer with keep-alives on lanes (issue 16 item 2, asap.keepalive_on_lanes): an output that
// takes watches (as LaneTransport does for SCTP associations on lanes) gets a PE once its
// monitoring settles; the control thread then sends no Keep-Alive for it, takes it back before any
// probe whose Ack it must see (rebind, Endpoint Unreachable), lets it go on deregistration and
// removal, and runs the same removal as ASAP-KA-02 when the lane reports a timeout. Reports of a
// replaced hand-over are stale and change nothing. Without the output's consent (TCP, tests,
// the switch off) everything stays here as before.
#include <gtest/gtest.h>

#include "tests/registrar/asap/asap_test_support.hpp"

namespace poolreg::asap::testing {
namespace {

using wire::AsapType;

class AsapLaneKeepAliveTest : public AsapServerTest {
 protected:
  AsapLaneKeepAliveTest() {
    out_.offload_keepalives = true;
    config_.rebind_probe = 300 * kNsPerMs;
    config_.max_bad_pe_reports = 1;
  }
  void advance_and_run(TimeNs delta) {
    clock_.advance(delta);
    server().run_timers(clock_.now());
  }
  std::size_t keepalives_on(ConnectionId c) const {
    std::size_t n = 0;
    for (const auto& s : out_.sent)
      if (s.connection == c && !s.bytes.empty() &&
          s.bytes[0] == static_cast<std::uint8_t>(AsapType::kEndpointKeepAlive))
        ++n;
    return n;
  }
  KeepAliveReport report(KeepAliveReport::Kind kind, const KeepAliveWatch& w) {
    KeepAliveReport r;
    r.kind = kind;
    r.connection = w.connection;
    r.handle = w.handle;
    r.id = w.id;
    r.ticket = w.ticket;
    return r;
  }
};

TEST_F(AsapLaneKeepAliveTest, RegistrationHandsTheMonitorToTheLaneAndNoKeepAliveLeavesHere_ASAP_KA_01) {
  connect_pe(1);
  register_ok(1, "K", make_pe(1));
  ASSERT_EQ(out_.watches.size(), 1u);
  const KeepAliveWatch w = out_.watches[0];
  EXPECT_EQ(w.connection, 1u);
  EXPECT_EQ(w.handle, handle("K"));
  EXPECT_EQ(w.id, 1u);
  EXPECT_NE(w.ticket, 0u);
  EXPECT_FALSE(w.next_gen);
  EXPECT_EQ(server().lane_monitored_pes(), 1u);
  EXPECT_EQ(server().monitored_pes(), 1u);
  EXPECT_EQ(server().counters().keepalive_lane_watches, 1u);
  EXPECT_FALSE(server().next_timer_due().has_value()) << "a timer here for a PE the lane monitors";
  out_.clear();
  for (int i = 0; i < 5; ++i) advance_and_run(config_.keepalive_interval);
  EXPECT_EQ(keepalives_on(1), 0u);
  EXPECT_EQ(server().counters().keepalives_sent, 0u);
  EXPECT_EQ(pe_count(), 1u);
}

TEST_F(AsapLaneKeepAliveTest, ReRegistrationOverTheSameAssociationReplacesTheWatch) {
  connect_pe(1);
  register_ok(1, "K", make_pe(1));
  register_ok(1, "K", make_pe(1));
  ASSERT_EQ(out_.watches.size(), 2u);
  EXPECT_NE(out_.watches[0].ticket, out_.watches[1].ticket);
  EXPECT_TRUE(out_.unwatches.empty()) << "the lane replaces the entry; no unwatch needed";
  EXPECT_EQ(server().lane_monitored_pes(), 1u);
  // A report of the first hand-over crossed the second: stale, nothing happens.
  server().on_lane_keepalive(report(KeepAliveReport::Kind::kTimedOut, out_.watches[0]));
  EXPECT_EQ(pe_count(), 1u);
  EXPECT_EQ(server().counters().keepalive_lane_reports_stale, 1u);
  EXPECT_EQ(server().counters().keepalive_timeouts, 0u);
}

TEST_F(AsapLaneKeepAliveTest, LaneTimeoutRemovesThePeAsBefore_ASAP_KA_02) {
  connect_pe(1);
  register_ok(1, "K", make_pe(1));
  ASSERT_EQ(out_.watches.size(), 1u);
  server().on_lane_keepalive(report(KeepAliveReport::Kind::kTimedOut, out_.watches[0]));
  EXPECT_EQ(pe_count(), 0u);
  EXPECT_EQ(server().counters().keepalive_timeouts, 1u);
  EXPECT_EQ(server().counters().keepalive_lane_timeouts, 1u);
  EXPECT_EQ(server().counters().removed_by_keepalive_timeout, 1u);
  ASSERT_EQ(enrp_.removed.size(), 1u);  // ENRP DEL as for a timeout here
  EXPECT_EQ(server().monitored_pes(), 0u);
  EXPECT_EQ(server().lane_monitored_pes(), 0u);
  EXPECT_TRUE(out_.unwatches.empty()) << "the lane dropped it itself";
  EXPECT_TRUE(was_aborted(1));  // its association carries no other PE (abort_on_keepalive_timeout)
}

TEST_F(AsapLaneKeepAliveTest, LaneFindingThePeNotOursStopsMonitoringWithoutRemoval) {
  connect_pe(1);
  register_ok(1, "K", make_pe(1));
  server().on_lane_keepalive(report(KeepAliveReport::Kind::kNotOurs, out_.watches[0]));
  EXPECT_EQ(pe_count(), 1u);
  EXPECT_EQ(server().monitored_pes(), 0u);
  EXPECT_EQ(server().counters().keepalive_lane_not_ours, 1u);
  EXPECT_TRUE(enrp_.removed.empty());
}

TEST_F(AsapLaneKeepAliveTest, DeregistrationUnwatches) {
  connect_pe(1);
  register_ok(1, "K", make_pe(1));
  deliver(1, deregistration("K", 1));
  ASSERT_EQ(out_.unwatches.size(), 1u);
  EXPECT_EQ(out_.unwatches[0].connection, 1u);
  EXPECT_EQ(out_.unwatches[0].id, 1u);
  EXPECT_EQ(server().monitored_pes(), 0u);
  EXPECT_EQ(server().lane_monitored_pes(), 0u);
}

TEST_F(AsapLaneKeepAliveTest, OperatorRemovalUnwatches) {
  connect_pe(1);
  register_ok(1, "K", make_pe(1));
  ASSERT_TRUE(server().operator_deregister(handle("K"), 1));
  ASSERT_EQ(out_.unwatches.size(), 1u);
  EXPECT_EQ(server().lane_monitored_pes(), 0u);
}

TEST_F(AsapLaneKeepAliveTest, RebindProbeTakesThePeBackBeforeItsKeepAliveLeaves) {
  connect_pe(1, {kPeAddr1});
  register_ok(1, "M", make_pe(1, {kPeAddr1}));
  connect_pe(2, {kPeAddr2});
  out_.clear();
  deliver(2, registration("M", make_pe(1, {kPeAddr2})));
  ASSERT_EQ(out_.unwatches.size(), 1u);
  EXPECT_EQ(out_.unwatches[0].connection, 1u);
  ASSERT_EQ(keepalives_on(1), 1u);
  EXPECT_EQ(out_.unwatches[0].sent_before, 0u) << "the unwatch must precede the probe";
  EXPECT_EQ(server().lane_monitored_pes(), 0u);
  // The old binding answers here: refused (0x4), and the PE goes back to the lane.
  deliver(1, keepalive_ack("M", 1));
  EXPECT_TRUE(out_.last_as<wire::RegistrationResponse>().rejected);
  EXPECT_EQ(server().counters().rebind_probes_answered, 1u);
  ASSERT_EQ(out_.watches.size(), 2u);
  EXPECT_EQ(out_.watches.back().connection, 1u);
  EXPECT_EQ(server().lane_monitored_pes(), 1u);
}

TEST_F(AsapLaneKeepAliveTest, SilentOldBindingRebindsAndTheNewAssociationsLaneGetsThePe) {
  connect_pe(1, {kPeAddr1});
  register_ok(1, "M", make_pe(1, {kPeAddr1}));
  connect_pe(2, {kPeAddr2});
  deliver(2, registration("M", make_pe(1, {kPeAddr2})));
  advance_and_run(config_.rebind_probe);
  EXPECT_EQ(server().counters().pe_rebinds, 1u);
  ASSERT_EQ(out_.watches.size(), 2u);
  EXPECT_EQ(out_.watches.back().connection, 2u);
  EXPECT_EQ(server().lane_monitored_pes(), 1u);
  EXPECT_EQ(out_.unwatches.size(), 1u) << "only the probe's take-back";
}

TEST_F(AsapLaneKeepAliveTest, UnreachableProbeTakesThePeBackAndItsTimeoutRemovesIt_ASAP_EU_01) {
  connect_pe(1);
  register_ok(1, "E", make_pe(1));
  server().on_connection_up(50, sctp_peer({IpAddress::v4(0xc0a80001u)}, 40000));
  out_.clear();
  deliver(50, unreachable("E", 1));
  EXPECT_EQ(server().counters().unreachable_probes, 1u);
  ASSERT_EQ(out_.unwatches.size(), 1u);
  EXPECT_EQ(out_.unwatches[0].sent_before, 0u);
  EXPECT_EQ(keepalives_on(1), 1u);
  EXPECT_EQ(server().lane_monitored_pes(), 0u);
  advance_and_run(config_.keepalive_timeout);
  EXPECT_EQ(pe_count(), 0u);
  EXPECT_EQ(server().counters().unreachable_probes_removed, 1u);
}

TEST_F(AsapLaneKeepAliveTest, AnsweredUnreachableProbeHandsThePeBackToTheLane) {
  connect_pe(1);
  register_ok(1, "E", make_pe(1));
  server().on_connection_up(50, sctp_peer({IpAddress::v4(0xc0a80001u)}, 40000));
  deliver(50, unreachable("E", 1));
  deliver(1, keepalive_ack("E", 1));
  EXPECT_EQ(server().counters().unreachable_probes_kept, 1u);
  EXPECT_EQ(out_.watches.size(), 2u);
  EXPECT_EQ(server().lane_monitored_pes(), 1u);
  advance_and_run(config_.keepalive_timeout + config_.keepalive_interval);
  EXPECT_EQ(pe_count(), 1u);
}

TEST_F(AsapLaneKeepAliveTest, AssociationLossOfALaneMonitoredPeForgetsIt_ASAP_KA_04) {
  connect_pe(1);
  register_ok(1, "K", make_pe(1));
  server().on_connection_closed(1);
  EXPECT_EQ(pe_count(), 0u);
  EXPECT_EQ(server().monitored_pes(), 0u);
  EXPECT_EQ(server().lane_monitored_pes(), 0u);
}

TEST_F(AsapLaneKeepAliveTest, OutputThatDeclinesKeepsKeepAlivesHere) {
  out_.offload_keepalives = false;  // TCP, or an association not on a lane
  connect_pe(1);
  register_ok(1, "K", make_pe(1));
  EXPECT_EQ(server().lane_monitored_pes(), 0u);
  out_.clear();
  advance_and_run(config_.keepalive_interval);
  EXPECT_EQ(keepalives_on(1), 1u);
}

TEST_F(AsapLaneKeepAliveTest, SwitchOffKeepsKeepAlivesHere) {
  config_.keepalive_on_lanes = false;
  connect_pe(1);
  register_ok(1, "K", make_pe(1));
  EXPECT_TRUE(out_.watches.empty());
  out_.clear();
  advance_and_run(config_.keepalive_interval);
  EXPECT_EQ(keepalives_on(1), 1u);
}

TEST_F(AsapLaneKeepAliveTest, ReloadTurningTheSwitchOffTakesEveryPeBackAndOnHandsThemOverAtTheirNextAck) {
  connect_pe(1);
  register_ok(1, "K", make_pe(1));
  register_ok(1, "K", make_pe(2));
  ASSERT_EQ(server().lane_monitored_pes(), 2u);
  AsapConfig next = config_;
  next.keepalive_on_lanes = false;
  server().apply_live_settings(next);
  EXPECT_EQ(out_.unwatches.size(), 2u);
  EXPECT_EQ(server().lane_monitored_pes(), 0u);
  out_.clear();
  advance_and_run(config_.keepalive_interval);
  EXPECT_EQ(keepalives_on(1), 2u);
  next.keepalive_on_lanes = true;
  server().apply_live_settings(next);
  deliver(1, keepalive_ack("K", 1));
  EXPECT_EQ(server().lane_monitored_pes(), 1u);
  deliver(1, keepalive_ack("K", 2));
  EXPECT_EQ(server().lane_monitored_pes(), 2u);
}

TEST_F(AsapLaneKeepAliveTest, ReloadedTimersReachTheLanes) {
  server();
  AsapConfig next = config_;
  next.keepalive_interval = 2 * kNsPerSec;
  server().apply_live_settings(next);
  ASSERT_EQ(out_.timers.size(), 1u);
  EXPECT_EQ(out_.timers[0].first, 2 * kNsPerSec);
  EXPECT_EQ(out_.timers[0].second, config_.keepalive_timeout);
  server().apply_live_settings(next);  // unchanged: not sent again
  EXPECT_EQ(out_.timers.size(), 1u);
}

}  // namespace
}  // namespace poolreg::asap::testing
