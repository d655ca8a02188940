// Removals that hand their visitor a RemovedPeView instead of a RemovedPe copy (issue 16 item 5):
// what the view shows, when it is called (after the PE left every index, before its record is
// retired), that refusals and unknown PEs call nothing, and that copy_to() into reused storage
// equals a fresh copy.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "registrar/handlespace/handlespace.hpp"
#include "tests/registrar/handlespace/handlespace_test_support.hpp"

namespace poolreg::handlespace {
namespace {

using testing::handle;
using testing::make_pe;

// Every field a record keeps: two user addresses (one IPv6), an ASAP transport, policy values.
PoolElement rich_pe(PoolElementId id, RegistrarId home) {
  PoolElement pe = make_pe(id, home);
  pe.user_transport.addresses = {IpAddress::v4(0x0a000001), *IpAddress::parse("2001:db8::7")};
  pe.policy = PolicyParams{PolicyType::kRoundRobin, 1, 2, 3, 4, 5, 6, 7};
  TransportEndpoint asap;
  asap.protocol = TransportProtocol::kSctp;
  asap.port = 3863;
  asap.addresses = {IpAddress::v4(0x7f000001), *IpAddress::parse("::1")};
  pe.asap_transport = asap;
  return pe;
}

class RemovalViewTest : public ::testing::Test {
 protected:
  RemovalViewTest() : hs_(HandlespaceConfig{}, domain_), reader_(domain_, 7) {}

  bool present(const char* pool, PoolElementId id) {
    reader_.online();
    const bool found = hs_.lookup(handle(pool), id, [](const PoolElementView&) {});
    reader_.offline();
    return found;
  }

  QsbrDomain domain_{4};
  Handlespace hs_;
  ReaderContext reader_;  // offline unless a check reads
};

TEST_F(RemovalViewTest, DeregisterShowsThePeAfterItLeftTheIndexesBeforeItsRecordIsRetired) {
  const PoolElement a = rich_pe(1, 100);
  ASSERT_TRUE(hs_.register_pe(handle("p"), a, {.association = 7, .expires_at = 50}).has_value());
  ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(2, 100), {.association = 8}).has_value());
  domain_.reclaim();
  ASSERT_EQ(domain_.pending(), 0u);

  int calls = 0;
  std::size_t pending_inside = 0;
  ASSERT_TRUE(hs_.deregister(handle("p"), 1, [&](const RemovedPeView& r) {
    ++calls;
    EXPECT_EQ(r.handle, handle("p"));
    EXPECT_EQ(r.pe.to_pool_element(), a);
    EXPECT_EQ(r.association, 7u);
    EXPECT_FALSE(r.pool_removed);
    // Already out of every index: lookup, counts, expiry heap and checksums say "removed".
    EXPECT_FALSE(present("p", 1));
    EXPECT_EQ(hs_.counters().pes, 1u);
    EXPECT_EQ(hs_.next_expiry(), std::nullopt);
    EXPECT_EQ(hs_.checksum_accumulator(100), testing::recompute_checksums(hs_).by_owner[100]);
    pending_inside = domain_.pending();  // the record is not retired yet
  }));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(domain_.pending(), pending_inside + 1);  // retired after the visitor

  // The last PE: the pool goes after the visitor, with its record.
  ASSERT_TRUE(hs_.deregister(handle("p"), 2, [&](const RemovedPeView& r) {
    ++calls;
    EXPECT_TRUE(r.pool_removed);
    EXPECT_EQ(r.pe.id(), 2u);
    pending_inside = domain_.pending();
  }));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(domain_.pending(), pending_inside + 2);
  EXPECT_EQ(hs_.counters().pools, 0u);
  EXPECT_FALSE(hs_.deregister(handle("p"), 2, [&](const RemovedPeView&) { ++calls; }));
  EXPECT_EQ(calls, 2);
}

