// AsapServer: the per-client quotas of issue 17. max_pes_per_association and max_pes_per_address
// refuse a new PE with cause 0x6 (Lack of Resources) while re-registrations and other clients are
// served; max_associations_per_address aborts one more association from the same source address.
#include <gtest/gtest.h>

#include "tests/registrar/asap/asap_test_support.hpp"

namespace poolreg::asap::testing {
namespace {

// 10.1.1.1 as IPv4-mapped IPv6 (::ffff:10.1.1.1), what a dual-stack TCP socket reports.
const IpAddress kPeAddr1Mapped =
    IpAddress::v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 1, 1});

using AsapClientQuotasTest = AsapServerTest;

TEST_F(AsapClientQuotasTest, PesPerAssociationRefusedWithLackOfResourcesOthersServed) {
  config_.max_pes_per_association = 2;
  connect_pe(1);
  connect_pe(2);
  register_ok(1, "Q", make_pe(1));
  register_ok(1, "Q", make_pe(2));
  EXPECT_EQ(first_cause(register_rejected(1, "Q", make_pe(3)).error), ErrorCause::kLackOfResources);
  EXPECT_EQ(server().counters().registrations_refused_per_association, 1u);
  register_ok(1, "Q", make_pe(2));  // a re-registration adds nothing: served
  register_ok(2, "Q", make_pe(3));  // another association of the same host: its own quota
  EXPECT_EQ(pe_count(), 3u);
  EXPECT_EQ(lookup("Q", 3)->id, 3u);
}

TEST_F(AsapClientQuotasTest, AssociationsPerAddressOverTheLimitAreAbortedOthersServed) {
  config_.max_associations_per_address = 2;
  connect_pe(1, {kPeAddr1});
  connect_pe(2, {kPeAddr1Mapped});  // the same host over a dual-stack socket
  connect_pe(3, {kPeAddr1, kPeAddr2});
  EXPECT_FALSE(was_aborted(1));
  EXPECT_FALSE(was_aborted(2));
  EXPECT_TRUE(was_aborted(3));
  EXPECT_EQ(server().counters().associations_refused_per_address, 1u);
  EXPECT_EQ(server().associations(), 2u);
  // What the refused one sends before its close is reported registers nothing.
  deliver(3, registration("A", make_pe(30)));
  EXPECT_EQ(lookup("A", 30), std::nullopt);
  server().on_connection_closed(3);
  // Another host is served.
  connect_pe(4, {kPeAddr2});
  EXPECT_FALSE(was_aborted(4));
  register_ok(4, "A", make_pe(40, {kPeAddr2}));
  // A slot of the first host frees up when one of its associations ends.
  server().on_connection_closed(1);
  connect_pe(5, {kPeAddr1});
  EXPECT_FALSE(was_aborted(5));
  EXPECT_EQ(server().counters().associations_refused_per_address, 1u);
}

TEST_F(AsapClientQuotasTest, OutgoingAndRefreshedAssociationsAreNotCounted) {
  config_.max_associations_per_address = 1;
  connect_pe(1, {kPeAddr1});
  connect_pe(1, {kPeAddr1});  // refresh of the same association
  ConnectionPeer ours = sctp_peer({kPeAddr1});
  ours.outgoing = true;
  server().on_connection_up(2, ours);
  EXPECT_TRUE(out_.aborted.empty());
  EXPECT_EQ(server().associations(), 2u);
}

TEST_F(AsapClientQuotasTest, PesPerAddressCountsEveryAssociationOfTheHost) {
  config_.max_pes_per_address = 3;
  connect_pe(1, {kPeAddr1});
  connect_pe(2, {kPeAddr1});
  connect_pe(3, {kPeAddr2});
  register_ok(1, "P", make_pe(1));
  register_ok(1, "P", make_pe(2));
  register_ok(2, "P", make_pe(3));
  EXPECT_EQ(first_cause(register_rejected(2, "P", make_pe(4)).error), ErrorCause::kLackOfResources);
  EXPECT_EQ(server().counters().registrations_refused_per_address, 1u);
  register_ok(2, "P", make_pe(3));                   // re-registration: served
  register_ok(3, "P", make_pe(5, {kPeAddr2}));       // another host: served
  // A deregistration frees a slot of the host.
  deliver(1, deregistration("P", 1));
  register_ok(2, "P", make_pe(4));
  EXPECT_EQ(first_cause(register_rejected(1, "P", make_pe(6)).error), ErrorCause::kLackOfResources);
  // So does the loss of an association with its PEs (PE 2).
  server().on_connection_closed(1);
  register_ok(2, "P", make_pe(6));
  EXPECT_EQ(pe_count(), 4u);  // 3, 4, 5, 6
}

TEST_F(AsapClientQuotasTest, QuotasAreLive) {
  connect_pe(1, {kPeAddr1});
  register_ok(1, "L", make_pe(1));
  register_ok(1, "L", make_pe(2));
  AsapConfig next = config_;
  next.max_pes_per_association = 2;
  next.max_associations_per_address = 1;
  server().apply_live_settings(next);
  EXPECT_EQ(first_cause(register_rejected(1, "L", make_pe(3)).error), ErrorCause::kLackOfResources);
  connect_pe(2, {kPeAddr1});
  EXPECT_TRUE(was_aborted(2));
  next.max_pes_per_association = 0;  // 0 = off
  server().apply_live_settings(next);
  register_ok(1, "L", make_pe(3));
}

}  // namespace
}  // namespace poolreg::asap::testing
