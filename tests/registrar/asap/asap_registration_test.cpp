// AsapServer: registration, re-registration, deregistration (ASAP-REG-*, ASAP-DEREG-01, SEC-02).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "tests/registrar/asap/asap_test_support.hpp"

namespace poolreg::asap::testing {
namespace {

using wire::AsapType;

TEST_F(AsapServerTest, RegisterThreePesAndResolveRoundRobin_ASAP_REG_01_ASAP_HR_01) {
  connect_pe(1);
  for (PoolElementId id : {101, 102, 103}) register_ok(1, "EchoPool", make_pe(id));
  EXPECT_EQ(pe_count(), 3u);
  EXPECT_EQ(server().counters().registrations, 3u);

  // Three single-item resolutions visit every PE once (round robin).
  std::multiset<PoolElementId> seen;
  for (int i = 0; i < 3; ++i) {
    auto ids = resolve_ids("EchoPool", 1);
    ASSERT_EQ(ids.size(), 1u);
    seen.insert(ids[0]);
  }
  EXPECT_EQ(seen, (std::multiset<PoolElementId>{101, 102, 103}));

  // Default answer: 3 distinct PEs, policy TLV present, no ASAP transport, home = us.
  deliver(77, handle_resolution("EchoPool"));
  auto hrr = out_.last_as<wire::HandleResolutionResponse>();
  EXPECT_EQ(hrr.pool_handle, handle("EchoPool"));
  ASSERT_TRUE(hrr.policy.has_value());
  EXPECT_EQ(hrr.policy->type, PolicyType::kRoundRobin);
  EXPECT_FALSE(hrr.error.has_value());
  ASSERT_EQ(hrr.elements.size(), 3u);
  std::set<PoolElementId> distinct;  // ASAP-HR-04
  for (const auto& pe : hrr.elements) {
    distinct.insert(pe.id);
    EXPECT_FALSE(pe.asap_transport.has_value());
    EXPECT_EQ(pe.home_registrar, kOwnId);
    EXPECT_EQ(pe.user_transport.addresses, std::vector<IpAddress>{kPeAddr1});
  }
  EXPECT_EQ(distinct.size(), 3u);
  // The HRR header flags are 0 (asap.md 2).
  EXPECT_EQ(out_.sent.back().bytes[1], 0);
}

TEST_F(AsapServerTest, ResolveLeastUsedAndPriorityPools_ASAP_HR_01_ASAP_HR_04) {
  connect_pe(1);
  const std::uint32_t loads[] = {0x60000000, 0x10000000, 0x30000000};
  for (int i = 0; i < 3; ++i) {
    auto pe = make_pe(201 + i, {kPeAddr1}, PolicyType::kLeastUsed);
    pe.policy.load = loads[i];
    register_ok(1, "LuPool", pe);
  }
  deliver(77, handle_resolution("LuPool", 5));
  auto hrr = out_.last_as<wire::HandleResolutionResponse>();
  ASSERT_EQ(hrr.elements.size(), 3u);
  EXPECT_EQ(hrr.elements[0].id, 202u);  // least load first
  EXPECT_EQ(hrr.elements[1].id, 203u);
  EXPECT_EQ(hrr.elements[2].id, 201u);
  // Policy TLV = pool policy with the first returned PE's values (RSPLIB).
  ASSERT_TRUE(hrr.policy.has_value());
  EXPECT_EQ(hrr.policy->type, PolicyType::kLeastUsed);
  EXPECT_EQ(hrr.policy->load, 0x10000000u);

  const std::uint32_t prios[] = {5, 9, 1};
  for (int i = 0; i < 3; ++i) {
    auto pe = make_pe(301 + i, {kPeAddr2}, PolicyType::kPriority);
    pe.policy.priority = prios[i];
    register_ok(1, "PriPool", pe);
  }
  auto ids = resolve_ids("PriPool", 1);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0], 302u);  // highest priority wins

  for (int i = 0; i < 3; ++i) register_ok(1, "RandPool", make_pe(401 + i, {kPeAddr3}, PolicyType::kRandom));
  auto r = resolve_ids("RandPool", 3);
  EXPECT_EQ(std::set<PoolElementId>(r.begin(), r.end()), (std::set<PoolElementId>{401, 402, 403}));
}

