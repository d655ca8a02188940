// RFC 8653 address types in the handlespace: stored in stability order, kept in the record only
// by PEs that have them (an untyped PE's record does not grow), retiring addresses dropped by
// retire_due() at their time with owner, expiry, sequence and checksums unchanged.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "registrar/common/clock.hpp"
#include "registrar/handlespace/handlespace.hpp"
#include "tests/registrar/handlespace/handlespace_test_support.hpp"

namespace poolreg::handlespace {
namespace {

using testing::handle;
using testing::make_pe;

AddressTypeEntry entry(AddressType type, std::uint32_t lifetime_ms = 0) {
  AddressTypeEntry e;
  e.type = type;
  e.lifetime_ms = lifetime_ms;
  return e;
}

AddressTypeEntry retiring(TimeNs at) {
  AddressTypeEntry e;
  e.type = AddressType::kGracefulReplacement;
  e.retiring = true;
  e.retire_at = at;
  return e;
}

// Addresses 10.0.0.1 .. 10.0.0.n with the given types.
PoolElement typed(PoolElementId id, const std::vector<AddressTypeEntry>& types) {
  PoolElement pe = make_pe(id, 100);
  pe.user_transport.addresses.clear();
  for (std::uint32_t i = 0; i < types.size(); ++i) pe.user_transport.addresses.push_back(IpAddress::v4(0x0a000001 + i));
  pe.address_types = types;
  return pe;
}

class AddressTypesTest : public ::testing::Test {
 protected:
  AddressTypesTest() : hs_(HandlespaceConfig{}, domain_), reader_(domain_, 7) { reader_.online(); }
  ~AddressTypesTest() override { reader_.offline(); }

  PoolElement lookup(PoolElementId id) {
    PoolElement out;
    EXPECT_TRUE(hs_.lookup(handle("P"), id, [&](const PoolElementView& v) { out = v.to_pool_element(); }));
    return out;
  }
  std::vector<IpAddress> resolved_addresses() {
    std::vector<IpAddress> out;
    hs_.resolve(handle("P"), 1, reader_, [&](const PoolElementView& v) {
      for (IpAddress a : v.user_addresses()) out.push_back(a);
    });
    reader_.quiescent();
    return out;
  }

