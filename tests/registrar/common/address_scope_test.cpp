// Tests registrar/common/address_scope.hpp: classification (ASAP-REG-06's PE address filter and
// the configuration's asap.listen check use the same one) and the configuration names.
#include "registrar/common/address_scope.hpp"

#include <gtest/gtest.h>

namespace poolreg {
namespace {

AddressScope scope(const char* text) { return address_scope(*IpAddress::parse(text)); }

TEST(AddressScopeTest, Classification_ASAP_REG_06) {
  EXPECT_EQ(scope("127.0.0.1"), AddressScope::kLoopback);
  EXPECT_EQ(scope("::1"), AddressScope::kLoopback);
  EXPECT_EQ(scope("::ffff:127.0.0.1"), AddressScope::kLoopback);
  EXPECT_EQ(scope("169.254.3.4"), AddressScope::kLinkLocal);
  EXPECT_EQ(scope("fe80::1"), AddressScope::kLinkLocal);
  EXPECT_EQ(scope("10.1.1.1"), AddressScope::kSiteLocal);
  EXPECT_EQ(scope("172.20.0.1"), AddressScope::kSiteLocal);
  EXPECT_EQ(scope("172.31.0.1"), AddressScope::kSiteLocal);
  EXPECT_EQ(scope("192.168.9.9"), AddressScope::kSiteLocal);
  EXPECT_EQ(scope("fd00::1"), AddressScope::kSiteLocal);
  EXPECT_EQ(scope("fec0::1"), AddressScope::kSiteLocal);
  EXPECT_EQ(scope("172.32.0.1"), AddressScope::kGlobal);
  EXPECT_EQ(scope("8.8.8.8"), AddressScope::kGlobal);
  EXPECT_EQ(scope("2001:db8::1"), AddressScope::kGlobal);
  EXPECT_EQ(scope("0.0.0.0"), AddressScope::kInvalid);
  EXPECT_EQ(scope("239.0.0.50"), AddressScope::kInvalid);
  EXPECT_EQ(scope("::"), AddressScope::kInvalid);
  EXPECT_EQ(scope("ff02::1"), AddressScope::kInvalid);
}

TEST(AddressScopeTest, OrderedNarrowestFirst) {
  EXPECT_LT(AddressScope::kInvalid, AddressScope::kLoopback);
  for (std::size_t i = 1; i < kUsableAddressScopes.size(); ++i)
    EXPECT_LT(kUsableAddressScopes[i - 1], kUsableAddressScopes[i]);
}

TEST(AddressScopeTest, NamesRoundTrip) {
  for (AddressScope s : kUsableAddressScopes)
    EXPECT_EQ(address_scope_from_name(to_string(s)), s) << to_string(s);
  EXPECT_STREQ(to_string(AddressScope::kSiteLocal), "site-local");
  EXPECT_FALSE(address_scope_from_name("invalid").has_value());
  EXPECT_FALSE(address_scope_from_name("galaxy").has_value());
}

}  // namespace
}  // namespace poolreg