TEST_F(AsapServerTest, RegistrationTellsEnrpWithCompletePe_ASAP_REG_07_ASAP_REG_08_ASAP_REG_09) {
  connect_pe(1, {kPeAddr1, kPeAddr2}, 40000);
  register_ok(1, "EchoPool", make_pe(11, {kPeAddr1, kPeAddr2}));
  ASSERT_EQ(enrp_.added.size(), 1u);
  const PoolElement& pe = enrp_.added[0].second;
  EXPECT_EQ(enrp_.added[0].first, handle("EchoPool"));
  EXPECT_EQ(pe.id, 11u);
  EXPECT_EQ(pe.home_registrar, kOwnId);
  ASSERT_TRUE(pe.asap_transport.has_value());
  EXPECT_EQ(pe.asap_transport->protocol, TransportProtocol::kSctp);
  EXPECT_EQ(pe.asap_transport->port, 40000);
  EXPECT_EQ(pe.asap_transport->addresses, (std::vector<IpAddress>{kPeAddr1, kPeAddr2}));
  auto stored = lookup("EchoPool", 11);
  ASSERT_TRUE(stored);
  EXPECT_EQ(*stored, pe);
}

TEST_F(AsapServerTest, TcpConnectionGivesTcpAsapTransport_ASAP_REG_07) {
  ConnectionPeer tcp;
  tcp.kind = TransportProtocol::kTcp;
  tcp.addresses = {kPeAddr1};
  tcp.port = 41234;
  server().on_connection_up(5, tcp);
  register_ok(5, "TcpPool", make_pe(12));
  auto stored = lookup("TcpPool", 12);
  ASSERT_TRUE(stored && stored->asap_transport);
  EXPECT_EQ(stored->asap_transport->protocol, TransportProtocol::kTcp);
  EXPECT_EQ(stored->asap_transport->port, 41234);
  EXPECT_EQ(stored->asap_transport->addresses, std::vector<IpAddress>{kPeAddr1});
}

TEST_F(AsapServerTest, ReRegistrationWithNewAddressIsResolvedAtOnce_ASAP_REG_05) {
  connect_pe(1);
  register_ok(1, "Mobile", make_pe(21, {kPeAddr1}));
  deliver(77, handle_resolution("Mobile"));
  EXPECT_EQ(out_.last_as<wire::HandleResolutionResponse>().elements.at(0).user_transport.addresses,
            std::vector<IpAddress>{kPeAddr1});
  register_ok(1, "Mobile", make_pe(21, {kPeAddr3}));
  deliver(77, handle_resolution("Mobile"));
  auto hrr = out_.last_as<wire::HandleResolutionResponse>();
  ASSERT_EQ(hrr.elements.size(), 1u);
  EXPECT_EQ(hrr.elements[0].user_transport.addresses, std::vector<IpAddress>{kPeAddr3});
  EXPECT_EQ(pe_count(), 1u);
  EXPECT_EQ(server().counters().registrations, 1u);
  EXPECT_EQ(server().counters().reregistrations, 1u);
  EXPECT_EQ(enrp_.added.size(), 2u);  // ADD for each (re-)registration
}

TEST_F(AsapServerTest, RegistrationTakesOverPeOfAnotherRegistrar_ASAP_REG_08) {
  PoolElement foreign = make_pe(31);
  foreign.home_registrar = kOtherPr;
  ASSERT_TRUE(
      hs_.register_pe(handle("P"), foreign, {.association = 0, .expires_at = 5000 * kNsPerSec}).has_value());
  connect_pe(1);
  register_ok(1, "P", make_pe(31));
  EXPECT_EQ(lookup("P", 31)->home_registrar, kOwnId);
  EXPECT_EQ(server().counters().reregistrations, 1u);
  ASSERT_EQ(enrp_.added.size(), 1u);
}

TEST_F(AsapServerTest, AddressFilterKeepsOnlyAssociationAddresses_ASAP_REG_06_SEC_06) {
  connect_pe(1, {kPeAddr1});
  const IpAddress stranger = IpAddress::v4(0x0a090909);
  register_ok(1, "F", make_pe(41, {kPeAddr1, stranger}));
  EXPECT_EQ(lookup("F", 41)->user_transport.addresses, std::vector<IpAddress>{kPeAddr1});
  EXPECT_EQ(server().counters().addresses_filtered, 1u);

  auto resp = register_rejected(1, "F", make_pe(42, {stranger}));
  EXPECT_EQ(first_cause(resp.error), ErrorCause::kInvalidValues);
  EXPECT_EQ(resp.pe_id, 42u);
  EXPECT_FALSE(lookup("F", 42));
  EXPECT_TRUE(enrp_.removed.empty());
  EXPECT_EQ(enrp_.added.size(), 1u);  // no ENRP traffic for a refusal
}

