// The DPF policies' distance at the home registrar (issue 14 item 7, policies.md §3): a PE with
// WRAND-DPF / LU-DPF / LUD-DPF / PLU-DPF / PLUD-DPF gets half the SRTT of its association,
// rounded to distance_step_ms, whatever it sent; refreshed by every re-registration and by an
// address change of the association; so LU-DPF prefers the nearby PE, also after a move. The
// SRTT comes in as data (on_connection_up's peer, on_message's srtt_us, on_addresses_changed's
// peer): manual values here, no sockets.
#include <gtest/gtest.h>

#include "tests/registrar/asap/asap_test_support.hpp"

namespace poolreg::asap::testing {
namespace {

constexpr std::uint32_t kNearSrttUs = 2'000;    // loopback-like: distance 0
constexpr std::uint32_t kFarSrttUs = 160'000;   // 80 ms each way: distance 100 at step 50

ConnectionPeer peer_with_srtt(std::vector<IpAddress> addresses, std::uint32_t srtt_us, std::uint16_t port = 50000) {
  ConnectionPeer p = sctp_peer(std::move(addresses), port);
  p.srtt_us = srtt_us;
  return p;
}

PoolElement dpf_pe(PoolElementId id, std::uint32_t claimed_distance = 0, PolicyType type = PolicyType::kLeastUsedDpf) {
  PoolElement pe = make_pe(id, {kPeAddr1}, type);
  pe.policy.load = 0x40000000u;      // 25 %, the same for every PE here
  pe.policy.load_dpf = 0x00100000u;  // each ms of distance adds 1/4096 of full load
  pe.policy.weight = 1000;           // WRAND-DPF
  pe.policy.weight_dpf = 0x00100000u;
  pe.policy.distance_ms = claimed_distance;
  return pe;
}

TEST_F(AsapServerTest, DpfDistanceIsHalfTheSrttRoundedAndOverwritesTheClaim) {
  server().on_connection_up(1, peer_with_srtt({kPeAddr1}, kFarSrttUs));
  register_ok(1, "Dpf", dpf_pe(61, /*claimed_distance=*/7));
  auto pe = lookup("Dpf", 61);
  ASSERT_TRUE(pe.has_value());
  EXPECT_EQ(pe->policy.distance_ms, 100u);  // 160 ms / 2 = 80 -> 100 in steps of 50, not the 7 it sent
  ASSERT_FALSE(enrp_.added.empty());
  EXPECT_EQ(enrp_.added.back().second.policy.distance_ms, 100u);  // what the peers learn

  // Every DPF policy with a wire codec, a claim of 0 too.
  server().on_connection_up(2, peer_with_srtt({kPeAddr1}, 400'000, 50001));
  PoolElementId id = 62;
  for (PolicyType t : {PolicyType::kWeightedRandomDpf, PolicyType::kLeastUsedDegradationDpf}) {
    register_ok(2, std::string("Dpf-") + std::string(policy_short_name(t)), dpf_pe(id, 0, t));
    EXPECT_EQ(lookup(std::string("Dpf-") + std::string(policy_short_name(t)), id)->policy.distance_ms, 200u)
        << policy_name(t);
    ++id;
  }
}

TEST_F(AsapServerTest, DpfDistanceUsesTheConfiguredStep) {
  config_.distance_step_ms = 10;
  server().on_connection_up(1, peer_with_srtt({kPeAddr1}, kFarSrttUs));
  register_ok(1, "Dpf", dpf_pe(61, 999));
  EXPECT_EQ(lookup("Dpf", 61)->policy.distance_ms, 80u);
}

TEST_F(AsapServerTest, NoSrttMeasuredGivesDistanceZeroNotTheClaim) {
  connect_pe(1, {kPeAddr1});  // srtt_us 0: nothing measured (yet)
  register_ok(1, "Dpf", dpf_pe(61, 500));
  EXPECT_EQ(lookup("Dpf", 61)->policy.distance_ms, 0u);
}

TEST_F(AsapServerTest, NonDpfPolicyHasNoDistance) {
  server().on_connection_up(1, peer_with_srtt({kPeAddr1}, kFarSrttUs));
  PoolElement lu = dpf_pe(61);
  lu.policy.type = PolicyType::kLeastUsed;
  register_ok(1, "Lu", lu);
  EXPECT_EQ(lookup("Lu", 61)->policy.distance_ms, 0u);
}

TEST_F(AsapServerTest, DpfDistanceIsRefreshedByEveryReRegistration) {
  connect_pe(1, {kPeAddr1});
  server().on_message(1, registration("Dpf", dpf_pe(61)), kFarSrttUs);  // the SRTT measured with it
  EXPECT_EQ(out_.last_as<wire::RegistrationResponse>().rejected, false);
  EXPECT_EQ(lookup("Dpf", 61)->policy.distance_ms, 100u);
  // The path got shorter: the next re-registration carries the new SRTT.
  server().on_message(1, registration("Dpf", dpf_pe(61)), 60'000);
  EXPECT_EQ(lookup("Dpf", 61)->policy.distance_ms, 50u);  // 30 ms -> 50
  EXPECT_EQ(enrp_.added.back().second.policy.distance_ms, 50u);
  // A message without a measurement keeps the association's latest SRTT.
  server().on_message(1, registration("Dpf", dpf_pe(61)), 0);
  EXPECT_EQ(lookup("Dpf", 61)->policy.distance_ms, 50u);
}

TEST_F(AsapServerTest, DpfDistanceFollowsAnAddressChangeOfTheAssociation) {
  server().on_connection_up(1, peer_with_srtt({kPeAddr1}, kNearSrttUs));
  register_ok(1, "Dpf", dpf_pe(61));
  EXPECT_EQ(lookup("Dpf", 61)->policy.distance_ms, 0u);
  const std::size_t updates = enrp_.added.size();
  // ADD-IP + SET-PRIMARY to a far address: the transport reports the new primary's SRTT.
  server().on_addresses_changed(1, peer_with_srtt({kPeAddr3, kPeAddr1}, 300'000));
  EXPECT_EQ(lookup("Dpf", 61)->policy.distance_ms, 150u);
  ASSERT_EQ(enrp_.added.size(), updates + 1);  // one Handle Update with the new distance
  EXPECT_EQ(enrp_.added.back().second.policy.distance_ms, 150u);
}

// Two LU-DPF PEs with equal loads: resolutions return the near one first; after they swap paths
// (the far one moves to a new, near association; the near one's path becomes far), the other.
TEST_F(AsapServerTest, LeastUsedDpfPrefersTheNearPeAlsoAfterAMove) {
  server().on_connection_up(1, peer_with_srtt({kPeAddr1}, kNearSrttUs, 50001));
  server().on_connection_up(2, peer_with_srtt({kPeAddr1}, kFarSrttUs, 50002));
  register_ok(1, "Dpf", dpf_pe(71));  // near
  register_ok(2, "Dpf", dpf_pe(72));  // far
  for (int i = 0; i < 4; ++i) EXPECT_EQ(resolve_ids("Dpf", 1), std::vector<PoolElementId>{71}) << i;

  // The far PE's old path dies; it comes back over a near association and re-registers.
  server().on_connection_closed(2);
  server().on_connection_up(3, peer_with_srtt({kPeAddr1}, kNearSrttUs, 50003));
  register_ok(3, "Dpf", dpf_pe(72));
  // The near PE's association now runs over a far path (its SRTT grew): its re-registration says so.
  server().on_message(1, registration("Dpf", dpf_pe(71)), kFarSrttUs);
  EXPECT_EQ(lookup("Dpf", 71)->policy.distance_ms, 100u);
  EXPECT_EQ(lookup("Dpf", 72)->policy.distance_ms, 0u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(resolve_ids("Dpf", 1), std::vector<PoolElementId>{72}) << i;
}

}  // namespace
}  // namespace poolreg::asap::testing
