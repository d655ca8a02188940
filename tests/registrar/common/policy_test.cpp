#include "registrar/common/policy.hpp"

#include <gtest/gtest.h>

namespace poolreg {
namespace {

TEST(Policy, WireCodesRoundTrip) {
  for (std::uint32_t code : {0x1u, 0x2u, 0x3u, 0x4u, 0x5u, 0x40000001u, 0x40000004u, 0xb0001004u, 0xb0002003u}) {
    auto t = policy_type_from_wire(code);
    ASSERT_TRUE(t) << std::hex << code;
    EXPECT_EQ(static_cast<std::uint32_t>(*t), code);
  }
  EXPECT_FALSE(policy_type_from_wire(0x99));
  EXPECT_FALSE(policy_type_from_wire(0));
  // PLU-DPF and PLUD-DPF select but have no wire codec (as in RSPLIB).
  EXPECT_FALSE(policy_type_from_wire(0xb0002004));
  EXPECT_FALSE(policy_has_wire_codec(PolicyType::kPriorityLeastUsedDegradationDpf));
}

TEST(Policy, NamesAreCaseInsensitive) {
  EXPECT_EQ(policy_from_name("rr"), PolicyType::kRoundRobin);
  EXPECT_EQ(policy_from_name("LeastUsedDegradation"), PolicyType::kLeastUsedDegradation);
  EXPECT_EQ(policy_from_name("wrand-dpf"), PolicyType::kWeightedRandomDpf);
  EXPECT_FALSE(policy_from_name("fastest"));
  EXPECT_EQ(policy_short_name(PolicyType::kLeastUsed), "LU");
}

}  // namespace
}  // namespace poolreg
