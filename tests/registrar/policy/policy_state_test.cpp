// The policy table of policies.md §3 as keys and values.
#include "registrar/policy/policy_state.hpp"

#include <gtest/gtest.h>

namespace poolreg::policy {
namespace {

TEST(PolicyStateTest, FamiliesAndFeedback) {
  EXPECT_EQ(policy_family(PolicyType::kRoundRobin), PolicyFamily::kOrdered);
  EXPECT_EQ(policy_family(PolicyType::kPriorityLeastUsedDegradationDpf), PolicyFamily::kOrdered);
  EXPECT_EQ(policy_family(PolicyType::kWeightedRoundRobin), PolicyFamily::kWeightedRoundRobin);
  EXPECT_EQ(policy_family(PolicyType::kWeightedRandomDpf), PolicyFamily::kRandom);
  EXPECT_EQ(policy_family(PolicyType::kRandomizedPriorityLeastUsedDegradation), PolicyFamily::kRandom);
  EXPECT_TRUE(policy_degrades(PolicyType::kLeastUsedDegradation));
  EXPECT_TRUE(policy_degrades(PolicyType::kRandomizedLeastUsedDegradation));
  EXPECT_FALSE(policy_degrades(PolicyType::kPriorityLeastUsed));
  EXPECT_FALSE(policy_degrades(PolicyType::kLeastUsedDpf));
}

TEST(PolicyStateTest, OrderedKeysClampAtMax) {
  PolicyParams p;
  p.load = 0xF0000000u;
  p.load_degradation = 0x20000000u;
  p.distance_ms = 3;
  p.load_dpf = 0x10;
  EXPECT_EQ(ordered_key(make_policy_state(PolicyType::kPriorityLeastUsed, p)), kPolicyValueMax);
  EXPECT_EQ(ordered_key(make_policy_state(PolicyType::kLeastUsedDpf, p)), 0xF0000030u);
  p.distance_ms = 0xFFFFFFFFu;
  p.load_dpf = 0xFFFFFFFFu;
  EXPECT_EQ(ordered_key(make_policy_state(PolicyType::kLeastUsedDpf, p)), kPolicyValueMax);
  PolicyState s = make_policy_state(PolicyType::kLeastUsedDegradation, p);
  EXPECT_EQ(s.step, 0x20000000u);
  s.degradation = 0xFFFFFFFFu;
  EXPECT_EQ(ordered_key(s), kPolicyValueMax);
}

TEST(PolicyStateTest, PriorityKeyIsInverted) {
  PolicyParams high;
  high.priority = 9;
  PolicyParams low;
  low.priority = 5;
  EXPECT_LT(ordered_key(make_policy_state(PolicyType::kPriority, high)),
            ordered_key(make_policy_state(PolicyType::kPriority, low)));
}

TEST(PolicyStateTest, RandomizedLeastUsedValueIsAtLeastOne) {
  PolicyParams p;
  p.load = kPolicyValueMax;
  EXPECT_EQ(random_value(PolicyType::kRandomizedLeastUsed, make_policy_state(PolicyType::kRandomizedLeastUsed, p)), 1u);
  p.load = 0;
  EXPECT_EQ(random_value(PolicyType::kRandomizedLeastUsed, make_policy_state(PolicyType::kRandomizedLeastUsed, p)),
            kPolicyValueMax);
  p.load = 100;
  p.load_degradation = 50;
  EXPECT_EQ(random_value(PolicyType::kRandomizedPriorityLeastUsed,
                         make_policy_state(PolicyType::kRandomizedPriorityLeastUsed, p)),
            kPolicyValueMax - 150);
}

TEST(PolicyStateTest, WeightedRandomDpfFormula) {
  PolicyParams p;
  p.weight = 1000;
  EXPECT_EQ(weighted_random_dpf_value(p), 1000u);  // no distance
  p.distance_ms = 100;
  p.weight_dpf = kPolicyValueMax / 200;  // 0.5 % per ms -> 50 % off
  EXPECT_EQ(weighted_random_dpf_value(p), 500u);
  p.distance_ms = 1000;  // 500 % off: negative -> 1
  EXPECT_EQ(weighted_random_dpf_value(p), 1u);
  p.distance_ms = 200;  // exactly 100 % off -> 0, never chosen
  EXPECT_EQ(weighted_random_dpf_value(p), 0u);
  p.weight = 0;
  EXPECT_EQ(weighted_random_dpf_value(p), 0u);
  p.weight = 0xFFFFFFFFu;
  p.distance_ms = 0xFFFFFFFFu;
  p.weight_dpf = 0xFFFFFFFFu;  // no overflow
  EXPECT_EQ(weighted_random_dpf_value(p), 1u);
}

}  // namespace
}  // namespace poolreg::policy
