// RFC 8653 address types at the home registrar (issue 14 item 5): a next-gen PE's types are
// stored, resolutions list its addresses by stability, a move keeps a Graceful-Replacement
// address (listed last, after the address check) until its lifetime ends, and an RFC-mode
// registrar ignores the types.
#include <gtest/gtest.h>

#include "tests/registrar/asap/asap_test_support.hpp"

namespace poolreg::asap {
namespace {

using namespace testing;  // NOLINT

constexpr std::uint32_t kCaps = 0x01;

AddressTypeEntry entry(AddressType type, std::uint32_t lifetime_ms = 0) {
  AddressTypeEntry e;
  e.type = type;
  e.lifetime_ms = lifetime_ms;
  return e;
}

class AsapAddressTypesTest : public AsapServerTest {
 protected:
  AsapAddressTypesTest() {
    config_.next_gen = true;
    config_.ng_capabilities = kCaps;
  }
  void register_ng(ConnectionId c, const PoolElement& pe) {
    deliver(c, registration("P", pe, kCaps));
    ASSERT_FALSE(out_.last_as<wire::RegistrationResponse>().rejected);
  }
  // What a next-gen PU gets for the pool's one PE.
  PoolElement resolve_ng() {
    wire::HandleResolution hr;
    hr.pool_handle = handle("P");
    hr.ng_capabilities = kCaps;
    deliver(77, encode_message(hr, true));
    auto r = wire::decode_asap(out_.sent.back().bytes, wire::WireOptions{.next_gen = true});
    EXPECT_TRUE(r.has_value());
    if (!r.has_value()) return {};
    const auto& hrr = std::get<wire::HandleResolutionResponse>(r.value());
    EXPECT_EQ(hrr.elements.size(), 1u);
    return hrr.elements.empty() ? PoolElement{} : hrr.elements.front();
  }
};

TEST_F(AsapAddressTypesTest, ResolutionListsAddressesByStability) {
  connect_pe(1);
  PoolElement pe = make_pe(5, {kPeAddr1, kPeAddr2, kPeAddr3});
  pe.address_types = {entry(AddressType::kNonpersistent), entry(AddressType::kGracefulReplacement, 3000),
                      entry(AddressType::kFixed)};
  register_ng(1, pe);
  const PoolElement got = resolve_ng();
  EXPECT_EQ(got.user_transport.addresses, (std::vector<IpAddress>{kPeAddr3, kPeAddr2, kPeAddr1}));
  ASSERT_EQ(got.address_types.size(), 3u);
  EXPECT_EQ(got.address_types[0].type, AddressType::kFixed);
  EXPECT_EQ(got.address_types[1].lifetime_ms, 3000u);
  // An RFC PU gets the same order, without the TLV.
  const auto rfc = [&] {
    deliver(78, handle_resolution("P"));
    return out_.last_as<wire::HandleResolutionResponse>();
  }();
  ASSERT_EQ(rfc.elements.size(), 1u);
  EXPECT_EQ(rfc.elements[0].user_transport.addresses, got.user_transport.addresses);
  EXPECT_TRUE(rfc.elements[0].address_types.empty());
}

TEST_F(AsapAddressTypesTest, MoveKeepsGracefulAddressLastUntilItsLifetimeEnds) {
  connect_pe(1);
  PoolElement pe = make_pe(5, {kPeAddr1, kPeAddr2});
  pe.address_types = {entry(AddressType::kGracefulReplacement, 2000), entry(AddressType::kNonpersistent)};
  register_ng(1, pe);
  // The move: a new set without either old address.
  PoolElement moved = make_pe(5, {kPeAddr3});
  moved.address_types = {entry(AddressType::kNonpersistent)};
  register_ng(1, moved);
  EXPECT_EQ(server().counters().graceful_addresses_kept, 1u);
  PoolElement got = resolve_ng();
  EXPECT_EQ(got.user_transport.addresses, (std::vector<IpAddress>{kPeAddr3, kPeAddr1}));
  ASSERT_EQ(got.address_types.size(), 2u);
  EXPECT_TRUE(got.address_types[1].retiring);
  // ENRP hears the kept address with its retire time.
  ASSERT_FALSE(enrp_.added.empty());
  const PoolElement& told = enrp_.added.back().second;
  ASSERT_EQ(told.address_types.size(), 2u);
  EXPECT_EQ(told.address_types[1].retire_at, clock_.now() + 2000 * kNsPerMs);

  clock_.advance(1999 * kNsPerMs);
  EXPECT_EQ(hs_.retire_due(clock_.now()), 0u);
  EXPECT_EQ(resolve_ng().user_transport.addresses.size(), 2u);
  clock_.advance(1 * kNsPerMs);
  EXPECT_EQ(hs_.retire_due(clock_.now()), 1u);
  EXPECT_EQ(resolve_ng().user_transport.addresses, (std::vector<IpAddress>{kPeAddr3}));
}

TEST_F(AsapAddressTypesTest, AddressCheckStillAppliesToTheNewSet) {
  connect_pe(1, {kPeAddr1, kPeAddr2});
  PoolElement pe = make_pe(5, {kPeAddr1});
  pe.address_types = {entry(AddressType::kGracefulReplacement, 2000)};
  register_ng(1, pe);
  // kPeAddr3 is not the association's: filtered; kPeAddr2 stays; kPeAddr1 is kept retiring.
  PoolElement moved = make_pe(5, {kPeAddr2, kPeAddr3});
  moved.address_types = {entry(AddressType::kFixed), entry(AddressType::kFixed)};
  register_ng(1, moved);
  const auto stored = lookup("P", 5);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->user_transport.addresses, (std::vector<IpAddress>{kPeAddr2, kPeAddr1}));
}

TEST_F(AsapAddressTypesTest, PeCannotClaimRetiringAndRfcModeIgnoresTypes) {
  connect_pe(1);
  PoolElement pe = make_pe(5, {kPeAddr1, kPeAddr2});
  pe.address_types = {entry(AddressType::kFixed), entry(AddressType::kGracefulReplacement, 100)};
  pe.address_types[1].retiring = true;
  register_ng(1, pe);
  auto stored = lookup("P", 5);
  ASSERT_TRUE(stored.has_value());
  ASSERT_EQ(stored->address_types.size(), 2u);
  EXPECT_FALSE(stored->address_types[1].retiring);

  config_.next_gen = false;
  server_.reset();
  connect_pe(2);
  PoolElement other = make_pe(6, {kPeAddr1, kPeAddr2});
  other.address_types = {entry(AddressType::kNonpersistent), entry(AddressType::kFixed)};
  deliver(2, registration("P", other, kCaps));
  ASSERT_FALSE(out_.last_as<wire::RegistrationResponse>().rejected);
  stored = lookup("P", 6);
  ASSERT_TRUE(stored.has_value());
  EXPECT_TRUE(stored->address_types.empty());
  EXPECT_EQ(stored->user_transport.addresses, (std::vector<IpAddress>{kPeAddr1, kPeAddr2}));
}

}  // namespace
}  // namespace poolreg::asap