TEST_F(AsapServerTest, AddressRejectionAsSecurityCause_ASAP_REG_06) {
  config_.address_rejection_is_security = true;
  connect_pe(1, {kPeAddr1});
  auto resp = register_rejected(1, "F", make_pe(43, {kPeAddr2}));
  EXPECT_EQ(first_cause(resp.error), ErrorCause::kRejectedSecurityConsiderations);
}

TEST_F(AsapServerTest, LoopbackRefusedBelowMinimumScope_ASAP_REG_06) {
  const IpAddress lo = IpAddress::v4(0x7f000001);
  connect_pe(1, {lo});
  auto resp = register_rejected(1, "L", make_pe(44, {lo}));
  EXPECT_EQ(first_cause(resp.error), ErrorCause::kInvalidValues);
  EXPECT_EQ(pe_count(), 0u);
}

TEST_F(AsapServerTest, LoopbackAcceptedWhenScopeConfigured_ASAP_REG_06) {
  config_.min_address_scope = AddressScope::kLoopback;
  const IpAddress lo = IpAddress::v4(0x7f000001);
  connect_pe(1, {lo});
  register_ok(1, "L", make_pe(45, {lo}));
  EXPECT_EQ(lookup("L", 45)->asap_transport->addresses, std::vector<IpAddress>{lo});
}

TEST_F(AsapServerTest, AddressCheckOffAcceptsForeignAddresses_ASAP_REG_06) {
  config_.address_check = false;
  connect_pe(1, {kPeAddr1});
  register_ok(1, "F", make_pe(46, {kPeAddr3}));
  EXPECT_EQ(lookup("F", 46)->user_transport.addresses, std::vector<IpAddress>{kPeAddr3});
}

TEST_F(AsapServerTest, ReRegistrationFromAnotherAssociationRefused_SEC_02) {
  connect_pe(1);
  connect_pe(2);
  register_ok(1, "S", make_pe(51, {kPeAddr1}));
  auto resp = register_rejected(2, "S", make_pe(51, {kPeAddr2}));
  EXPECT_EQ(first_cause(resp.error), ErrorCause::kNonUniquePeIdentifier);
  EXPECT_EQ(lookup("S", 51)->user_transport.addresses, std::vector<IpAddress>{kPeAddr1});  // unchanged
  EXPECT_EQ(enrp_.added.size(), 1u);
}

TEST_F(AsapServerTest, InconsistentPolicyRefusedWithPolicyTlv_ASAP_REG_03) {
  connect_pe(1);
  register_ok(1, "EchoPool", make_pe(61));
  auto lu = make_pe(62, {kPeAddr1}, PolicyType::kLeastUsed);
  lu.policy.load = 0x40000000;
  auto resp = register_rejected(1, "EchoPool", lu);
  ASSERT_TRUE(resp.error);
  EXPECT_EQ(first_cause(resp.error), ErrorCause::kInconsistentPoolingPolicy);
  // The offending policy TLV is quoted (testvectors.md: 0008000c 40000001 40000000).
  EXPECT_EQ(resp.error->causes[0].info,
            (Bytes{0x00, 0x08, 0x00, 0x0c, 0x40, 0x00, 0x00, 0x01, 0x40, 0x00, 0x00, 0x00}));
  EXPECT_EQ(pe_count(), 1u);
  EXPECT_EQ(server().counters().registrations_rejected, 1u);
}

TEST_F(AsapServerTest, InconsistentTransportAndDataControlRefused_ASAP_REG_03) {
  connect_pe(1);
  register_ok(1, "T", make_pe(71));
  auto tcp = make_pe(72);
  tcp.user_transport.protocol = TransportProtocol::kTcp;
  EXPECT_EQ(first_cause(register_rejected(1, "T", tcp).error), ErrorCause::kInconsistentTransportType);
  auto ctl = make_pe(73);
  ctl.user_transport.use = TransportUse::kDataPlusControl;
  EXPECT_EQ(first_cause(register_rejected(1, "T", ctl).error), ErrorCause::kInconsistentDataControlConfiguration);
  EXPECT_EQ(pe_count(), 1u);
}