  QsbrDomain domain_{8};
  Handlespace hs_;
  ReaderContext reader_;
};

TEST_F(AddressTypesTest, StoredInStabilityOrder) {
  // Registered as: nonpersistent .1, graceful .2, session .3, fixed .4, unspecified .5.
  const PoolElement pe = typed(1, {entry(AddressType::kNonpersistent), entry(AddressType::kGracefulReplacement, 9000),
                                   entry(AddressType::kSessionLasting), entry(AddressType::kFixed),
                                   entry(AddressType::kUnspecified)});
  ASSERT_TRUE(hs_.register_pe(handle("P"), pe).has_value());
  const std::vector<IpAddress> want = {IpAddress::v4(0x0a000004), IpAddress::v4(0x0a000003), IpAddress::v4(0x0a000002),
                                       IpAddress::v4(0x0a000005), IpAddress::v4(0x0a000001)};
  EXPECT_EQ(resolved_addresses(), want);
  const PoolElement stored = lookup(1);
  EXPECT_EQ(stored.user_transport.addresses, want);
  ASSERT_EQ(stored.address_types.size(), 5u);
  EXPECT_EQ(stored.address_types[0].type, AddressType::kFixed);
  EXPECT_EQ(stored.address_types[2].type, AddressType::kGracefulReplacement);
  EXPECT_EQ(stored.address_types[2].lifetime_ms, 9000u);
  EXPECT_EQ(stored.address_types[4].type, AddressType::kNonpersistent);
}

TEST_F(AddressTypesTest, UntypedRecordDoesNotGrow) {
  const PoolElement plain = make_pe(1, 100);
  PoolElement same = plain;
  same.address_types = {};
  EXPECT_EQ(PoolElementRecord::allocation_size(plain), PoolElementRecord::allocation_size(same));
  // sizeof header 32 + one IPv4 address: as before the feature.
  EXPECT_EQ(PoolElementRecord::allocation_size(plain), 32u + 4u);
  // A typed one pays a family/type byte per address and 8 bytes per graceful address.
  PoolElement g = plain;
  g.address_types = {entry(AddressType::kGracefulReplacement, 1000)};
  EXPECT_EQ(PoolElementRecord::allocation_size(g), 32u + 4u + 1u + 8u);
  ASSERT_TRUE(hs_.register_pe(handle("P"), plain).has_value());
  EXPECT_TRUE(lookup(1).address_types.empty());
}

TEST_F(AddressTypesTest, RetiringAddressListedLastAndDroppedAtItsTime) {
  const TimeNs t0 = 1'000 * kNsPerMs;
  PoolElement pe = typed(1, {entry(AddressType::kNonpersistent), retiring(t0 + 500 * kNsPerMs),
                             entry(AddressType::kFixed)});
  RegistrationOptions o;
  o.expires_at = t0 + 30'000 * kNsPerMs;
  ASSERT_TRUE(hs_.register_pe(handle("P"), pe, o).has_value());
  const auto cks = hs_.checksum32(100);
  EXPECT_EQ(resolved_addresses(),
            (std::vector<IpAddress>{IpAddress::v4(0x0a000003), IpAddress::v4(0x0a000001), IpAddress::v4(0x0a000002)}));
  ASSERT_TRUE(hs_.next_retirement().has_value());
  EXPECT_EQ(*hs_.next_retirement(), t0 + 500 * kNsPerMs);

  EXPECT_EQ(hs_.retire_due(t0 + 499 * kNsPerMs), 0u);
  EXPECT_EQ(lookup(1).user_transport.addresses.size(), 3u);
  EXPECT_EQ(hs_.retire_due(t0 + 500 * kNsPerMs), 1u);
  const PoolElement after = lookup(1);
  EXPECT_EQ(after.user_transport.addresses,
            (std::vector<IpAddress>{IpAddress::v4(0x0a000003), IpAddress::v4(0x0a000001)}));
  EXPECT_FALSE(hs_.next_retirement().has_value());
  EXPECT_EQ(hs_.checksum32(100), cks);
  // The registration life is untouched: it still expires at t0 + 30 s, not before.
  EXPECT_EQ(hs_.expire_due(t0 + 29'999 * kNsPerMs, [](const RemovedPe&) {}), 0u);
  EXPECT_EQ(hs_.expire_due(t0 + 30'000 * kNsPerMs, [](const RemovedPe&) {}), 1u);
}

TEST_F(AddressTypesTest, EarlierDeadlineOnReRegistrationIsHonoured) {
  const TimeNs t0 = 1'000 * kNsPerMs;
  ASSERT_TRUE(hs_.register_pe(handle("P"), typed(1, {entry(AddressType::kFixed), retiring(t0 + 900 * kNsPerMs)})).has_value());
  // A later move keeps another address with an earlier end.
  ASSERT_TRUE(hs_.register_pe(handle("P"), typed(1, {entry(AddressType::kFixed), retiring(t0 + 900 * kNsPerMs),
                                                     retiring(t0 + 100 * kNsPerMs)}))
                  .has_value());
  EXPECT_EQ(hs_.retire_due(t0 + 100 * kNsPerMs), 1u);
  EXPECT_EQ(lookup(1).user_transport.addresses.size(), 2u);
  EXPECT_EQ(hs_.retire_due(t0 + 900 * kNsPerMs), 1u);
  EXPECT_EQ(lookup(1).user_transport.addresses.size(), 1u);
}

TEST_F(AddressTypesTest, RemovedPeLeavesAStaleEntryThatFindsNothing) {
  const TimeNs t0 = 1'000 * kNsPerMs;
  ASSERT_TRUE(hs_.register_pe(handle("P"), typed(1, {entry(AddressType::kFixed), retiring(t0)})).has_value());
  ASSERT_TRUE(hs_.register_pe(handle("P"), make_pe(2, 100)).has_value());
  EXPECT_TRUE(hs_.remove(handle("P"), 1));
  EXPECT_EQ(hs_.retire_due(t0), 0u);
  EXPECT_FALSE(hs_.next_retirement().has_value());
}

}  // namespace
}  // namespace poolreg::handlespace
