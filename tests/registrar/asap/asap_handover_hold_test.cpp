// AsapServer: handover hold (issue 14 item 3). The PEs of a lost association are held for
// handover_hold: not returned by any policy, no ENRP DEL; a registration within the hold (over a
// new association) resumes the PE with one ENRP update; the hold's end removes the rest with
// their DEL. Endpoint Unreachable reports still count; handover_hold 0 keeps RFC 5352's removal.
#include <gtest/gtest.h>

#include <set>

#include "tests/registrar/asap/asap_test_support.hpp"

namespace poolreg::asap::testing {
namespace {

using wire::AsapType;

constexpr TimeNs kHold = 3000 * kNsPerMs;

class AsapHandoverHoldTest : public AsapServerTest {
 protected:
  AsapHandoverHoldTest() { config_.handover_hold = kHold; }
  void advance_and_run(TimeNs delta) {
    clock_.advance(delta);
    server().run_timers(clock_.now());
  }
  bool held(const std::string& pool, PoolElementId id) const { return hs_.held(handle(pool), id); }
  std::set<PoolElementId> removed_ids() const {
    std::set<PoolElementId> ids;
    for (const auto& [h, pe] : enrp_.removed) ids.insert(pe.id);
    return ids;
  }
  // PEs 1 and 3 over association 1 (10.1.1.1), PE 2 over association 3 (10.3.1.1); then
  // association 1 is lost.
  void lose_association_of_two() {
    register_three();
    server().on_connection_closed(1);
  }
  void register_three() {
    connect_pe(1, {kPeAddr1});
    register_ok(1, "H", make_pe(1, {kPeAddr1}));
    register_ok(1, "H", make_pe(3, {kPeAddr1}));
    connect_pe(3, {kPeAddr3});
    register_ok(3, "H", make_pe(2, {kPeAddr3}));
    out_.clear();
    enrp_.added.clear();
  }
};

TEST_F(AsapHandoverHoldTest, HeldPeIsNotOfferedThenResumesOverANewAssociationWithOneUpdateAndNoDel) {
  register_three();
  const std::uint16_t checksum16_before = hs_.checksum16(kOwnId);
  const std::uint32_t checksum32_before = hs_.checksum32(kOwnId);
  server().on_connection_closed(1);
  // Held: still registered (and in the audit checksum), not offered, nothing told to ENRP.
  EXPECT_EQ(pe_count(), 3u);
  EXPECT_TRUE(held("H", 1));
  EXPECT_TRUE(held("H", 3));
  EXPECT_FALSE(held("H", 2));
  EXPECT_EQ(server().counters().pe_held, 2u);
  EXPECT_EQ(server().handover_holds(), 1u);
  EXPECT_EQ(hs_.checksum16(kOwnId), checksum16_before);
  EXPECT_EQ(hs_.checksum32(kOwnId), checksum32_before);
  EXPECT_TRUE(enrp_.removed.empty());
  EXPECT_TRUE(enrp_.added.empty());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(resolve_ids("H", 3), std::vector<PoolElementId>{2});

  // PE 1 comes back over a new association from its new address: accepted (no 0x4: the old
  // association is gone, no probe), one ENRP update with the new address, no DEL.
  connect_pe(2, {kPeAddr2});
  register_ok(2, "H", make_pe(1, {kPeAddr2}));
  EXPECT_EQ(server().counters().pe_hold_resumed, 1u);
  EXPECT_EQ(server().counters().rebind_probes, 0u);
  EXPECT_FALSE(held("H", 1));
  ASSERT_EQ(enrp_.added.size(), 1u);
  EXPECT_EQ(enrp_.added[0].second.id, 1u);
  EXPECT_EQ(enrp_.added[0].second.user_transport.addresses, std::vector<IpAddress>{kPeAddr2});
  EXPECT_TRUE(enrp_.removed.empty());
  const auto ids = resolve_ids("H", 3);
  EXPECT_EQ(std::set<PoolElementId>(ids.begin(), ids.end()), (std::set<PoolElementId>{1, 2}));

  // The hold ends: only PE 3, which never came back, is removed (its DEL); PE 1 stays.
  advance_and_run(kHold);
  EXPECT_EQ(removed_ids(), std::set<PoolElementId>{3});
  EXPECT_EQ(server().counters().pe_hold_expired, 1u);
  EXPECT_EQ(server().counters().removed_by_association_loss, 1u);
  EXPECT_EQ(server().handover_holds(), 0u);
  ASSERT_TRUE(lookup("H", 1).has_value());
  EXPECT_EQ(lookup("H", 1)->user_transport.addresses, std::vector<IpAddress>{kPeAddr2});
  EXPECT_FALSE(lookup("H", 3).has_value());
  EXPECT_EQ(pe_count(), 2u);
}

TEST_F(AsapHandoverHoldTest, PeNotBackWithinTheHoldIsRemovedWithItsDelWhenTheHoldEnds) {
  lose_association_of_two();
  ASSERT_TRUE(server().next_timer_due().has_value());
  EXPECT_LE(*server().next_timer_due(), clock_.now() + kHold);
  advance_and_run(kHold - kNsPerMs);
  EXPECT_EQ(pe_count(), 3u);
  EXPECT_TRUE(enrp_.removed.empty());
  advance_and_run(kNsPerMs);
  EXPECT_EQ(removed_ids(), (std::set<PoolElementId>{1, 3}));
  EXPECT_EQ(server().counters().pe_hold_expired, 2u);
  EXPECT_EQ(server().counters().pe_hold_resumed, 0u);
  EXPECT_FALSE(lookup("H", 1).has_value());
  EXPECT_FALSE(lookup("H", 3).has_value());
  EXPECT_EQ(pe_count(), 1u);
  EXPECT_EQ(resolve_ids("H", 3), std::vector<PoolElementId>{2});
  // Registering again after the hold is a new registration (no resume).
  connect_pe(2, {kPeAddr2});
  register_ok(2, "H", make_pe(1, {kPeAddr2}));
  EXPECT_EQ(server().counters().pe_hold_resumed, 0u);
  EXPECT_EQ(server().counters().registrations, 4u);
}

TEST_F(AsapHandoverHoldTest, LargeExpiredHoldIsRemovedInTeardownPasses) {
  config_.teardown_batch = 2;
  connect_pe(1, {kPeAddr1});
  for (PoolElementId id = 1; id <= 5; ++id) register_ok(1, "H", make_pe(id, {kPeAddr1}));
  server().on_connection_closed(1);
  EXPECT_EQ(server().counters().pe_held, 5u);
  advance_and_run(kHold);
  EXPECT_EQ(enrp_.removed.size(), 2u);
  // The rest in later passes, due at once.
  ASSERT_TRUE(server().next_timer_due().has_value());
  EXPECT_LE(*server().next_timer_due(), clock_.now());
  advance_and_run(0);
  advance_and_run(0);
  EXPECT_EQ(enrp_.removed.size(), 5u);
  EXPECT_EQ(server().counters().pe_hold_expired, 5u);
  EXPECT_EQ(pe_count(), 0u);
  EXPECT_EQ(server().pending_teardowns(), 0u);
}

TEST_F(AsapHandoverHoldTest, PoolWithAllPesHeldAnswersWithNoPeNotUnknownPool) {
  connect_pe(1, {kPeAddr1});
  register_ok(1, "H", make_pe(1, {kPeAddr1}));
  server().on_connection_closed(1);
  deliver(77, handle_resolution("H", 3));
  const auto hrr = out_.last_as<wire::HandleResolutionResponse>();
  EXPECT_FALSE(hrr.error.has_value());
  EXPECT_TRUE(hrr.elements.empty());
  EXPECT_EQ(server().counters().resolutions_unknown_pool, 0u);
  ASSERT_TRUE(server().operator_resolve(handle("H"), 3).has_value());
  EXPECT_TRUE(server().operator_resolve(handle("H"), 3)->empty());
}

TEST_F(AsapHandoverHoldTest, HeldPeGetsNoKeepAlivesAndAResumedOneIsMonitoredOverItsNewAssociation) {
  config_.keepalive_interval = 1000 * kNsPerMs;
  lose_association_of_two();
  EXPECT_EQ(server().monitored_pes(), 1u);  // PE 2 only
  out_.clear();
  advance_and_run(1500 * kNsPerMs);
  for (const auto& s : out_.sent) {
    if (s.bytes.empty() || s.bytes[0] != static_cast<std::uint8_t>(AsapType::kEndpointKeepAlive)) continue;
    EXPECT_EQ(s.connection, 3u) << "keep-alive over the lost association";
  }
  connect_pe(2, {kPeAddr2});
  register_ok(2, "H", make_pe(1, {kPeAddr2}));
  EXPECT_EQ(server().monitored_pes(), 2u);
  out_.clear();
  advance_and_run(1000 * kNsPerMs);
  bool to_new = false;
  for (const auto& s : out_.sent)
    if (!s.bytes.empty() && s.bytes[0] == static_cast<std::uint8_t>(AsapType::kEndpointKeepAlive) && s.connection == 2)
      to_new = true;
  EXPECT_TRUE(to_new);
}

TEST_F(AsapHandoverHoldTest, EndpointUnreachableReportsForAHeldPeCountAndRemoveItAtTheThreshold) {
  config_.max_bad_pe_reports = 2;
  lose_association_of_two();
  // Reporters from two distinct hosts.
  server().on_connection_up(50, sctp_peer({IpAddress::v4(0x0a090901)}));
  server().on_connection_up(51, sctp_peer({IpAddress::v4(0x0a090902)}));
  deliver(50, unreachable("H", 1));
  EXPECT_TRUE(lookup("H", 1).has_value());
  EXPECT_TRUE(enrp_.removed.empty());
  deliver(51, unreachable("H", 1));
  // No association to probe it over: removed at the threshold, with its DEL.
  EXPECT_FALSE(lookup("H", 1).has_value());
  EXPECT_EQ(removed_ids(), std::set<PoolElementId>{1});
  EXPECT_EQ(server().counters().removed_by_unreachable_reports, 1u);
  EXPECT_EQ(server().counters().unreachable_probes, 0u);
  // The hold's end removes only PE 3 (one DEL each, never two).
  advance_and_run(kHold);
  EXPECT_EQ(enrp_.removed.size(), 2u);
  EXPECT_EQ(server().counters().pe_hold_expired, 1u);
}

TEST_F(AsapHandoverHoldTest, ASecondCloseReportKeepsTheHold) {
  lose_association_of_two();
  server().on_connection_closed(1);
  EXPECT_EQ(pe_count(), 3u);
  EXPECT_TRUE(enrp_.removed.empty());
  EXPECT_TRUE(held("H", 1));
  EXPECT_EQ(server().counters().pe_held, 2u);
  EXPECT_EQ(server().handover_holds(), 1u);
}

TEST_F(AsapHandoverHoldTest, OperatorDeregisterOfAHeldPeIsHeldAgainstReRegistration) {
  config_.deregister_hold = 60 * kNsPerSec;
  lose_association_of_two();
  ASSERT_TRUE(server().operator_deregister(handle("H"), 1));
  EXPECT_EQ(removed_ids(), std::set<PoolElementId>{1});
  EXPECT_GT(server().deregister_held_until(handle("H"), 1), clock_.now());
  connect_pe(2, {kPeAddr2});
  EXPECT_EQ(first_cause(register_rejected(2, "H", make_pe(1, {kPeAddr2})).error),
            ErrorCause::kRejectedSecurityConsiderations);
  EXPECT_EQ(server().counters().pe_hold_resumed, 0u);
}

TEST_F(AsapHandoverHoldTest, ZeroHoldRemovesAtOnceAsBefore) {
  config_.handover_hold = 0;
  lose_association_of_two();
  EXPECT_EQ(removed_ids(), (std::set<PoolElementId>{1, 3}));
  EXPECT_EQ(server().counters().pe_held, 0u);
  EXPECT_EQ(server().counters().removed_by_association_loss, 2u);
  EXPECT_EQ(server().handover_holds(), 0u);
  EXPECT_FALSE(held("H", 1));
  EXPECT_EQ(pe_count(), 1u);
}

TEST_F(AsapHandoverHoldTest, LiveSettingsChangeTheHoldForLossesFromThenOn) {
  AsapConfig next = config_;
  next.handover_hold = 0;
  server().apply_live_settings(next);
  lose_association_of_two();
  EXPECT_EQ(server().counters().pe_held, 0u);
  EXPECT_EQ(enrp_.removed.size(), 2u);
}

TEST_F(AsapHandoverHoldTest, AssociationWithoutPesHoldsNothing) {
  connect_pe(1, {kPeAddr1});
  server().on_connection_closed(1);
  EXPECT_EQ(server().handover_holds(), 0u);
  EXPECT_EQ(server().counters().pe_held, 0u);
  EXPECT_FALSE(server().next_timer_due().has_value() && *server().next_timer_due() > clock_.now());
}

// Every policy skips held PEs: the held PEs get the values each policy likes best (lowest load,
// highest weight), so a selector that still had them would return them.
class AsapHandoverHoldPolicyTest : public AsapHandoverHoldTest, public ::testing::WithParamInterface<PolicyType> {};

TEST_P(AsapHandoverHoldPolicyTest, ResolutionsNeverReturnAHeldPe) {
  const PolicyType policy = GetParam();
  auto pe = [&](PoolElementId id, IpAddress address, bool favourite) {
    PoolElement p = make_pe(id, {address}, policy);
    p.policy.weight = favourite ? 1000 : 1;
    p.policy.load = favourite ? 0 : 0x80000000u;
    p.policy.priority = 1;
    return p;
  };
  connect_pe(1, {kPeAddr1});
  connect_pe(2, {kPeAddr2});
  for (PoolElementId id = 1; id <= 4; ++id) register_ok(1, "P", pe(id, kPeAddr1, true));
  register_ok(2, "P", pe(5, kPeAddr2, false));
  register_ok(2, "P", pe(6, kPeAddr2, false));
  server().on_connection_closed(1);
  std::set<PoolElementId> seen;
  for (int i = 0; i < 40; ++i) {
    const auto ids = resolve_ids("P", 3);
    EXPECT_EQ(ids.size(), 2u);
    for (PoolElementId id : ids) {
      EXPECT_GE(id, 5u) << "held PE " << id << " returned";
      seen.insert(id);
    }
  }
  EXPECT_EQ(seen, (std::set<PoolElementId>{5, 6}));
  // Resumed: the favourite is offered again.
  connect_pe(3, {kPeAddr3});
  register_ok(3, "P", pe(1, kPeAddr3, true));
  bool back = false;
  for (int i = 0; i < 40 && !back; ++i) {
    const auto ids = resolve_ids("P", 3);
    back = std::find(ids.begin(), ids.end(), 1u) != ids.end();
  }
  EXPECT_TRUE(back);
}

INSTANTIATE_TEST_SUITE_P(Policies, AsapHandoverHoldPolicyTest,
                         ::testing::Values(PolicyType::kRoundRobin, PolicyType::kWeightedRoundRobin,
                                           PolicyType::kRandom, PolicyType::kWeightedRandom, PolicyType::kPriority,
                                           PolicyType::kLeastUsed, PolicyType::kLeastUsedDegradation,
                                           PolicyType::kRandomizedLeastUsed),
                         [](const auto& info) {
                           std::string name(policy_short_name(info.param));
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace poolreg::asap::testing
