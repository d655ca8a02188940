// AsapServer: break-before-make moves (issue 14 item 2). A PE bound to a live association
// registers over another one: the old binding is probed with a keep-alive for rebind_probe; no
// Ack → the PE moves to the new association (one ENRP update, no DEL, counter pe_rebinds); Ack →
// refused with cause 0x4 as without the probe (a live PE cannot be hijacked).
#include <gtest/gtest.h>

#include "tests/registrar/asap/asap_test_support.hpp"

namespace poolreg::asap::testing {
namespace {

using wire::AsapType;

class AsapRebindProbeTest : public AsapServerTest {
 protected:
  AsapRebindProbeTest() { config_.rebind_probe = 300 * kNsPerMs; }
  void advance_and_run(TimeNs delta) {
    clock_.advance(delta);
    server().run_timers(clock_.now());
  }
  std::size_t responses() const { return out_.count_type(AsapType::kRegistrationResponse); }
  std::size_t keepalives() const { return out_.count_type(AsapType::kEndpointKeepAlive); }
  // PE 1 registered over association 1 (old path 10.1.1.1); association 2 is its new path.
  void moved_pe() {
    connect_pe(1, {kPeAddr1});
    register_ok(1, "M", make_pe(1, {kPeAddr1}));
    connect_pe(2, {kPeAddr2});
    out_.clear();
    enrp_.added.clear();
  }
  std::optional<ConnectionId> bound_association(PoolElementId id) {
    std::optional<ConnectionId> c;
    hs_.lookup(handle("M"), id, [&](const handlespace::PoolElementView& v) { c = v.association(); });
    return c;
  }
};

TEST_F(AsapRebindProbeTest, DeadOldBindingIsProbedThenThePeMovesToTheNewAssociation) {
  moved_pe();
  deliver(2, registration("M", make_pe(1, {kPeAddr2})));
  // The answer waits; the old association gets a keep-alive for that PE.
  EXPECT_EQ(responses(), 0u);
  ASSERT_EQ(keepalives(), 1u);
  EXPECT_EQ(out_.sent.back().connection, 1u);
  EXPECT_EQ(*out_.last_as<wire::EndpointKeepAlive>().pe_id, 1u);
  EXPECT_EQ(server().counters().rebind_probes, 1u);
  ASSERT_TRUE(server().next_timer_due().has_value());
  EXPECT_LE(*server().next_timer_due(), clock_.now() + config_.rebind_probe);

  advance_and_run(config_.rebind_probe - kNsPerMs);
  EXPECT_EQ(responses(), 0u);
  advance_and_run(kNsPerMs);
  ASSERT_EQ(responses(), 1u);
  const auto resp = out_.last_as<wire::RegistrationResponse>();
  EXPECT_FALSE(resp.rejected);
  EXPECT_EQ(out_.sent.back().connection, 2u);
  EXPECT_EQ(server().counters().pe_rebinds, 1u);
  EXPECT_EQ(bound_association(1), std::optional<ConnectionId>{2});
  // One ENRP update with the new address, no DEL.
  ASSERT_EQ(enrp_.added.size(), 1u);
  EXPECT_EQ(enrp_.added[0].second.user_transport.addresses, std::vector<IpAddress>{kPeAddr2});
  EXPECT_TRUE(enrp_.removed.empty());
  // The old association no longer owns it: its loss removes nothing, and a registration over it
  // now is the one probed.
  server().on_connection_closed(1);
  EXPECT_EQ(pe_count(), 1u);
}

TEST_F(AsapRebindProbeTest, LiveOldBindingAnswersAndTheNewRegistrationIsRefused_SEC_02) {
  moved_pe();
  deliver(2, registration("M", make_pe(1, {kPeAddr2})));
  deliver(1, keepalive_ack("M", 1));
  ASSERT_EQ(responses(), 1u);
  const auto resp = out_.last_as<wire::RegistrationResponse>();
  EXPECT_TRUE(resp.rejected);
  EXPECT_EQ(first_cause(resp.error), ErrorCause::kNonUniquePeIdentifier);
  EXPECT_EQ(out_.sent.back().connection, 2u);
  EXPECT_EQ(server().counters().rebind_probes_answered, 1u);
  EXPECT_EQ(bound_association(1), std::optional<ConnectionId>{1});
  advance_and_run(config_.rebind_probe);
  EXPECT_EQ(responses(), 1u) << "decided once";
  EXPECT_EQ(server().counters().pe_rebinds, 0u);
}

TEST_F(AsapRebindProbeTest, AnAckOverAnotherAssociationDoesNotCount) {
  moved_pe();
  deliver(2, registration("M", make_pe(1, {kPeAddr2})));
  deliver(2, keepalive_ack("M", 1));  // the impostor acks over its own association
  EXPECT_EQ(responses(), 0u);
  advance_and_run(config_.rebind_probe);
  // No Ack over the bound association: the move goes through (the old path is dead).
  EXPECT_EQ(server().counters().pe_rebinds, 1u);
}

TEST_F(AsapRebindProbeTest, ReRegistrationOverTheOldAssociationRefusesTheParkedOne) {
  moved_pe();
  deliver(2, registration("M", make_pe(1, {kPeAddr2})));
  deliver(1, registration("M", make_pe(1, {kPeAddr1})));
  ASSERT_EQ(responses(), 2u);
  ASSERT_GE(out_.sent.size(), 2u);
  EXPECT_EQ(out_.sent[out_.sent.size() - 2].connection, 1u);
  EXPECT_FALSE(std::get<wire::RegistrationResponse>(out_.decoded(out_.sent.size() - 2)).rejected);
  EXPECT_EQ(out_.sent.back().connection, 2u);
  EXPECT_TRUE(out_.last_as<wire::RegistrationResponse>().rejected);
  EXPECT_EQ(bound_association(1), std::optional<ConnectionId>{1});
}

TEST_F(AsapRebindProbeTest, OldAssociationClosingDecidesAtOnce) {
  moved_pe();
  deliver(2, registration("M", make_pe(1, {kPeAddr2})));
  server().on_connection_closed(1);
  ASSERT_EQ(responses(), 1u);
  EXPECT_FALSE(out_.last_as<wire::RegistrationResponse>().rejected);
  EXPECT_EQ(server().counters().rebind_old_closed, 1u);
  EXPECT_EQ(pe_count(), 1u);
  EXPECT_EQ(bound_association(1), std::optional<ConnectionId>{2});
}

TEST_F(AsapRebindProbeTest, NewAssociationClosingDropsTheParkedRegistration) {
  moved_pe();
  deliver(2, registration("M", make_pe(1, {kPeAddr2})));
  server().on_connection_closed(2);
  advance_and_run(config_.rebind_probe);
  EXPECT_EQ(responses(), 0u);
  EXPECT_EQ(server().counters().rebind_dropped, 1u);
  EXPECT_EQ(bound_association(1), std::optional<ConnectionId>{1});
}

TEST_F(AsapRebindProbeTest, TwoNewHomesForOnePeTheOlderIsRefused) {
  moved_pe();
  connect_pe(3, {kPeAddr3});
  deliver(2, registration("M", make_pe(1, {kPeAddr2})));
  deliver(3, registration("M", make_pe(1, {kPeAddr3})));
  EXPECT_EQ(keepalives(), 1u) << "one probe per PE";
  ASSERT_EQ(responses(), 1u);
  EXPECT_EQ(out_.sent.back().connection, 2u);
  EXPECT_TRUE(out_.last_as<wire::RegistrationResponse>().rejected);
  EXPECT_EQ(server().counters().rebind_displaced, 1u);
  advance_and_run(config_.rebind_probe);
  EXPECT_EQ(bound_association(1), std::optional<ConnectionId>{3});
}

TEST_F(AsapRebindProbeTest, FullTableRefusesAtOnce) {
  config_.max_pending_rebinds = 1;
  moved_pe();
  register_ok(1, "M", make_pe(5, {kPeAddr1}));
  deliver(2, registration("M", make_pe(1, {kPeAddr2})));
  deliver(2, registration("M", make_pe(5, {kPeAddr2})));
  ASSERT_EQ(responses(), 2u);  // PE 5's own response over 1 is in out_ too: check the last
  EXPECT_TRUE(out_.last_as<wire::RegistrationResponse>().rejected);
  EXPECT_EQ(server().counters().rebind_probes_refused_full, 1u);
}

TEST_F(AsapRebindProbeTest, OffRefusesAtOnceAsRfc5352) {
  config_.rebind_probe = 0;
  moved_pe();
  const auto resp = register_rejected(2, "M", make_pe(1, {kPeAddr2}));
  EXPECT_EQ(first_cause(resp.error), ErrorCause::kNonUniquePeIdentifier);
  EXPECT_EQ(keepalives(), 0u);
}

}  // namespace
}  // namespace poolreg::asap::testing
