#include "registrar/common/ip_address.hpp"

#include <gtest/gtest.h>

namespace poolreg {
namespace {

TEST(IpAddress, ParsesAndPrints) {
  auto v4 = IpAddress::parse("10.1.1.1");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->to_string(), "10.1.1.1");
  EXPECT_EQ(*v4, IpAddress::v4(0x0a010101));
  auto v6 = IpAddress::parse("fe80::1");
  ASSERT_TRUE(v6);
  EXPECT_FALSE(v6->is_v4());
  EXPECT_TRUE(v6->is_link_local());
  EXPECT_FALSE(IpAddress::parse("10.1.1"));
  EXPECT_FALSE(IpAddress::parse("not an address at all, and far too long to be one"));
}

TEST(IpAddress, Scopes) {
  EXPECT_TRUE(IpAddress::parse("127.0.0.1")->is_loopback());
  EXPECT_TRUE(IpAddress::parse("::1")->is_loopback());
  EXPECT_TRUE(IpAddress::parse("169.254.3.4")->is_link_local());
  EXPECT_TRUE(IpAddress::parse("239.0.0.50")->is_multicast());
  EXPECT_FALSE(IpAddress::parse("10.0.0.1")->is_multicast());
  EXPECT_FALSE(IpAddress::v4(0x0a000001) == *IpAddress::parse("::a00:1"));
}

}  // namespace
}  // namespace poolreg