TEST_F(RemovalViewTest, DeregisterFromCallsTheVisitorOnlyForARemoval_SEC_02) {
  ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(1, 100), {.association = 5}).has_value());
  int calls = 0;
  auto count = [&](const RemovedPeView&) { ++calls; };
  auto d = hs_.deregister_from(handle("p"), 1, 6, count);  // bound to another, live association
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().cause, ErrorCause::kNonUniquePeIdentifier);
  EXPECT_TRUE(present("p", 1));
  d = hs_.deregister_from(handle("p"), 2, 5, count);  // unknown PE
  ASSERT_TRUE(d.has_value());
  EXPECT_FALSE(d.value());
  d = hs_.deregister_from(handle("q"), 1, 5, count);  // unknown pool
  ASSERT_TRUE(d.has_value());
  EXPECT_FALSE(d.value());
  EXPECT_EQ(calls, 0);
  d = hs_.deregister_from(handle("p"), 1, 5, [&](const RemovedPeView& r) {
    ++calls;
    EXPECT_EQ(r.association, 5u);
    EXPECT_TRUE(r.pool_removed);
  });
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d.value());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(hs_.counters().pes, 0u);
}

// copy_to() reuses the storage of an earlier, larger PE: nothing of it may survive.
TEST_F(RemovalViewTest, CopyIntoReusedStorageEqualsAFreshCopy) {
  const PoolElement big = rich_pe(1, 100);
  PoolElement small = make_pe(2, 200, 0x0a000009, 7000, PolicyType::kRoundRobin);
  ASSERT_TRUE(hs_.register_pe(handle("p"), big, {.association = 3}).has_value());
  ASSERT_TRUE(hs_.register_pe(handle("p"), small).has_value());
  RemovedPe storage;
  ASSERT_TRUE(hs_.deregister(handle("p"), 1, [&](const RemovedPeView& r) { r.copy_to(storage); }));
  EXPECT_EQ(storage.pe, big);
  EXPECT_EQ(storage.association, 3u);
  EXPECT_FALSE(storage.pool_removed);
  std::optional<RemovedPe> fresh;
  ASSERT_TRUE(hs_.deregister(handle("p"), 2, [&](const RemovedPeView& r) {
    r.copy_to(storage);
    fresh = r;  // the conversion visitors written for RemovedPe use
  }));
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ(storage.pe, small);
  EXPECT_FALSE(storage.pe.asap_transport.has_value());
  EXPECT_EQ(storage.pe, fresh->pe);
  EXPECT_EQ(storage.handle, fresh->handle);
  EXPECT_EQ(storage.association, 0u);
  EXPECT_TRUE(storage.pool_removed);
  EXPECT_TRUE(fresh->pool_removed);
}

// The bulk removals (association loss, expiry, purge) hand out the same view; a visitor
// written for `const RemovedPe&` still compiles and sees the same PEs.
TEST_F(RemovalViewTest, BulkRemovalsHandOutViewsAndKeepChecksumsExact) {
  for (PoolElementId id = 1; id <= 6; ++id)
    ASSERT_TRUE(
        hs_.register_pe(handle(id % 2 ? "odd" : "even"), make_pe(id, 100 + id % 3),
                        {.association = id <= 3 ? 9u : 0u, .expires_at = id >= 5 ? TimeNs{10} : TimeNs{0}})
            .has_value());
  std::vector<PoolElementId> seen;
  EXPECT_EQ(hs_.remove_association(9,
                                   [&](const RemovedPeView& r) {
                                     EXPECT_EQ(r.association, 9u);
                                     EXPECT_FALSE(present(r.pe.id() % 2 ? "odd" : "even", r.pe.id()));
                                     seen.push_back(r.pe.id());
                                   }),
            3u);
  std::vector<PoolElementId> expired;
  EXPECT_EQ(hs_.expire_due(10, [&](const RemovedPe& r) { expired.push_back(r.pe.id); }), 2u);
  std::sort(seen.begin(), seen.end());
  std::sort(expired.begin(), expired.end());
  EXPECT_EQ(seen, (std::vector<PoolElementId>{1, 2, 3}));
  EXPECT_EQ(expired, (std::vector<PoolElementId>{5, 6}));
  const auto scratch = testing::recompute_checksums(hs_);
  for (RegistrarId owner : {100u, 101u, 102u}) {
    const auto it = scratch.by_owner.find(owner);
    EXPECT_EQ(hs_.checksum_accumulator(owner),
              it == scratch.by_owner.end() ? ChecksumAccumulator{} : it->second);
  }
  EXPECT_EQ(hs_.counters().pes, 1u);  // PE 4: no association, no expiry
}

}  // namespace
}  // namespace poolreg::handlespace
