// AsapServer::on_addresses_changed: an association's peer addresses after SCTP ADD-IP /
// DELETE-IP / SET-PRIMARY (issue 14 item 1). The address check (ASAP-REG-06, on by default) uses
// the current set; the ASAP transport of the PEs bound to the association follows it; with the
// check on, a deleted address leaves their user transport (never the last one); every changed PE
// goes to ENRP as an update, marked transport-only when PUs see nothing of the change.
#include <gtest/gtest.h>

#include "tests/registrar/asap/asap_test_support.hpp"

namespace poolreg::asap::testing {
namespace {

TEST_F(AsapServerTest, AddedAddressPassesTheAddressCheck_ASAP_REG_06) {
  connect_pe(1, {kPeAddr1});
  register_ok(1, "Mobile", make_pe(51, {kPeAddr1}));
  // Before the change the new address is not the association's: refused.
  register_ok(1, "Mobile", make_pe(51, {kPeAddr1, kPeAddr3}));
  EXPECT_EQ(lookup("Mobile", 51)->user_transport.addresses, std::vector<IpAddress>{kPeAddr1});
  EXPECT_EQ(server().counters().addresses_filtered, 1u);
  const std::size_t updates = enrp_.added.size();

  server().on_addresses_changed(1, sctp_peer({kPeAddr1, kPeAddr3}));
  EXPECT_EQ(server().counters().association_addresses_added, 1u);
  // The ASAP transport follows at once (an ENRP update), the user transport is the PE's own.
  auto pe = lookup("Mobile", 51);
  ASSERT_TRUE(pe && pe->asap_transport);
  EXPECT_EQ(pe->asap_transport->addresses, (std::vector<IpAddress>{kPeAddr1, kPeAddr3}));
  EXPECT_EQ(pe->user_transport.addresses, std::vector<IpAddress>{kPeAddr1});
  ASSERT_EQ(enrp_.added.size(), updates + 1);
  EXPECT_EQ(enrp_.added.back().second, *pe);
  // Nothing a PU sees changed: ENRP may let the PE's next update carry it.
  EXPECT_EQ(enrp_.transport_only, std::vector<std::size_t>{updates});
  EXPECT_EQ(server().counters().pe_transports_followed, 1u);

  register_ok(1, "Mobile", make_pe(51, {kPeAddr3, kPeAddr1}));  // make-before-break
  EXPECT_EQ(lookup("Mobile", 51)->user_transport.addresses, (std::vector<IpAddress>{kPeAddr3, kPeAddr1}));
  EXPECT_EQ(server().counters().addresses_filtered, 1u);
}

TEST_F(AsapServerTest, DeletedAddressIsPrunedFromBoundPesButNeverTheLast_ASAP_REG_06) {
  connect_pe(1, {kPeAddr1, kPeAddr3});
  register_ok(1, "Mobile", make_pe(52, {kPeAddr3, kPeAddr1}));
  register_ok(1, "Other", make_pe(53, {kPeAddr1}));
  connect_pe(2, {kPeAddr1, kPeAddr2});  // another association of the same host: not touched
  register_ok(2, "Mobile", make_pe(54, {kPeAddr1, kPeAddr2}));
  const std::size_t updates = enrp_.added.size();

  // SET-PRIMARY kPeAddr3, then DELETE-IP kPeAddr1 (reported as the whole new list each time).
  server().on_addresses_changed(1, sctp_peer({kPeAddr3, kPeAddr1}));
  EXPECT_EQ(server().counters().association_primary_changes, 1u);
  EXPECT_EQ(lookup("Mobile", 52)->asap_transport->addresses, (std::vector<IpAddress>{kPeAddr3, kPeAddr1}));
  server().on_addresses_changed(1, sctp_peer({kPeAddr3}));
  EXPECT_EQ(server().counters().association_addresses_removed, 1u);

  auto moved = lookup("Mobile", 52);
  ASSERT_TRUE(moved && moved->asap_transport);
  EXPECT_EQ(moved->user_transport.addresses, std::vector<IpAddress>{kPeAddr3});
  EXPECT_EQ(moved->asap_transport->addresses, std::vector<IpAddress>{kPeAddr3});
  // PE 53 had only the deleted address: it keeps it (its keep-alives or re-registration decide).
  auto last = lookup("Other", 53);
  EXPECT_EQ(last->user_transport.addresses, std::vector<IpAddress>{kPeAddr1});
  EXPECT_EQ(last->asap_transport->addresses, std::vector<IpAddress>{kPeAddr3});
  EXPECT_EQ(server().counters().pe_addresses_pruned, 1u);
  EXPECT_EQ(server().counters().pe_address_prunes_skipped_last, 1u);
  EXPECT_EQ(lookup("Mobile", 54)->user_transport.addresses, (std::vector<IpAddress>{kPeAddr1, kPeAddr2}));
  // Two PEs after the primary change, two after the delete; PE 54 never.
  EXPECT_EQ(enrp_.added.size(), updates + 4);
  for (std::size_t i = updates; i < enrp_.added.size(); ++i) EXPECT_NE(enrp_.added[i].second.id, 54u);
  // The primary change moved only ASAP transports; the delete pruned PE 52's user address (an
  // ordinary update) but left PE 53's (its last one): transport-only.
  ASSERT_EQ(enrp_.transport_only.size(), 3u);
  EXPECT_EQ(enrp_.transport_only[0], updates);
  EXPECT_EQ(enrp_.transport_only[1], updates + 1);
  EXPECT_EQ(enrp_.added[enrp_.transport_only[2]].second.id, 53u);
  EXPECT_TRUE(enrp_.removed.empty());
  // The deleted address no longer passes the check.
  register_ok(1, "Mobile", make_pe(52, {kPeAddr3, kPeAddr1}));
  EXPECT_EQ(lookup("Mobile", 52)->user_transport.addresses, std::vector<IpAddress>{kPeAddr3});
}

TEST_F(AsapServerTest, AddressCheckOffKeepsUserAddressesOnDelete_ASAP_REG_06) {
  config_.address_check = false;
  connect_pe(1, {kPeAddr1, kPeAddr3});
  register_ok(1, "Mobile", make_pe(55, {kPeAddr3, kPeAddr1}));
  server().on_addresses_changed(1, sctp_peer({kPeAddr3}));
  auto pe = lookup("Mobile", 55);
  EXPECT_EQ(pe->user_transport.addresses, (std::vector<IpAddress>{kPeAddr3, kPeAddr1}));
  EXPECT_EQ(pe->asap_transport->addresses, std::vector<IpAddress>{kPeAddr3});
  EXPECT_EQ(server().counters().pe_addresses_pruned, 0u);
}

TEST_F(AsapServerTest, AddressChangeOfAnUnknownOrClosedAssociationIsIgnored) {
  server().on_addresses_changed(9, sctp_peer({kPeAddr1}));
  connect_pe(1, {kPeAddr1});
  register_ok(1, "Mobile", make_pe(56, {kPeAddr1}));
  server().on_connection_closed(1);
  server().on_addresses_changed(1, sctp_peer({kPeAddr3}));
  EXPECT_EQ(server().counters().address_changes_unknown_association, 2u);
  EXPECT_EQ(pe_count(), 0u);
}

}  // namespace
}  // namespace poolreg::asap::testing
