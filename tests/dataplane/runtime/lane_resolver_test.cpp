// LaneResolver (Handle Resolutions answered on a lane) against a real handlespace, with
// Handle Resolutions encoded by the codec: the answer decodes to the pool's PEs (HRO honoured),
// unknown pools and rate-limited requests get cause 0x9, answers are truncated to max_message,
// and everything it must not answer (other types, decode errors, parameters to report) is left
// to the control thread. The lane counters follow every outcome.
#include "dataplane/runtime/lane_resolver.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "registrar/wire/asap_codec.hpp"
#include "registrar/wire/wire_constants.hpp"

namespace poolreg::runtime {
namespace {

PoolHandle handle(const char* name) { return *PoolHandle::from_string(name); }

PoolElement make_pe(PoolElementId id, std::size_t addresses = 1) {
  PoolElement pe;
  pe.id = id;
  pe.home_registrar = 0x1234;
  pe.registration_life_ms = 30000;
  pe.user_transport.protocol = TransportProtocol::kSctp;
  pe.user_transport.port = 7000;
  for (std::size_t i = 0; i < addresses; ++i)
    pe.user_transport.addresses.push_back(IpAddress::v4(0x0a000000u + static_cast<std::uint32_t>(id * 256 + i + 1)));
  pe.policy.type = PolicyType::kRoundRobin;
  return pe;
}

std::vector<std::uint8_t> hr_bytes(const char* pool, std::optional<std::uint32_t> items = std::nullopt) {
  wire::HandleResolution m;
  m.pool_handle = handle(pool);
  m.items = items;
  std::vector<std::uint8_t> out;
  EXPECT_TRUE(wire::encode(m, wire::WireOptions{}, wire::ByteSink(out)).ok());
  return out;
}

wire::HandleResolutionResponse decode_answer(std::span<const std::uint8_t> bytes) {
  auto r = wire::decode_asap(bytes);
  EXPECT_TRUE(r.has_value());
  if (!r.has_value()) return {};
  const auto* hrr = std::get_if<wire::HandleResolutionResponse>(&r.value());
  EXPECT_NE(hrr, nullptr);
  return hrr != nullptr ? *hrr : wire::HandleResolutionResponse{};
}

class LaneResolverTest : public ::testing::Test {
 protected:
  LaneResolverTest() : hs_(handlespace::HandlespaceConfig{}, domain_) {
    config_.registrar_id = 0x1234;
  }
  LaneResolver& resolver() {
    if (!resolver_) {
      resolver_ = std::make_unique<LaneResolver>(hs_, domain_, config_, counters_, clock_, 7);
      resolver_->online();
    }
    return *resolver_;
  }
  void fill(const char* pool, int n, std::size_t addresses = 1) {
    for (int i = 1; i <= n; ++i)
      ASSERT_TRUE(
          hs_.register_pe(handle(pool), make_pe(static_cast<PoolElementId>(i), addresses)).has_value());
  }
  std::vector<std::uint8_t> answer(ConnectionId id, const std::vector<std::uint8_t>& request) {
    const auto a = resolver().answer(id, request);
    resolver().quiescent();
    return {a.begin(), a.end()};
  }
  void TearDown() override {
    if (resolver_) resolver_->offline();
  }

  handlespace::QsbrDomain domain_{4};
  handlespace::Handlespace hs_;
  asap::AsapConfig config_;
  LaneCounters counters_;
  ManualClock clock_{1'000'000'000};
  std::unique_ptr<LaneResolver> resolver_;
};

TEST_F(LaneResolverTest, AnswersWithThePoolsElementsAndHonoursTheItemOption) {
  fill("Pool", 5);
  const auto bytes = answer(1, hr_bytes("Pool"));
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes[0], static_cast<std::uint8_t>(wire::AsapType::kHandleResolutionResponse));
  auto hrr = decode_answer(bytes);
  EXPECT_EQ(hrr.pool_handle, handle("Pool"));
  EXPECT_FALSE(hrr.error.has_value());
  ASSERT_TRUE(hrr.policy.has_value());
  EXPECT_EQ(hrr.policy->type, PolicyType::kRoundRobin);
  EXPECT_EQ(hrr.elements.size(), 3u);  // hr_default_items
  for (const auto& pe : hrr.elements) {
    EXPECT_EQ(pe.user_transport.port, 7000);
    EXPECT_EQ(pe.user_transport.addresses, make_pe(pe.id).user_transport.addresses);
  }

  hrr = decode_answer(answer(1, hr_bytes("Pool", wire::kHroItemsMax)));
  std::vector<PoolElementId> ids;
  for (const auto& pe : hrr.elements) ids.push_back(pe.id);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<PoolElementId>{1, 2, 3, 4, 5}));
  EXPECT_EQ(counters_.resolutions_answered.get(), 2u);
  EXPECT_EQ(counters_.resolution_pes_returned.get(), 8u);
  EXPECT_EQ(counters_.resolutions_unknown_pool.get(), 0u);
}