TEST_F(AsapServerTest, PeIdZeroRefusedWithRegistrationResponse_ASAP_REG_04) {
  connect_pe(1);
  auto resp = register_rejected(1, "Z", make_pe(0));
  EXPECT_EQ(resp.pe_id, 0u);
  EXPECT_EQ(resp.pool_handle, handle("Z"));
  EXPECT_EQ(first_cause(resp.error), ErrorCause::kInvalidValues);
  EXPECT_EQ(pe_count(), 0u);
}

TEST_F(AsapServerTest, HandleTooLongAnsweredWithError_WIRE_07) {
  connect_pe(1);
  deliver(1, registration(std::string(33, 'x'), make_pe(81)));
  auto err = out_.last_as<wire::AsapError>();
  ASSERT_EQ(err.error.causes.size(), 1u);
  EXPECT_EQ(err.error.causes[0].cause(), ErrorCause::kInvalidValues);
  EXPECT_EQ(pe_count(), 0u);
  // Exactly 32 bytes is fine.
  register_ok(1, std::string(32, 'x'), make_pe(81));
}

TEST_F(AsapServerTest, ConfiguredLongerHandleLimit_WIRE_07) {
  config_.max_pool_handle = 40;
  connect_pe(1);
  register_ok(1, std::string(40, 'y'), make_pe(82));
  deliver(1, registration(std::string(41, 'y'), make_pe(83)));
  EXPECT_EQ(out_.last_as<wire::AsapError>().error.causes.at(0).cause(), ErrorCause::kInvalidValues);
}

TEST_F(AsapServerTest, UnknownPolicyRefused_ASAP_REG_04) {
  connect_pe(1);
  Bytes m = registration("EchoPool", make_pe(91));
  // The policy TLV is the last 8 bytes (RR: 0008 0008 00000001): make the type 0x99.
  ASSERT_GE(m.size(), 8u);
  m[m.size() - 1] = 0x99;
  deliver(1, m);
  auto resp = out_.last_as<wire::RegistrationResponse>();
  EXPECT_TRUE(resp.rejected);
  EXPECT_EQ(resp.pe_id, 91u);
  EXPECT_EQ(first_cause(resp.error), ErrorCause::kInvalidValues);
  EXPECT_EQ(resp.error->causes[0].info, Bytes(m.end() - 8, m.end()));
  EXPECT_EQ(pe_count(), 0u);
}

TEST_F(AsapServerTest, PerAssociationPeLimit) {
  config_.max_pes_per_association = 2;
  connect_pe(1);
  register_ok(1, "Lim", make_pe(1));
  register_ok(1, "Lim", make_pe(2));
  EXPECT_EQ(first_cause(register_rejected(1, "Lim", make_pe(3)).error), ErrorCause::kLackOfResources);
  register_ok(1, "Lim", make_pe(2));  // re-registration still fine
  EXPECT_EQ(pe_count(), 2u);
}

TEST_F(AsapServerTest, NextGenCapabilitiesEchoed_NG_CAP_01) {
  config_.next_gen = true;
  connect_pe(1);
  deliver(1, registration("NG", make_pe(5), wire::kNgCapHro));
  auto resp = out_.last_as<wire::RegistrationResponse>();
  EXPECT_FALSE(resp.rejected);
  ASSERT_TRUE(resp.ng_capabilities.has_value());
  EXPECT_EQ(*resp.ng_capabilities, config_.ng_capabilities);
  // An RFC PE gets no extension TLV.
  deliver(1, registration("NG", make_pe(6)));
  EXPECT_FALSE(out_.last_as<wire::RegistrationResponse>().ng_capabilities.has_value());
}

TEST_F(AsapServerTest, NextGenOffIgnoresCapabilities_NG_CAP_01) {
  connect_pe(1);
  deliver(1, registration("NG", make_pe(5), wire::kNgCapHro));
  auto resp = out_.last_as<wire::RegistrationResponse>();
  EXPECT_FALSE(resp.rejected);
  EXPECT_FALSE(resp.ng_capabilities.has_value());
}

