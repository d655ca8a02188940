// AsapServer: the association limits of the configuration: max_associations (one more accepted
// association is aborted at once and its messages ignored) and association_idle_timeout (an
// association without PEs that received nothing for that long is closed gracefully).
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/registrar/asap/asap_test_support.hpp"

namespace poolreg::asap::testing {
namespace {

using wire::AsapType;

class AsapAssociationLimitsTest : public AsapServerTest {
 protected:
  void advance_and_run(TimeNs delta) {
    clock_.advance(delta);
    server().run_timers(clock_.now());
  }
};

TEST_F(AsapAssociationLimitsTest, AssociationOverTheLimitIsAbortedAndIgnored) {
  config_.max_associations = 2;
  connect_pe(1);
  connect_pe(2);
  connect_pe(3);
  ASSERT_EQ(out_.aborted.size(), 1u);
  EXPECT_EQ(out_.aborted[0], 3u);
  EXPECT_EQ(server().associations(), 2u);
  EXPECT_EQ(server().counters().associations_refused, 1u);
  // What arrives before the transport reports the abort registers nothing and is not answered.
  deliver(3, registration("L", make_pe(30)));
  EXPECT_EQ(lookup("L", 30), std::nullopt);
  EXPECT_TRUE(out_.sent.empty());
  EXPECT_EQ(server().associations(), 2u);
  server().on_connection_closed(3);
  EXPECT_EQ(server().counters().associations_closed, 0u);  // never counted as up
  // A slot frees up when an accepted association ends; the next one is taken.
  server().on_connection_closed(2);
  connect_pe(4);
  register_ok(4, "L", make_pe(40));
  EXPECT_EQ(server().associations(), 2u);
  EXPECT_EQ(out_.aborted.size(), 1u);
}

TEST_F(AsapAssociationLimitsTest, RefreshOfAKnownAssociationIsNotRefused) {
  config_.max_associations = 1;
  connect_pe(1);
  connect_pe(1);  // peer info refreshed (e.g. an ASCONF added an address)
  EXPECT_TRUE(out_.aborted.empty());
  EXPECT_EQ(server().associations(), 1u);
}

TEST_F(AsapAssociationLimitsTest, OutgoingAssociationsAreNotLimited) {
  config_.max_associations = 1;
  connect_pe(1);
  ConnectionPeer p = sctp_peer({kPeAddr1});
  p.outgoing = true;  // e.g. a keep-alive association after a takeover
  server().on_connection_up(2, p);
  EXPECT_TRUE(out_.aborted.empty());
  EXPECT_EQ(server().associations(), 2u);
}

TEST_F(AsapAssociationLimitsTest, NoLimitWhenZero) {
  config_.max_associations = 0;
  for (ConnectionId c = 1; c <= 50; ++c) connect_pe(c);
  EXPECT_TRUE(out_.aborted.empty());
  EXPECT_EQ(server().associations(), 50u);
}

TEST_F(AsapAssociationLimitsTest, IdlePuAssociationIsClosedGracefully) {
  config_.association_idle_timeout = 20 * kNsPerSec;
  connect_pe(1);
  deliver(1, handle_resolution("nothing"));  // a PU's request: activity
  advance_and_run(15 * kNsPerSec);
  EXPECT_FALSE(was_closed(1));
  deliver(1, handle_resolution("nothing"));  // activity again: the timeout restarts here
  advance_and_run(15 * kNsPerSec);
  EXPECT_FALSE(was_closed(1));
  advance_and_run(10 * kNsPerSec);  // 25 s after the last request: past 20 s, within the sweep period
  EXPECT_TRUE(was_closed(1));
  EXPECT_TRUE(out_.aborted.empty());
  EXPECT_EQ(server().associations(), 0u);
  EXPECT_EQ(server().counters().associations_idle_closed, 1u);
}

TEST_F(AsapAssociationLimitsTest, ActivityReportedByTheTransportKeepsAnAssociationOpen) {
  // Resolutions answered on the DPDK poll lcore never reach the server; the transport reports
  // the association's activity instead.
  config_.association_idle_timeout = 20 * kNsPerSec;
  connect_pe(1);
  for (int i = 0; i < 4; ++i) {
    advance_and_run(15 * kNsPerSec);
    server().on_activity(1);
  }
  EXPECT_FALSE(was_closed(1));
  server().on_activity(99);  // unknown association: nothing created
  EXPECT_EQ(server().associations(), 1u);
  advance_and_run(25 * kNsPerSec);
  EXPECT_TRUE(was_closed(1));
}

TEST_F(AsapAssociationLimitsTest, IdleTimerIsScheduledWithoutOtherTimers) {
  config_.association_idle_timeout = 8 * kNsPerSec;
  connect_pe(1);
  server().run_timers(clock_.now());  // first sweep
  ASSERT_TRUE(server().next_timer_due().has_value());
  EXPECT_LE(*server().next_timer_due(), clock_.now() + 2 * kNsPerSec);  // a quarter of the timeout
}

TEST_F(AsapAssociationLimitsTest, AssociationCarryingPesIsNeverIdleClosed) {
  config_.association_idle_timeout = 2 * kNsPerSec;
  config_.keepalive_interval = 60 * kNsPerSec;  // longer than the idle timeout on purpose
  connect_pe(1);
  register_ok(1, "K", make_pe(1));
  for (int i = 0; i < 10; ++i) advance_and_run(kNsPerSec);
  EXPECT_FALSE(was_closed(1));
  EXPECT_EQ(pe_count(), 1u);
  // Once its last PE deregisters it is an idle association like any other.
  deliver(1, deregistration("K", 1));
  for (int i = 0; i < 4; ++i) advance_and_run(kNsPerSec);
  EXPECT_TRUE(was_closed(1));
}

TEST_F(AsapAssociationLimitsTest, SilentAssociationIsClosedAfterTheFirstMessageTimeout) {
  // An SCTP association that never says anything holds a slot (issue 17): closed after
  // first_message_timeout; one that sent a message, or whose transport reported activity, stays.
  config_.first_message_timeout = 5 * kNsPerSec;
  connect_pe(1);
  connect_pe(2);
  connect_pe(3);
  deliver(2, handle_resolution("nothing"));
  server().on_activity(3);
  advance_and_run(4 * kNsPerSec);
  EXPECT_FALSE(was_closed(1));
  advance_and_run(3 * kNsPerSec);
  EXPECT_TRUE(was_closed(1));
  EXPECT_FALSE(was_closed(2));
  EXPECT_FALSE(was_closed(3));
  EXPECT_EQ(server().counters().associations_silent_closed, 1u);
  EXPECT_EQ(server().counters().associations_idle_closed, 0u);
  EXPECT_EQ(server().associations(), 2u);
  // Off: a silent association stays.
  config_.first_message_timeout = 0;
  server().apply_live_settings(config_);
  connect_pe(4);
  advance_and_run(3600 * kNsPerSec);
  EXPECT_FALSE(was_closed(4));
}

TEST_F(AsapAssociationLimitsTest, NoIdleCloseWhenTimeoutIsZero) {
  config_.association_idle_timeout = 0;
  connect_pe(1);
  advance_and_run(3600 * kNsPerSec);
  EXPECT_TRUE(out_.closed.empty());
  EXPECT_EQ(server().associations(), 1u);
}

}  // namespace
}  // namespace poolreg::asap::testing