TEST_F(LaneResolverTest, UnknownPoolIsAnsweredWithCause9) {
  auto hrr = decode_answer(answer(1, hr_bytes("Nowhere")));
  EXPECT_EQ(hrr.pool_handle, handle("Nowhere"));
  EXPECT_TRUE(hrr.elements.empty());
  ASSERT_TRUE(hrr.error.has_value());
  ASSERT_EQ(hrr.error->causes.size(), 1u);
  EXPECT_EQ(hrr.error->causes[0].code, static_cast<std::uint16_t>(ErrorCause::kUnknownPoolHandle));
  EXPECT_EQ(counters_.resolutions_unknown_pool.get(), 1u);
  EXPECT_EQ(counters_.resolutions_answered.get(), 0u);
}

TEST_F(LaneResolverTest, RateLimitPerAssociationAnswersExcessAsUnknownPool) {
  config_.hr_rate_limit = {1.0, 2.0};  // 1/s, burst 2
  fill("Pool", 2);
  EXPECT_FALSE(decode_answer(answer(1, hr_bytes("Pool"))).error.has_value());
  EXPECT_FALSE(decode_answer(answer(1, hr_bytes("Pool"))).error.has_value());
  auto limited = decode_answer(answer(1, hr_bytes("Pool")));
  ASSERT_TRUE(limited.error.has_value());
  EXPECT_EQ(limited.error->causes[0].code, static_cast<std::uint16_t>(ErrorCause::kUnknownPoolHandle));
  EXPECT_TRUE(limited.elements.empty());
  EXPECT_EQ(counters_.resolutions_rate_limited.get(), 1u);
  // Another association has its own bucket; one second refills one token.
  EXPECT_FALSE(decode_answer(answer(2, hr_bytes("Pool"))).error.has_value());
  clock_.advance(kNsPerSec);
  EXPECT_FALSE(decode_answer(answer(1, hr_bytes("Pool"))).error.has_value());
  EXPECT_TRUE(decode_answer(answer(1, hr_bytes("Pool"))).error.has_value());
  EXPECT_EQ(resolver().rate_limited_associations(), 2u);
  // A closed association's bucket goes with it.
  resolver().forget(1);
  EXPECT_EQ(resolver().rate_limited_associations(), 1u);
  EXPECT_EQ(counters_.resolutions_rate_limited.get(), 2u);
  EXPECT_EQ(counters_.resolutions_answered.get(), 4u);
}

TEST_F(LaneResolverTest, TruncatesToMaxMessage) {
  config_.max_message = 400;
  fill("Wide", 10, 8);
  const auto bytes = answer(1, hr_bytes("Wide", wire::kHroItemsMax));
  ASSERT_FALSE(bytes.empty());
  EXPECT_LE(bytes.size(), 400u);
  const auto hrr = decode_answer(bytes);
  EXPECT_GE(hrr.elements.size(), 1u);
  EXPECT_LT(hrr.elements.size(), 10u);
  EXPECT_EQ(counters_.resolutions_truncated.get(), 1u);
}

TEST_F(LaneResolverTest, LeavesEverythingElseToTheControlLcore) {
  fill("Pool", 1);
  // Another message type: not even looked at (not counted as forwarded resolution).
  std::vector<std::uint8_t> other = hr_bytes("Pool");
  other[0] = static_cast<std::uint8_t>(wire::AsapType::kDeregistration);
  EXPECT_TRUE(answer(1, other).empty());
  EXPECT_TRUE(answer(1, {}).empty());
  EXPECT_EQ(counters_.resolutions_forwarded.get(), 0u);
  // Decode errors: header only (no pool handle), Length beyond the bytes.
  EXPECT_TRUE(answer(1, {0x05, 0x00, 0x00, 0x04}).empty());
  std::vector<std::uint8_t> bad_length = hr_bytes("Pool");
  bad_length[3] = static_cast<std::uint8_t>(bad_length[3] + 8);
  EXPECT_TRUE(answer(1, bad_length).empty());
  // An unknown "skip and report" parameter (type 0b11...): AsapServer answers and sends the report.
  std::vector<std::uint8_t> report = hr_bytes("Pool");
  for (std::uint8_t b : {0xc1, 0x23, 0x00, 0x08, 0x01, 0x02, 0x03, 0x04}) report.push_back(b);
  const std::size_t length = report.size();
  report[2] = static_cast<std::uint8_t>(length >> 8);
  report[3] = static_cast<std::uint8_t>(length);
  ASSERT_TRUE(wire::decode_handle_resolution(report).has_value());  // well formed, with a report
  EXPECT_TRUE(answer(1, report).empty());
  EXPECT_EQ(counters_.resolutions_forwarded.get(), 3u);
  EXPECT_EQ(counters_.resolutions_answered.get(), 0u);
  // A plain one right after is answered here.
  EXPECT_FALSE(answer(1, hr_bytes("Pool")).empty());
}

}  // namespace
}  // namespace poolreg::runtime
