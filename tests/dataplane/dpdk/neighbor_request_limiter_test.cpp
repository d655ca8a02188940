// NeighborRequestLimiter (dataplane/dpdk/neighbor_request_limiter.hpp): one request per next hop
// and interval, families kept apart, bounded slots (the oldest is reused). Time is given by the
// test (no clock, no sleep). Built into the dpdk_route_table test (pure, no EAL).
#include <gtest/gtest.h>

#include "dataplane/dpdk/neighbor_request_limiter.hpp"

namespace poolreg::dpdk {
namespace {

TEST(NeighborRequestLimiterTest, OneRequestPerNextHopAndInterval) {
  NeighborRequestLimiter limiter(1000);
  const std::uint8_t gateway[16] = {10, 0, 0, 254};
  const std::uint8_t other[16] = {10, 0, 0, 253};
  EXPECT_TRUE(limiter.allow(gateway, false, 5000));
  EXPECT_FALSE(limiter.allow(gateway, false, 5001));
  EXPECT_FALSE(limiter.allow(gateway, false, 5999));
  EXPECT_TRUE(limiter.allow(other, false, 5999));  // another next hop
  EXPECT_TRUE(limiter.allow(gateway, true, 5999));  // the same bytes as IPv6: another key
  EXPECT_TRUE(limiter.allow(gateway, false, 6000));  // the interval passed
  EXPECT_FALSE(limiter.allow(gateway, false, 6500));
}

TEST(NeighborRequestLimiterTest, BoundedSlotsForgetTheOldest) {
  NeighborRequestLimiter limiter(1000);
  std::uint8_t hop[16] = {192, 0, 2, 0};
  for (unsigned i = 0; i <= NeighborRequestLimiter::kSlots; ++i) {  // one more than there are slots
    hop[3] = static_cast<std::uint8_t>(i);
    EXPECT_TRUE(limiter.allow(hop, false, 100 + i));
  }
  hop[3] = 0;  // the oldest: its slot was reused, so it may be asked again
  EXPECT_TRUE(limiter.allow(hop, false, 200));
  hop[3] = static_cast<std::uint8_t>(NeighborRequestLimiter::kSlots);  // the newest is remembered
  EXPECT_FALSE(limiter.allow(hop, false, 200));
}

TEST(NeighborRequestLimiterTest, ZeroIntervalNeverSuppresses) {
  NeighborRequestLimiter limiter;
  const std::uint8_t hop[16] = {1, 2, 3, 4};
  EXPECT_TRUE(limiter.allow(hop, false, 7));
  EXPECT_TRUE(limiter.allow(hop, false, 7));
}

}  // namespace
}  // namespace poolreg::dpdk
