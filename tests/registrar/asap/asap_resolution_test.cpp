// AsapServer: handle resolution (ASAP-HR-*, NG-HRO-01, SEC-01).
#include <gtest/gtest.h>

#include <set>

#include "tests/registrar/asap/asap_test_support.hpp"

namespace poolreg::asap::testing {
namespace {

class AsapResolutionTest : public AsapServerTest {
 protected:
  void fill_pool(const std::string& pool, int n) {
    connect_pe(1);
    for (int i = 1; i <= n; ++i) register_ok(1, pool, make_pe(static_cast<PoolElementId>(i)));
  }
};

TEST_F(AsapResolutionTest, UnknownPoolAnsweredWithCause9_ASAP_HR_02) {
  deliver(77, handle_resolution("Nowhere"));
  auto hrr = out_.last_as<wire::HandleResolutionResponse>();
  EXPECT_EQ(hrr.pool_handle, handle("Nowhere"));
  EXPECT_FALSE(hrr.policy.has_value());
  EXPECT_TRUE(hrr.elements.empty());
  EXPECT_EQ(first_cause(hrr.error), ErrorCause::kUnknownPoolHandle);
  EXPECT_EQ(server().counters().resolutions_unknown_pool, 1u);
  EXPECT_EQ(out_.sent.back().connection, 77u);
}

TEST_F(AsapResolutionTest, ItemCountDefaultsAndOption_ASAP_HR_03_NG_HRO_01) {
  fill_pool("Big", 10);
  EXPECT_EQ(resolve_ids("Big").size(), 3u);                     // no HRO: default 3
  EXPECT_EQ(resolve_ids("Big", 0).size(), 3u);                  // HRO 0: default
  EXPECT_EQ(resolve_ids("Big", 5).size(), 5u);                  // HRO 5
  EXPECT_EQ(resolve_ids("Big", wire::kHroItemsMax).size(), 10u);  // as many as possible
  EXPECT_EQ(resolve_ids("Big", 1000).size(), 10u);              // min(n, pool size)
  auto all = resolve_ids("Big", wire::kHroItemsMax);
  EXPECT_EQ(std::set<PoolElementId>(all.begin(), all.end()).size(), 10u);  // ASAP-HR-04
}

TEST_F(AsapResolutionTest, ItemCountCappedByConfiguration_ASAP_HR_03) {
  config_.hr_default_items = 5;
  config_.hr_max_items = 4;
  fill_pool("Big", 10);
  EXPECT_EQ(resolve_ids("Big").size(), 4u);
  EXPECT_EQ(resolve_ids("Big", 2).size(), 2u);
  EXPECT_EQ(resolve_ids("Big", 5).size(), 4u);
  EXPECT_EQ(resolve_ids("Big", wire::kHroItemsMax).size(), 4u);
}

TEST_F(AsapResolutionTest, CapAbove128ClampedToHandlespaceLimit_ASAP_HR_03) {
  config_.hr_max_items = 1000;
  fill_pool("Huge", 130);
  EXPECT_EQ(resolve_ids("Huge", wire::kHroItemsMax).size(), 128u);
}

TEST_F(AsapResolutionTest, OptionIgnoredWhenHroCapabilityOff_NG_HRO_01) {
  config_.ng_capabilities = 0;
  fill_pool("Big", 10);
  EXPECT_EQ(resolve_ids("Big", 7).size(), 3u);
}

TEST_F(AsapResolutionTest, RateLimitAnswersAsUnknownPool_SEC_01) {
  config_.hr_rate_limit = RateLimit{1.0, 2.0};
  fill_pool("R", 2);
  EXPECT_EQ(resolve_ids("R", 0, 77).size(), 2u);
  EXPECT_EQ(resolve_ids("R", 0, 77).size(), 2u);
  deliver(77, handle_resolution("R"));  // third in the same instant: over the burst
  EXPECT_EQ(first_cause(out_.last_as<wire::HandleResolutionResponse>().error), ErrorCause::kUnknownPoolHandle);
  EXPECT_EQ(server().counters().resolutions_rate_limited, 1u);
  EXPECT_EQ(resolve_ids("R", 0, 78).size(), 2u);  // other PU unaffected
  clock_.advance(kNsPerSec);
  EXPECT_EQ(resolve_ids("R", 0, 77).size(), 2u);  // one token back after 1 s
  deliver(77, handle_resolution("R"));
  EXPECT_EQ(first_cause(out_.last_as<wire::HandleResolutionResponse>().error), ErrorCause::kUnknownPoolHandle);
  EXPECT_EQ(server().counters().resolutions_rate_limited, 2u);
}

TEST_F(AsapResolutionTest, AnswerTruncatedToFitOneMessage) {
  config_.address_check = false;
  config_.min_address_scope = AddressScope::kGlobal;
  connect_pe(1);
  std::vector<IpAddress> many;
  for (int i = 0; i < 64; ++i) {
    std::array<std::uint8_t, 16> b{0x20, 0x01, 0x0d, 0xb8};
    b[15] = static_cast<std::uint8_t>(i + 1);
    many.push_back(IpAddress::v6(b));
  }
  for (int i = 1; i <= 60; ++i) register_ok(1, "Wide", make_pe(static_cast<PoolElementId>(i), many));
  deliver(77, handle_resolution("Wide", wire::kHroItemsMax));
  ASSERT_LE(out_.sent.back().bytes.size(), 65535u);
  auto hrr = out_.last_as<wire::HandleResolutionResponse>();
  EXPECT_GT(hrr.elements.size(), 10u);
  EXPECT_LT(hrr.elements.size(), 60u);
  for (const auto& pe : hrr.elements) EXPECT_EQ(pe.user_transport.addresses.size(), 64u);
  EXPECT_EQ(server().counters().resolutions_truncated, 1u);
}

TEST_F(AsapResolutionTest, OperatorResolveUsesPolicyPath) {
  fill_pool("Op", 5);
  auto r = server().operator_resolve(handle("Op"), 2);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->size(), 2u);
  EXPECT_FALSE(server().operator_resolve(handle("Missing")).has_value());
}

TEST_F(AsapResolutionTest, NextGenPuGetsDecodableAnswer_NG_ID64_01) {
  config_.next_gen = true;
  fill_pool("NG", 3);
  wire::HandleResolution m;
  m.pool_handle = handle("NG");
  m.ng_capabilities = wire::kNgCapId64;
  deliver(77, encode_message(m, true));
  EXPECT_EQ(out_.last_as<wire::HandleResolutionResponse>().elements.size(), 3u);
}

}  // namespace
}  // namespace poolreg::asap::testing