TEST_F(AsapServerTest, DeregistrationRemovesAndAnswers_ASAP_DEREG_01) {
  connect_pe(1);
  register_ok(1, "D", make_pe(1));
  deliver(1, deregistration("D", 1));
  auto resp = out_.last_as<wire::DeregistrationResponse>();
  EXPECT_EQ(resp.pool_handle, handle("D"));
  EXPECT_EQ(resp.pe_id, 1u);
  EXPECT_FALSE(resp.error.has_value());
  EXPECT_EQ(pe_count(), 0u);
  ASSERT_EQ(enrp_.removed.size(), 1u);
  EXPECT_EQ(enrp_.removed[0].second.id, 1u);
  EXPECT_EQ(enrp_.removed[0].second.home_registrar, kOwnId);
  EXPECT_TRUE(enrp_.removed[0].second.asap_transport.has_value());
  EXPECT_EQ(server().monitored_pes(), 0u);
  // The pool vanished with its last PE (ASAP-REG-02).
  deliver(77, handle_resolution("D"));
  EXPECT_EQ(first_cause(out_.last_as<wire::HandleResolutionResponse>().error), ErrorCause::kUnknownPoolHandle);
}

TEST_F(AsapServerTest, DeregistrationOfUnknownPeStillSucceeds_ASAP_DEREG_01) {
  connect_pe(1);
  deliver(1, deregistration("Nope", 99));
  auto resp = out_.last_as<wire::DeregistrationResponse>();
  EXPECT_EQ(resp.pe_id, 99u);
  EXPECT_FALSE(resp.error.has_value());
  EXPECT_TRUE(enrp_.removed.empty());
  EXPECT_EQ(server().counters().deregistrations_unknown, 1u);
}

TEST_F(AsapServerTest, DeregistrationFromAnotherAssociationRefused_SEC_02) {
  connect_pe(1);
  connect_pe(2);
  register_ok(1, "D", make_pe(1));
  deliver(2, deregistration("D", 1));
  auto resp = out_.last_as<wire::DeregistrationResponse>();
  EXPECT_EQ(first_cause(resp.error), ErrorCause::kNonUniquePeIdentifier);
  EXPECT_EQ(pe_count(), 1u);
  EXPECT_TRUE(enrp_.removed.empty());
}

TEST_F(AsapServerTest, OperatorDeregisterSendsDel) {
  connect_pe(1);
  register_ok(1, "O", make_pe(1));
  EXPECT_TRUE(server().operator_deregister(handle("O"), 1));
  EXPECT_FALSE(server().operator_deregister(handle("O"), 1));
  EXPECT_EQ(enrp_.removed.size(), 1u);
  EXPECT_EQ(server().counters().removed_by_operator, 1u);
  EXPECT_EQ(server().monitored_pes(), 0u);
}

// Issue 17: poolctl deregister of a live PE registered here sticks for deregister_hold; its
// association and the other PEs over it stay; the PE is accepted again once the hold ends.
TEST_F(AsapServerTest, OperatorDeregisterRefusesReregistrationForTheHold) {
  config_.deregister_hold = 60 * kNsPerSec;
  connect_pe(1);
  register_ok(1, "O", make_pe(1));
  register_ok(1, "O", make_pe(2));
  ASSERT_TRUE(server().operator_deregister(handle("O"), 1));
  EXPECT_EQ(server().deregister_held_until(handle("O"), 1), clock_.now() + 60 * kNsPerSec);
  auto resp = register_rejected(1, "O", make_pe(1));
  EXPECT_EQ(resp.pe_id, 1u);
  EXPECT_EQ(first_cause(resp.error), ErrorCause::kRejectedSecurityConsiderations);
  EXPECT_EQ(server().counters().registrations_refused_operator_hold, 1u);
  EXPECT_EQ(lookup("O", 1), std::nullopt);
  EXPECT_TRUE(out_.aborted.empty());
  EXPECT_TRUE(out_.closed.empty());
  register_ok(1, "O", make_pe(2));  // the other PE over the same association is served
  clock_.advance(61 * kNsPerSec);
  register_ok(1, "O", make_pe(1));
  EXPECT_TRUE(lookup("O", 1).has_value());
}

TEST_F(AsapServerTest, OperatorDeregisterWithoutHoldLetsThePeBackAtOnce) {
  config_.deregister_hold = 0;
  connect_pe(1);
  register_ok(1, "O", make_pe(1));
  ASSERT_TRUE(server().operator_deregister(handle("O"), 1));
  EXPECT_EQ(server().deregister_held_until(handle("O"), 1), 0);
  register_ok(1, "O", make_pe(1));
}

}  // namespace
}  // namespace poolreg::asap::testing
