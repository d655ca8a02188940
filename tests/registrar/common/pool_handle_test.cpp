#include "registrar/common/pool_handle.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace poolreg {
namespace {

TEST(PoolHandle, RejectsEmptyAndOversized) {
  EXPECT_FALSE(PoolHandle::from_string(""));
  std::vector<std::uint8_t> big(kPoolHandleCapacity + 1, 'x');
  EXPECT_FALSE(PoolHandle::from_bytes(big));
  big.pop_back();
  EXPECT_TRUE(PoolHandle::from_bytes(big));
}

TEST(PoolHandle, DisplaysTextOrHex) {
  EXPECT_EQ(PoolHandle::from_string("EchoPool")->to_display(), "EchoPool");
  const std::uint8_t raw[] = {0x00, 0xff, 0x41};
  EXPECT_EQ(PoolHandle::from_bytes(raw)->to_display(), "0x00ff41");
}

TEST(PoolHandle, EqualityOrderAndHash) {
  auto a = *PoolHandle::from_string("Pool1");
  auto b = *PoolHandle::from_string("Pool2");
  auto a2 = *PoolHandle::from_string("Pool1");
  EXPECT_EQ(a, a2);
  EXPECT_NE(a, b);
  EXPECT_TRUE(a < b);
  EXPECT_FALSE(b < a);
  EXPECT_EQ(a.hash(), a2.hash());
  EXPECT_NE(a.hash(), b.hash());
  // A prefix sorts first.
  EXPECT_TRUE(*PoolHandle::from_string("Pool") < a);
}

}  // namespace
}  // namespace poolreg
