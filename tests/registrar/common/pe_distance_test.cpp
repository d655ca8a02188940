// The DPF distance math (registrar/common/pe_distance.hpp): SRTT/2 rounded to the step, the ENRP
// hop added without wrapping, which policies and messages it concerns.
#include "registrar/common/pe_distance.hpp"

#include <gtest/gtest.h>

namespace poolreg {
namespace {

TEST(PeDistance, HalfTheSrttRoundedToTheNearestStep) {
  EXPECT_EQ(distance_from_srtt(0, 50), 0u);             // nothing measured
  EXPECT_EQ(distance_from_srtt(2'000, 50), 0u);         // loopback: 1 ms -> 0
  EXPECT_EQ(distance_from_srtt(48'000, 50), 0u);        // 24 ms -> 0
  EXPECT_EQ(distance_from_srtt(50'000, 50), 50u);       // 25 ms: halves round up
  EXPECT_EQ(distance_from_srtt(140'000, 50), 50u);      // 70 ms -> 50
  EXPECT_EQ(distance_from_srtt(160'000, 50), 100u);     // 80 ms -> 100 (the relay of the integration test)
  EXPECT_EQ(distance_from_srtt(400'000, 50), 200u);     // 200 ms stays
  EXPECT_EQ(distance_from_srtt(160'000, 10), 80u);      // a finer step
  EXPECT_EQ(distance_from_srtt(161'000, 1), 81u);       // 80.5 ms -> 81
  EXPECT_EQ(distance_from_srtt(161'000, 0), 81u);       // step 0 acts as 1
  EXPECT_EQ(distance_from_srtt(0xFFFFFFFFu, 10000), 2'150'000u);  // no overflow in the math
}

TEST(PeDistance, HopIsAddedWithoutWrapping) {
  EXPECT_EQ(add_distance(100, 50), 150u);
  EXPECT_EQ(add_distance(0xFFFFFFF0u, 0x100), 0xFFFFFFFFu);
  PolicyParams dpf;
  dpf.type = PolicyType::kLeastUsedDpf;
  dpf.distance_ms = 100;
  add_hop_distance(dpf, 50);
  EXPECT_EQ(dpf.distance_ms, 150u);
  PolicyParams lu;
  lu.type = PolicyType::kLeastUsed;
  add_hop_distance(lu, 50);
  EXPECT_EQ(lu.distance_ms, 0u);  // not a distance policy: nothing to add
}

TEST(PeDistance, OnlyTheFiveDpfPoliciesCarryADistance) {
  for (PolicyType t : {PolicyType::kWeightedRandomDpf, PolicyType::kLeastUsedDpf, PolicyType::kLeastUsedDegradationDpf,
                       PolicyType::kPriorityLeastUsedDpf, PolicyType::kPriorityLeastUsedDegradationDpf})
    EXPECT_TRUE(is_distance_policy(t)) << policy_name(t);
  for (PolicyType t : {PolicyType::kRoundRobin, PolicyType::kWeightedRandom, PolicyType::kLeastUsed,
                       PolicyType::kLeastUsedDegradation, PolicyType::kPriorityLeastUsedDegradation})
    EXPECT_FALSE(is_distance_policy(t)) << policy_name(t);
}

TEST(PeDistance, TheTransportsMeasureOnlyForRegistrationsAndLearnedPes) {
  EXPECT_TRUE(message_wants_path_rtt(WireProtocol::kAsap, 0x01));   // Registration
  EXPECT_FALSE(message_wants_path_rtt(WireProtocol::kAsap, 0x05));  // Handle Resolution
  EXPECT_FALSE(message_wants_path_rtt(WireProtocol::kAsap, 0x0a));  // Keep-Alive Ack
  EXPECT_TRUE(message_wants_path_rtt(WireProtocol::kEnrp, 0x03));   // Handle Table Response
  EXPECT_TRUE(message_wants_path_rtt(WireProtocol::kEnrp, 0x04));   // Handle Update
  EXPECT_FALSE(message_wants_path_rtt(WireProtocol::kEnrp, 0x01));  // Presence
}

}  // namespace
}  // namespace poolreg
