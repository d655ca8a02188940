// Handlespace writer and reader operations (single thread).
#include "registrar/handlespace/handlespace.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include "registrar/common/clock.hpp"
#include "tests/registrar/handlespace/handlespace_test_support.hpp"

namespace poolreg::handlespace {
namespace {

using testing::handle;
using testing::make_pe;

// "p" + std::to_string(n) without operator+ (GCC 12 -O3 warns -Wrestrict on that form).
std::string numbered(const char* prefix, long long n) {
  std::string name = prefix;
  name += std::to_string(n);
  return name;
}

class HandlespaceTest : public ::testing::Test {
 protected:
  explicit HandlespaceTest(HandlespaceConfig config = {}) : hs_(config, domain_), reader_(domain_, 42) {
    reader_.online();
  }
  ~HandlespaceTest() override { reader_.offline(); }

  std::vector<PoolElement> resolve(const std::string& h, std::size_t k, ResolveStatus* status = nullptr) {
    std::vector<PoolElement> out;
    auto st = hs_.resolve(handle(h), k, reader_, [&](const PoolElementView& v) { out.push_back(v.to_pool_element()); });
    if (status) *status = st;
    reader_.quiescent();
    return out;
  }
  std::optional<PoolElement> lookup(const std::string& h, PoolElementId id) {
    std::optional<PoolElement> out;
    hs_.lookup(handle(h), id, [&](const PoolElementView& v) { out = v.to_pool_element(); });
    return out;
  }

  QsbrDomain domain_{8};
  Handlespace hs_;
  ReaderContext reader_;
};

TEST_F(HandlespaceTest, RegisterCreatesPoolAndResolves_ASAP_REG_01) {
  auto pe = make_pe(7, 100);
  auto r = hs_.register_pe(handle("EchoPool"), pe, {.association = 9});
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->pe_created);
  EXPECT_TRUE(r->pool_created);
  EXPECT_EQ(r->registration_seq, 1u);
  EXPECT_EQ(hs_.counters().pools, 1u);
  EXPECT_EQ(hs_.counters().pes, 1u);
  auto got = resolve("EchoPool", 3);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], pe);
  auto found = lookup("EchoPool", 7);
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, pe);
  EXPECT_FALSE(lookup("EchoPool", 8));
}

TEST_F(HandlespaceTest, UnknownPoolIsDistinct_ASAP_HR_02) {
  ResolveStatus st{};
  EXPECT_TRUE(resolve("nope", 3, &st).empty());
  EXPECT_EQ(st, ResolveStatus::kUnknownPool);
  ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(1, 1)).has_value());
  resolve("p", 3, &st);
  EXPECT_EQ(st, ResolveStatus::kOk);
}

TEST_F(HandlespaceTest, PoolVanishesWithLastPe_ASAP_REG_02) {
  ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(1, 1)).has_value());
  ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(2, 1)).has_value());
  auto removed = hs_.deregister(handle("p"), 1);
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->pe, make_pe(1, 1));
  EXPECT_EQ(removed->handle, handle("p"));
  EXPECT_EQ(hs_.counters().pools, 1u);
  EXPECT_FALSE(hs_.deregister(handle("p"), 1));
  ASSERT_TRUE(hs_.deregister(handle("p"), 2));
  EXPECT_EQ(hs_.counters().pools, 0u);
  EXPECT_EQ(hs_.counters().pes, 0u);
  EXPECT_FALSE(hs_.pool_summary(handle("p")));
  ResolveStatus st{};
  resolve("p", 1, &st);
  EXPECT_EQ(st, ResolveStatus::kUnknownPool);
  // A new first PE may now fix another policy.
  EXPECT_TRUE(hs_.register_pe(handle("p"), make_pe(3, 1, 1, 1, PolicyType::kLeastUsed)).has_value());
  EXPECT_EQ(hs_.pool_summary(handle("p"))->policy, PolicyType::kLeastUsed);
}

TEST_F(HandlespaceTest, InconsistentPoolIsRefusedWithoutChange_ASAP_REG_03) {
  ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(1, 1)).has_value());
  auto other_policy = make_pe(2, 1, 1, 1, PolicyType::kLeastUsed);
  auto r = hs_.register_pe(handle("p"), other_policy);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().cause, ErrorCause::kInconsistentPoolingPolicy);
  EXPECT_STRNE(r.error().reason, "");

  auto tcp = make_pe(2, 1);
  tcp.user_transport.protocol = TransportProtocol::kTcp;
  EXPECT_EQ(hs_.register_pe(handle("p"), tcp).error().cause, ErrorCause::kInconsistentTransportType);

  auto control = make_pe(2, 1);
  control.user_transport.use = TransportUse::kDataPlusControl;
  EXPECT_EQ(hs_.register_pe(handle("p"), control).error().cause, ErrorCause::kInconsistentDataControlConfiguration);

  // Re-registration of the existing PE with a different policy is refused too, record kept.
  auto same_id = make_pe(1, 1, 99, 99, PolicyType::kRandom);
  EXPECT_EQ(hs_.register_pe(handle("p"), same_id).error().cause, ErrorCause::kInconsistentPoolingPolicy);
  EXPECT_EQ(*lookup("p", 1), make_pe(1, 1));
  EXPECT_EQ(hs_.counters().pes, 1u);
}

TEST_F(HandlespaceTest, ReRegistrationUpdatesInPlace_ASAP_REG_05_08) {
  ASSERT_TRUE(
      hs_.register_pe(handle("p"), make_pe(1, 100, 0x0a000001, 5000), {.association = 5}).has_value());
  auto moved = make_pe(1, 100, 0x0a000002, 6000);
  moved.policy.load = 1234;
  moved.registration_life_ms = 99;
  auto r = hs_.register_pe(handle("p"), moved, {.association = 5});
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->pe_created);
  EXPECT_EQ(r->registration_seq, 2u);
  EXPECT_EQ(r->previous_home, 100u);
  EXPECT_EQ(*lookup("p", 1), moved);
  EXPECT_EQ(hs_.counters().pes, 1u);
  // Registration at another PR (learned by ENRP, association 0) moves the ownership.
  auto elsewhere = moved;
  elsewhere.home_registrar = 200;
  r = hs_.register_pe(handle("p"), elsewhere, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->previous_home, 100u);
  EXPECT_EQ(hs_.pe_count_of_owner(100), 0u);
  EXPECT_EQ(hs_.pe_count_of_owner(200), 1u);
  EXPECT_EQ(hs_.checksum16(100), 0xffff);
  EXPECT_EQ(hs_.checksum16(200), checksum16_finish(checksum16_contribution(handle("p").bytes(), 1)));
  std::optional<std::uint64_t> assoc;
  hs_.lookup(handle("p"), 1, [&](const PoolElementView& v) { assoc = v.association(); });
  EXPECT_EQ(assoc, 0u);
}

TEST_F(HandlespaceTest, OwnershipIsBoundToTheAssociation_SEC_02) {
  ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(1, 100), {.association = 5}).has_value());
  auto r = hs_.register_pe(handle("p"), make_pe(1, 100, 0x0a0000ff), {.association = 6});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().cause, ErrorCause::kNonUniquePeIdentifier);
  EXPECT_EQ(*lookup("p", 1), make_pe(1, 100));
  auto d = hs_.deregister_from(handle("p"), 1, 6);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().cause, ErrorCause::kNonUniquePeIdentifier);
  EXPECT_EQ(hs_.counters().pes, 1u);
  // Same association: fine.
  EXPECT_TRUE(hs_.register_pe(handle("p"), make_pe(1, 100), {.association = 5}).has_value());
  // Learned from a peer (association 0) can be taken by anyone.
  ASSERT_TRUE(hs_.register_pe(handle("q"), make_pe(2, 300), {}).has_value());
  EXPECT_TRUE(hs_.register_pe(handle("q"), make_pe(2, 100), {.association = 7}).has_value());
  d = hs_.deregister_from(handle("p"), 1, 5);
  ASSERT_TRUE(d.has_value());
  ASSERT_TRUE(d.value().has_value());
  EXPECT_EQ(d.value()->association, 5u);
  d = hs_.deregister_from(handle("p"), 1, 5);
  ASSERT_TRUE(d.has_value());
  EXPECT_FALSE(d.value().has_value());
}

TEST_F(HandlespaceTest, PeIdZeroAndNoAddressAreInvalid_ASAP_REG_04) {
  EXPECT_EQ(hs_.register_pe(handle("p"), make_pe(0, 1)).error().cause, ErrorCause::kInvalidValues);
  auto pe = make_pe(1, 1);
  pe.user_transport.addresses.clear();
  EXPECT_EQ(hs_.register_pe(handle("p"), pe).error().cause, ErrorCause::kInvalidValues);
  EXPECT_EQ(hs_.counters().pools, 0u);
}

class LimitedHandlespaceTest : public HandlespaceTest {
 protected:
  LimitedHandlespaceTest()
      : HandlespaceTest(HandlespaceConfig{
            .shard_count = 4,
            .limits = {.max_pools = 2, .max_pes_per_pool = 3, .max_addresses_per_pe = 2,
                       .reject_short_id_collisions = true},
        }) {}
};

TEST_F(LimitedHandlespaceTest, LimitsGiveLackOfResources) {
  ASSERT_TRUE(hs_.register_pe(handle("a"), make_pe(1, 1)).has_value());
  ASSERT_TRUE(hs_.register_pe(handle("b"), make_pe(1, 1)).has_value());
  auto r = hs_.register_pe(handle("c"), make_pe(1, 1));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().cause, ErrorCause::kLackOfResources);
  EXPECT_NE(std::string(r.error().reason).find("max_pools"), std::string::npos);

  ASSERT_TRUE(hs_.register_pe(handle("a"), make_pe(2, 1)).has_value());
  ASSERT_TRUE(hs_.register_pe(handle("a"), make_pe(3, 1)).has_value());
  r = hs_.register_pe(handle("a"), make_pe(4, 1));
  EXPECT_EQ(r.error().cause, ErrorCause::kLackOfResources);
  EXPECT_NE(std::string(r.error().reason).find("max_pes_per_pool"), std::string::npos);
  // Re-registration of a present PE is not a new PE.
  EXPECT_TRUE(hs_.register_pe(handle("a"), make_pe(3, 1, 77)).has_value());

  auto many = make_pe(5, 1);
  many.user_transport.addresses = {IpAddress::v4(1), IpAddress::v4(2), IpAddress::v4(3)};
  r = hs_.register_pe(handle("b"), many);
  EXPECT_EQ(r.error().cause, ErrorCause::kLackOfResources);
  EXPECT_NE(std::string(r.error().reason).find("max_addresses_per_pe"), std::string::npos);
  EXPECT_EQ(hs_.counters().pes, 4u);
}

TEST_F(HandlespaceTest, TotalPeLimitCountsEveryShardAndFreesOnRemoval) {
  Handlespace hs(HandlespaceConfig{.shard_count = 4, .limits = {.max_pes_total = 3}}, domain_);
  ASSERT_TRUE(hs.register_pe(handle("a"), make_pe(1, 1)).has_value());
  ASSERT_TRUE(hs.register_pe(handle("b"), make_pe(2, 1)).has_value());
  ASSERT_TRUE(hs.register_pe(handle("c"), make_pe(3, 2)).has_value());
  // A new PE in an existing pool and one in a new pool are both refused.
  auto r = hs.register_pe(handle("a"), make_pe(4, 1));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().cause, ErrorCause::kLackOfResources);
  EXPECT_NE(std::string(r.error().reason).find("max_pes_total"), std::string::npos);
  r = hs.register_pe(handle("d"), make_pe(5, 1));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(std::string(r.error().reason).find("max_pes_total"), std::string::npos);
  EXPECT_EQ(hs.counters().pools, 3u);
  // Re-registration of a present PE is not a new PE.
  EXPECT_TRUE(hs.register_pe(handle("c"), make_pe(3, 2, 50)).has_value());
  // A deregistration frees room again.
  ASSERT_TRUE(hs.deregister(handle("b"), 2));
  EXPECT_TRUE(hs.register_pe(handle("d"), make_pe(5, 1)).has_value());
  EXPECT_FALSE(hs.register_pe(handle("e"), make_pe(6, 1)).has_value());
  EXPECT_EQ(hs.counters().pes, 3u);
}

TEST_F(LimitedHandlespaceTest, ShortIdCollisionRefusedInId64Mode) {
  ASSERT_TRUE(hs_.register_pe(handle("a"), make_pe(0x1'0000'0005ULL, 1)).has_value());
  auto r = hs_.register_pe(handle("a"), make_pe(0x2'0000'0005ULL, 1));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().cause, ErrorCause::kNonUniquePeIdentifier);
  // Same full ID = re-registration, allowed; another pool is independent.
  EXPECT_TRUE(hs_.register_pe(handle("a"), make_pe(0x1'0000'0005ULL, 1)).has_value());
  EXPECT_TRUE(hs_.register_pe(handle("b"), make_pe(0x2'0000'0005ULL, 1)).has_value());
  // After removal the short ID is free again.
  ASSERT_TRUE(hs_.register_pe(handle("a"), make_pe(6, 1)).has_value());
  ASSERT_TRUE(hs_.deregister(handle("a"), 0x1'0000'0005ULL));
  EXPECT_TRUE(hs_.register_pe(handle("a"), make_pe(0x2'0000'0005ULL, 1)).has_value());
}

TEST_F(HandlespaceTest, ShortIdCollisionAllowedByDefault) {
  ASSERT_TRUE(hs_.register_pe(handle("a"), make_pe(0x1'0000'0005ULL, 1)).has_value());
  EXPECT_TRUE(hs_.register_pe(handle("a"), make_pe(0x2'0000'0005ULL, 1)).has_value());
}

TEST_F(HandlespaceTest, ExpiryRemovesDuePesInTimeOrder) {
  ManualClock clock(1000);
  ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(1, 9), {.expires_at = clock.now() + 300}).has_value());
  ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(2, 9), {.expires_at = clock.now() + 100}).has_value());
  ASSERT_TRUE(hs_.register_pe(handle("q"), make_pe(3, 9), {.expires_at = clock.now() + 200}).has_value());
  ASSERT_TRUE(hs_.register_pe(handle("q"), make_pe(4, 1), {}).has_value());  // own PE: no expiry
  EXPECT_EQ(hs_.next_expiry(), 1100u);
  std::vector<PoolElementId> removed;
  auto collect = [&](const RemovedPe& r) { removed.push_back(r.pe.id); };
  clock.advance(150);
  EXPECT_EQ(hs_.expire_due(clock.now(), collect), 1u);
  EXPECT_EQ(removed, (std::vector<PoolElementId>{2}));
  // An ADD update refreshes the timer.
  ASSERT_TRUE(hs_.register_pe(handle("q"), make_pe(3, 9), {.expires_at = clock.now() + 1000}).has_value());
  clock.advance(1000);  // now 2150: PE 1 (1300) due, PE 3 (2150) due
  EXPECT_EQ(hs_.expire_due(clock.now(), collect), 2u);
  EXPECT_EQ(removed, (std::vector<PoolElementId>{2, 1, 3}));
  EXPECT_FALSE(hs_.next_expiry());
  clock.advance(1'000'000'000);
  EXPECT_EQ(hs_.expire_due(clock.now(), collect), 0u);
  EXPECT_EQ(hs_.counters().pes, 1u);
}

TEST_F(HandlespaceTest, ExpiryManyInOrderAndCancel) {
  // Random expiry times; removal order must be non-decreasing; cancelled ones stay.
  std::uint64_t x = 12345;
  for (PoolElementId id = 1; id <= 500; ++id) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    ASSERT_TRUE(hs_.register_pe(handle(numbered("p", id % 7)), make_pe(id, 9), {.expires_at = 1 + (x >> 40)})
                    .has_value());
  }
  for (PoolElementId id = 1; id <= 500; id += 5) ASSERT_TRUE(hs_.set_expiry(handle(numbered("p", id % 7)), id, 0));
  std::size_t n = 0;
  hs_.expire_due(UINT64_MAX - 1, [&](const RemovedPe& r) {
    EXPECT_NE(r.pe.id % 5, 1u);
    ++n;
  });
  EXPECT_EQ(n, 400u);
  EXPECT_EQ(hs_.counters().pes, 100u);
}

TEST_F(HandlespaceTest, ExpiryOrderIsNonDecreasing) {
  const TimeNs times[] = {50, 10, 40, 20, 30, 10, 60};
  PoolElementId id = 1;
  for (TimeNs t : times)
    ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(id++, 9), {.expires_at = t}).has_value());
  std::vector<TimeNs> order;
  hs_.expire_due(1000, [&](const RemovedPe& r) { order.push_back(times[r.pe.id - 1]); });
  EXPECT_EQ(order, (std::vector<TimeNs>{10, 10, 20, 30, 40, 50, 60}));
}

TEST_F(HandlespaceTest, ExtendedExpiryKeepsRemovalOrder) {
  ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(1, 9), {.expires_at = 10}).has_value());
  ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(2, 9), {.expires_at = 40}).has_value());
  ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(1, 9), {.expires_at = 50}).has_value());  // refreshed
  std::vector<PoolElementId> order;
  EXPECT_EQ(hs_.expire_due(45, [&](const RemovedPe& r) { order.push_back(r.pe.id); }), 1u);
  EXPECT_EQ(order, (std::vector<PoolElementId>{2}));
  EXPECT_EQ(hs_.next_expiry(), 50u);
  ASSERT_TRUE(hs_.set_expiry(handle("p"), 1, 20));  // moved earlier
  EXPECT_EQ(hs_.next_expiry(), 20u);
  EXPECT_EQ(hs_.expire_due(100, [&](const RemovedPe& r) { order.push_back(r.pe.id); }), 1u);
  EXPECT_EQ(order, (std::vector<PoolElementId>{2, 1}));
}

TEST_F(HandlespaceTest, TakeoverMovesPesAndChecksums_ENRP_TKO_05_06) {
  for (PoolElementId id = 1; id <= 10; ++id)
    ASSERT_TRUE(
        hs_.register_pe(handle(id % 2 ? "EchoPool" : "Pool1"), make_pe(id, 0xdead), {.expires_at = 5000})
            .has_value());
  ASSERT_TRUE(hs_.register_pe(handle("EchoPool"), make_pe(99, 0xbeef), {}).has_value());
  const auto dead = hs_.checksum_accumulator(0xdead);
  const auto me_before = hs_.checksum_accumulator(0xbeef);
  EXPECT_NE(dead.checksum16(), 0xffff);
  EXPECT_EQ(hs_.change_owner(0xdead, 0xbeef, true), 10u);
  EXPECT_EQ(hs_.checksum16(0xdead), 0xffff);
  EXPECT_EQ(hs_.checksum32(0xdead), 0xffffffffu);
  ChecksumAccumulator expected = me_before;
  expected.add(dead);
  EXPECT_EQ(hs_.checksum_accumulator(0xbeef), expected);
  EXPECT_EQ(hs_.pe_count_of_owner(0xbeef), 11u);
  EXPECT_EQ(hs_.pe_count_of_owner(0xdead), 0u);
  auto scratch = testing::recompute_checksums(hs_);
  EXPECT_EQ(scratch.by_owner[0xbeef], hs_.checksum_accumulator(0xbeef));
  std::set<PoolElementId> listed;
  hs_.for_each_of_owner(0xbeef, [&](const PoolHandle&, const PoolElementView& v) {
    EXPECT_EQ(v.home(), 0xbeefu);
    listed.insert(v.id());
  });
  EXPECT_EQ(listed.size(), 11u);
  EXPECT_FALSE(hs_.next_expiry());  // timers cancelled
  EXPECT_EQ(resolve("Pool1", 10).front().home_registrar, 0xbeefu);
}

TEST_F(HandlespaceTest, TakeoverKeepsExpiryWhenAsked) {
  ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(1, 5), {.expires_at = 77}).has_value());
  EXPECT_EQ(hs_.change_owner(5, 6, false), 1u);
  EXPECT_EQ(hs_.next_expiry(), 77u);
  EXPECT_EQ(hs_.change_owner(5, 6, false), 0u);
}

TEST_F(HandlespaceTest, RemoveAssociation_ASAP_KA_04) {
  ASSERT_TRUE(hs_.register_pe(handle("a"), make_pe(1, 1), {.association = 11}).has_value());
  ASSERT_TRUE(hs_.register_pe(handle("b"), make_pe(2, 1), {.association = 11}).has_value());
  ASSERT_TRUE(hs_.register_pe(handle("b"), make_pe(3, 1), {.association = 12}).has_value());
  ASSERT_TRUE(hs_.register_pe(handle("c"), make_pe(4, 2), {}).has_value());
  std::set<PoolElementId> removed;
  EXPECT_EQ(hs_.remove_association(11, [&](const RemovedPe& r) {
    EXPECT_EQ(r.association, 11u);
    removed.insert(r.pe.id);
  }), 2u);
  EXPECT_EQ(removed, (std::set<PoolElementId>{1, 2}));
  EXPECT_EQ(hs_.counters().pes, 2u);
  EXPECT_EQ(hs_.counters().pools, 2u);
  EXPECT_EQ(hs_.remove_association(11, [](const RemovedPe&) {}), 0u);
  EXPECT_EQ(hs_.remove_association(0, [](const RemovedPe&) {}), 0u);  // 0 = learned, never bulk-removed
  // Re-registration over a new association moves the PE in the association index.
  ASSERT_TRUE(hs_.register_pe(handle("c"), make_pe(4, 1), {.association = 12}).has_value());
  EXPECT_EQ(hs_.remove_association(12, [](const RemovedPe&) {}), 2u);
  EXPECT_EQ(hs_.counters().pes, 0u);
}

// Handover hold (issue 14 item 3): an association's PEs held stay registered (count, lookup,
// owner, checksums) but no resolution returns them; a re-registration over another association
// is accepted (the association is closing) and brings the PE back; remove_association later
// takes only the PEs still bound to the held association; a reused slot starts unheld.
TEST_F(HandlespaceTest, HoldAssociationTakesItsPesOutOfResolutionsOnly) {
  ASSERT_TRUE(hs_.register_pe(handle("h"), make_pe(1, 1), {.association = 11}).has_value());
  ASSERT_TRUE(hs_.register_pe(handle("h"), make_pe(2, 1), {.association = 11}).has_value());
  ASSERT_TRUE(hs_.register_pe(handle("h"), make_pe(3, 1), {.association = 12}).has_value());
  const auto checksum = hs_.checksum_accumulator(1);
  std::set<PoolElementId> held;
  EXPECT_EQ(hs_.hold_association(11, [&](const PoolHandle& h, const PoolElementView& v) {
    EXPECT_EQ(h, handle("h"));
    held.insert(v.id());
  }), 2u);
  EXPECT_EQ(held, (std::set<PoolElementId>{1, 2}));
  EXPECT_EQ(hs_.hold_association(11, [](const PoolHandle&, const PoolElementView&) {}), 0u);  // already held
  EXPECT_EQ(hs_.hold_association(0, [](const PoolHandle&, const PoolElementView&) {}), 0u);
  EXPECT_TRUE(hs_.held(handle("h"), 1));
  EXPECT_FALSE(hs_.held(handle("h"), 3));
  EXPECT_FALSE(hs_.held(handle("h"), 99));
  EXPECT_FALSE(hs_.held(handle("nope"), 1));
  EXPECT_EQ(hs_.counters().pes, 3u);
  EXPECT_EQ(hs_.pool_summary(handle("h"))->pe_count, 3u);
  EXPECT_TRUE(lookup("h", 1).has_value());
  EXPECT_EQ(hs_.checksum_accumulator(1), checksum);
  for (int i = 0; i < 10; ++i) {
    const auto r = resolve("h", 10);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].id, 3u);
  }
  // Back over association 13: offered again, no 0x4.
  ASSERT_TRUE(hs_.register_pe(handle("h"), make_pe(1, 1), {.association = 13}).has_value());
  EXPECT_FALSE(hs_.held(handle("h"), 1));
  std::set<PoolElementId> offered;
  for (const auto& pe : resolve("h", 10)) offered.insert(pe.id);
  EXPECT_EQ(offered, (std::set<PoolElementId>{1, 3}));
  // The hold's end: only PE 2 is still bound to 11.
  std::set<PoolElementId> removed;
  EXPECT_EQ(hs_.remove_association(11, [&](const RemovedPe& r) { removed.insert(r.pe.id); }), 1u);
  EXPECT_EQ(removed, std::set<PoolElementId>{2});
  // A new PE (reusing slot space) is offered at once.
  ASSERT_TRUE(hs_.register_pe(handle("h"), make_pe(4, 1), {.association = 14}).has_value());
  EXPECT_FALSE(hs_.held(handle("h"), 4));
  offered.clear();
  for (const auto& pe : resolve("h", 10)) offered.insert(pe.id);
  EXPECT_EQ(offered, (std::set<PoolElementId>{1, 3, 4}));
}

// A pool whose PEs are all held answers kOk with no PE (not an unknown pool).
TEST_F(HandlespaceTest, PoolWithAllPesHeldResolvesToNothing) {
  ASSERT_TRUE(hs_.register_pe(handle("h"), make_pe(1, 1), {.association = 11}).has_value());
  EXPECT_EQ(hs_.hold_association(11, [](const PoolHandle&, const PoolElementView&) {}), 1u);
  ResolveStatus status = ResolveStatus::kUnknownPool;
  EXPECT_TRUE(resolve("h", 3, &status).empty());
  EXPECT_EQ(status, ResolveStatus::kOk);
}

// A large association torn down in bounded steps: each step removes exactly `max` PEs of it,
// the other association's PEs and pools stay, resolutions keep answering meanwhile, and while
// the teardown is under way a PE of it may re-register over another association (it is not
// refused with 0x4: the old association is gone) and so leaves the teardown.
TEST_F(HandlespaceTest, BoundedAssociationTeardownInSteps_ASAP_KA_04) {
  constexpr std::size_t kPes = 20'000;
  for (std::size_t i = 1; i <= kPes; ++i)
    ASSERT_TRUE(hs_.register_pe(handle(numbered("p", static_cast<long long>(i % 50))), make_pe(i, 1),
                                {.association = 7})
                    .has_value());
  for (std::size_t i = 1; i <= 100; ++i)
    ASSERT_TRUE(hs_.register_pe(handle(numbered("p", static_cast<long long>(i % 50))), make_pe(1'000'000 + i, 1),
                                {.association = 8})
                    .has_value());
  std::set<PoolElementId> removed;
  auto collect = [&](const RemovedPe& r) {
    EXPECT_EQ(r.association, 7u);
    EXPECT_TRUE(removed.insert(r.pe.id).second);
  };
  ASSERT_EQ(hs_.remove_association(7, collect, 1'000), 1'000u);
  // Not refused: association 7 is closing. The PE now belongs to 9 and leaves 7's teardown.
  PoolElementId moved = 0;
  for (PoolElementId id = 1; id <= kPes && moved == 0; ++id)
    if (!removed.contains(id)) moved = id;
  ASSERT_TRUE(hs_.register_pe(handle(numbered("p", static_cast<long long>(moved % 50))), make_pe(moved, 1),
                              {.association = 9})
                  .has_value());
  std::size_t steps = 1;
  for (;;) {
    EXPECT_EQ(resolve("p1", 3).size(), 3u);  // answered between the steps
    const std::size_t n = hs_.remove_association(7, collect, 1'000);
    ++steps;
    if (n < 1'000) break;
  }
  EXPECT_EQ(steps, kPes / 1'000);  // 19 999 PEs left after the move: 19 full steps + one of 999
  EXPECT_EQ(removed.size(), kPes - 1);
  EXPECT_FALSE(removed.contains(moved));
  EXPECT_EQ(hs_.counters().pes, 101u);
  EXPECT_EQ(hs_.remove_association(7, collect, 1'000), 0u);
  EXPECT_EQ(hs_.remove_association(9, [](const RemovedPe&) {}), 1u);
  EXPECT_EQ(hs_.remove_association(8, [](const RemovedPe&) {}), 100u);
  EXPECT_EQ(hs_.counters().pools, 0u);
}

// An association that is not closing still owns its PEs (SEC-02): a registration over another
// association is refused with 0x4.
TEST_F(HandlespaceTest, LiveAssociationKeepsItsPes_SEC_02) {
  ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(1, 1), {.association = 7}).has_value());
  ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(2, 1), {.association = 7}).has_value());
  auto r = hs_.register_pe(handle("p"), make_pe(1, 1), {.association = 9});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().cause, ErrorCause::kNonUniquePeIdentifier);
  // Once the teardown is under way (one PE left), the other association may take it.
  PoolElementId gone = 0;
  EXPECT_EQ(hs_.remove_association(7, [&](const RemovedPe& r) { gone = r.pe.id; }, 1), 1u);
  const PoolElementId left = gone == 1 ? 2 : 1;
  EXPECT_TRUE(hs_.register_pe(handle("p"), make_pe(left, 1), {.association = 9}).has_value());
  EXPECT_EQ(hs_.remove_association(7, [](const RemovedPe&) {}), 0u);
}

TEST_F(HandlespaceTest, RemoveWithoutCopy) {
  ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(1, 1), {.association = 7, .expires_at = 5}).has_value());
  ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(2, 1), {.association = 7}).has_value());
  EXPECT_TRUE(hs_.remove(handle("p"), 1));
  EXPECT_FALSE(hs_.remove(handle("p"), 1));
  EXPECT_FALSE(hs_.remove(handle("q"), 1));
  EXPECT_EQ(hs_.next_expiry(), std::nullopt);
  EXPECT_EQ(hs_.checksum_accumulator(1), testing::recompute_checksums(hs_).by_owner[1]);
  EXPECT_EQ(hs_.remove_association(7, [](const RemovedPe&) {}), 1u);
  EXPECT_EQ(hs_.counters().pools, 0u);
}

TEST_F(HandlespaceTest, UnreachableCounter_ASAP_EU_01) {
  ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(1, 1)).has_value());
  EXPECT_EQ(hs_.report_unreachable(handle("p"), 1), 1u);
  EXPECT_EQ(hs_.report_unreachable(handle("p"), 1), 2u);
  EXPECT_EQ(hs_.report_unreachable(handle("p"), 1), 3u);
  EXPECT_FALSE(hs_.report_unreachable(handle("p"), 2));
  EXPECT_FALSE(hs_.report_unreachable(handle("x"), 1));
  ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(1, 1)).has_value());  // re-registration resets
  EXPECT_EQ(hs_.report_unreachable(handle("p"), 1), 1u);
}

TEST_F(HandlespaceTest, MarkAndPurge_ENRP_SYNC_03) {
  for (PoolElementId id = 1; id <= 6; ++id)
    ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(id, 7)).has_value());
  ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(50, 8)).has_value());
  EXPECT_EQ(hs_.mark_owned_by(7), 6u);
  ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(2, 7)).has_value());  // refreshed by the sync
  ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(4, 7)).has_value());
  std::set<PoolElementId> purged;
  EXPECT_EQ(hs_.purge_marked(7, [&](const RemovedPe& r) { purged.insert(r.pe.id); }), 4u);
  EXPECT_EQ(purged, (std::set<PoolElementId>{1, 3, 5, 6}));
  EXPECT_EQ(hs_.counters().pes, 3u);
}

TEST_F(HandlespaceTest, ChecksumsFollowSpecVectors_ENRP_AUD_01) {
  const RegistrarId me = 0x1000;
  EXPECT_EQ(hs_.checksum16(me), 0xffff);
  ASSERT_TRUE(hs_.register_pe(handle("EchoPool"), make_pe(0x12345678, me)).has_value());
  EXPECT_EQ(hs_.checksum16(me), 0xa529);
  EXPECT_EQ(hs_.checksum32(me), 0x57f8d1acu);
  ASSERT_TRUE(hs_.register_pe(handle("EchoPool"), make_pe(0x9abcdef0, me)).has_value());
  EXPECT_EQ(hs_.checksum16(me), 0x4942);
  ASSERT_TRUE(hs_.register_pe(handle("Pool1"), make_pe(1, me)).has_value());
  EXPECT_EQ(hs_.checksum16(me), 0x6c51);
  ASSERT_TRUE(hs_.register_pe(handle("Pool1"), make_pe(1, me, 0x0b000001))
                  .has_value());  // re-registration: no change
  EXPECT_EQ(hs_.checksum16(me), 0x6c51);
  ASSERT_TRUE(hs_.deregister(handle("EchoPool"), 0x9abcdef0));
  EXPECT_EQ(hs_.checksum16(me), 0xc838);
  ASSERT_TRUE(hs_.register_pe(handle("EchoPool"), make_pe(0xfedcba9876543210ULL, me)).has_value());
  ASSERT_TRUE(hs_.register_pe(handle("EchoPool"), make_pe(0xfedcba9876543210ULL, me)).has_value());
  EXPECT_EQ(hs_.checksum32(me), 0xcb859db9u);
  ASSERT_TRUE(hs_.deregister(handle("EchoPool"), 0xfedcba9876543210ULL));
  EXPECT_EQ(hs_.checksum32(me), 0xd689623eu);
}

TEST_F(HandlespaceTest, AddressesAndAsapTransportRoundTrip_ASAP_REG_07) {
  PoolElement pe = make_pe(1, 2);
  pe.user_transport.addresses = {IpAddress::v4(0x0a000001), *IpAddress::parse("2001:db8::1"), IpAddress::v4(0x0a000002)};
  pe.user_transport.use = TransportUse::kDataOnly;
  pe.policy = PolicyParams{PolicyType::kRoundRobin, 1, 2, 3, 4, 5, 6, 7};
  TransportEndpoint asap;
  asap.protocol = TransportProtocol::kSctp;
  asap.port = 3863;
  asap.addresses = {*IpAddress::parse("::1"), IpAddress::v4(0x7f000001)};
  pe.asap_transport = asap;
  ASSERT_TRUE(hs_.register_pe(handle("p"), pe).has_value());
  EXPECT_EQ(*lookup("p", 1), pe);
  std::size_t v6 = 0;
  hs_.lookup(handle("p"), 1, [&](const PoolElementView& v) {
    for (IpAddress a : v.user_addresses()) v6 += a.is_v4() ? 0 : 1;
    EXPECT_EQ(v.user_addresses()[1], *IpAddress::parse("2001:db8::1"));
    EXPECT_EQ(v.asap_addresses().size(), 2u);
  });
  EXPECT_EQ(v6, 1u);
  hs_.lookup(handle("p"), 1, [&](const PoolElementView& v) {
    EXPECT_EQ(v.record().allocated_bytes(), PoolElementRecord::allocation_size(pe));
  });
  // Takeover copies the packed record with the new home only.
  EXPECT_EQ(hs_.change_owner(2, 3, false), 1u);
  pe.home_registrar = 3;
  EXPECT_EQ(*lookup("p", 1), pe);
  // An IPv4-only PE does not pay for IPv6 storage.
  PoolElement small = make_pe(2, 2);
  EXPECT_EQ(PoolElementRecord::allocation_size(small), sizeof(PoolElementRecord) + 4);
}

// The record stores only the non-zero optional values and the association when there is one:
// every combination must still read back exactly (issue 3 memory work).
TEST_F(HandlespaceTest, CompactRecordKeepsEveryField_ASAP_REG_07) {
  PoolElementId id = 1;
  for (std::uint32_t mask = 0; mask < 256; mask += 7) {
    PoolElement pe = make_pe(id, 0xabcdef0123ULL, 0x0a000000u + mask);
    pe.user_transport.protocol = TransportProtocol::kDccp;
    pe.policy = PolicyParams{PolicyType::kRoundRobin,
                             mask & 1 ? 0xffffffffu : 0, mask & 2 ? 2u : 0,  mask & 4 ? 3u : 0, mask & 8 ? 4u : 0,
                             mask & 16 ? 5u : 0,         mask & 32 ? 6u : 0, mask & 64 ? 7u : 0};
    pe.user_transport.dccp_service_code = mask & 128 ? 0x12345678u : 0;
    if (mask % 2) {
      TransportEndpoint asap;
      asap.protocol = TransportProtocol::kUdpLite;
      asap.use = TransportUse::kDataPlusControl;
      asap.port = 3863;
      asap.addresses = {*IpAddress::parse("2001:db8::7"), IpAddress::v4(0x7f000001)};
      pe.asap_transport = asap;
    }
    const std::uint64_t association = mask % 3 ? 0x0102030405060708ULL + mask : 0;
    ASSERT_TRUE(hs_.register_pe(handle("dccp"), pe, {.association = association}).has_value());
    hs_.lookup(handle("dccp"), id, [&](const PoolElementView& v) {
      EXPECT_EQ(v.to_pool_element(), pe) << mask;
      EXPECT_EQ(v.association(), association);
      EXPECT_EQ(v.registration_seq(), 1u);
      EXPECT_EQ(v.record().allocated_bytes(), PoolElementRecord::allocation_size(pe, association));
    });
    ++id;
  }
  // Issue 3 sizes: IPv4 PE with one user and one ASAP address and two policy values fits the
  // 48-byte jemalloc class without an association, the 64-byte class with one.
  PoolElement typical = make_pe(1, 2);
  typical.policy.weight = 10;
  typical.policy.load = 20;
  TransportEndpoint asap;
  asap.addresses = {IpAddress::v4(0x0a000009)};
  typical.asap_transport = asap;
  EXPECT_LE(PoolElementRecord::allocation_size(typical), 48u);
  EXPECT_LE(PoolElementRecord::allocation_size(typical, 77), 64u);
}

// Owner lists are kept per pool: walks, counts and removals stay exact when an owner's PEs are
// spread over many pools and pools vanish.
TEST_F(HandlespaceTest, OwnerListsAcrossPoolsStayExact) {
  for (int p = 0; p < 20; ++p)
    for (PoolElementId id = 1; id <= 5; ++id)
      ASSERT_TRUE(hs_.register_pe(handle(numbered("o", p)), make_pe(id, 1 + (id + p) % 3)).has_value());
  for (int p = 0; p < 20; p += 3)
    for (PoolElementId id = 1; id <= 5; ++id) hs_.deregister(handle(numbered("o", p)), id);
  std::map<RegistrarId, std::size_t> expected;
  auto scratch = testing::recompute_checksums(hs_);
  for (int p = 0; p < 20; ++p)
    if (p % 3 != 0)
      for (PoolElementId id = 1; id <= 5; ++id) ++expected[1 + (id + p) % 3];
  for (RegistrarId o : {1, 2, 3}) {
    std::size_t walked = 0;
    hs_.for_each_of_owner(o, [&](const PoolHandle&, const PoolElementView& v) {
      EXPECT_EQ(v.home(), o);
      ++walked;
    });
    EXPECT_EQ(walked, expected[o]);
    EXPECT_EQ(hs_.pe_count_of_owner(o), expected[o]);
    EXPECT_EQ(hs_.checksum_accumulator(o), scratch.by_owner[o]);
  }
  EXPECT_EQ(hs_.change_owner(2, 3, false), expected[2]);
  EXPECT_EQ(hs_.pe_count_of_owner(3), expected[2] + expected[3]);
  EXPECT_EQ(hs_.mark_owned_by(3), expected[2] + expected[3]);
  ASSERT_TRUE(hs_.register_pe(handle("o1"), make_pe(1, 3)).has_value());  // (was owner 3 already)
  std::size_t purged = hs_.purge_marked(3, [](const RemovedPe& r) { EXPECT_EQ(r.pe.home_registrar, 3u); });
  EXPECT_EQ(purged, expected[2] + expected[3] - 1);
  EXPECT_EQ(hs_.pe_count_of_owner(3), 1u);
  EXPECT_EQ(hs_.pe_count_of_owner(1), expected[1]);
  auto after = testing::recompute_checksums(hs_);
  EXPECT_EQ(hs_.checksum_accumulator(1), after.by_owner[1]);
  EXPECT_EQ(hs_.checksum_accumulator(3), after.by_owner[3]);
}

TEST_F(HandlespaceTest, ResolveReturnsDistinctPesUpToTheCap_ASAP_HR_03_04) {
  for (PoolElementId id = 1; id <= 10; ++id)
    ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(id, 1)).has_value());
  for (std::size_t k : {1u, 3u, 10u, 50u}) {
    auto got = resolve("p", k);
    EXPECT_EQ(got.size(), std::min<std::size_t>(k, 10));
    std::set<PoolElementId> ids;
    for (auto& pe : got) ids.insert(pe.id);
    EXPECT_EQ(ids.size(), got.size());
  }
  for (PoolElementId id = 11; id <= 200; ++id)
    ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(id, 1)).has_value());
  EXPECT_EQ(resolve("p", 0xFFFFFFFFu).size(), kMaxResolveItems);
  EXPECT_TRUE(resolve("p", 0).empty());
}

TEST_F(HandlespaceTest, RoundRobinCyclesThroughAllPes) {
  for (PoolElementId id = 1; id <= 5; ++id)
    ASSERT_TRUE(hs_.register_pe(handle("p"), make_pe(id, 1)).has_value());
  std::set<PoolElementId> seen;
  for (int i = 0; i < 5; ++i) seen.insert(resolve("p", 1).at(0).id);
  EXPECT_EQ(seen.size(), 5u);
}

TEST_F(HandlespaceTest, SelectionFeedbackReachesTheWriter) {
  auto pe = make_pe(1, 1, 1, 1, PolicyType::kLeastUsedDegradation);
  pe.policy.load_degradation = 1000;
  ASSERT_TRUE(hs_.register_pe(handle("lud"), pe).has_value());
  auto pe2 = make_pe(2, 1, 2, 1, PolicyType::kLeastUsedDegradation);
  pe2.policy.load_degradation = 1000;
  ASSERT_TRUE(hs_.register_pe(handle("lud"), pe2).has_value());
  const PoolElementId first = resolve("lud", 1).at(0).id;
  EXPECT_EQ(hs_.drain_feedback(), 1u);
  // The selected PE was degraded: the other one comes first now.
  EXPECT_NE(resolve("lud", 1).at(0).id, first);
  EXPECT_EQ(hs_.drain_feedback(), 1u);
  EXPECT_EQ(hs_.drain_feedback(), 0u);
  EXPECT_EQ(hs_.counters().feedback_dropped, 0u);
}

TEST_F(HandlespaceTest, PoolListAndCounts) {
  for (PoolElementId id = 1; id <= 3; ++id)
    ASSERT_TRUE(hs_.register_pe(handle("a"), make_pe(id, 1)).has_value());
  ASSERT_TRUE(hs_.register_pe(handle("b"), make_pe(1, 1, 1, 1, PolicyType::kRandom)).has_value());
  std::map<std::string, std::pair<std::size_t, PolicyType>> pools;
  hs_.for_each_pool([&](const PoolSummary& s) { pools[s.handle->to_display()] = {s.pe_count, s.policy}; });
  EXPECT_EQ(pools.size(), 2u);
  EXPECT_EQ(pools["a"].first, 3u);
  EXPECT_EQ(pools["b"].second, PolicyType::kRandom);
  std::size_t n = 0;
  EXPECT_TRUE(hs_.for_each_in_pool(handle("a"), [&](const PoolElementView&) { ++n; }));
  EXPECT_EQ(n, 3u);
  EXPECT_FALSE(hs_.for_each_in_pool(handle("zz"), [&](const PoolElementView&) {}));
}

class ShardedHandlespaceTest : public HandlespaceTest {
 protected:
  ShardedHandlespaceTest() : HandlespaceTest(testing::config_with_shards(8)) {}
};

std::set<std::pair<std::string, PoolElementId>> drain_snapshot(Handlespace& hs, std::optional<RegistrarId> owner,
                                                                std::size_t chunk,
                                                                const std::function<void(int)>& between = {}) {
  std::set<std::pair<std::string, PoolElementId>> seen;
  SnapshotCursor cursor;
  for (int round = 0; round < 100'000; ++round) {
    std::size_t n = 0;
    auto r = hs.snapshot(cursor, owner, chunk, [&](const PoolHandle& h, const PoolElementView& v) {
      ++n;
      if (owner) {
        EXPECT_EQ(v.home(), *owner);
      }
      seen.insert({h.to_display(), v.id()});
    });
    if (chunk != 0) {
      EXPECT_LE(n, chunk);
    }
    EXPECT_EQ(r.delivered, n);
    if (!r.more) break;
    cursor = r.next;
    if (between) between(round);
  }
  return seen;
}

TEST_F(ShardedHandlespaceTest, SnapshotDeliversEverythingInChunks_ENRP_SYNC_01) {
  std::set<std::pair<std::string, PoolElementId>> all, mine;
  for (int p = 0; p < 20; ++p)
    for (PoolElementId id = 1; id <= static_cast<PoolElementId>(p + 1); ++id) {
      const RegistrarId home = (id % 3 == 0) ? 7 : 8;
      ASSERT_TRUE(hs_.register_pe(handle("pool" + std::to_string(p)), make_pe(id, home)).has_value());
      all.insert({"pool" + std::to_string(p), id});
      if (home == 7) mine.insert({"pool" + std::to_string(p), id});
    }
  EXPECT_EQ(drain_snapshot(hs_, std::nullopt, 7), all);
  EXPECT_EQ(drain_snapshot(hs_, std::nullopt, 0), all);
  EXPECT_EQ(drain_snapshot(hs_, RegistrarId{7}, 5), mine);
  EXPECT_TRUE(drain_snapshot(hs_, RegistrarId{999}, 5).empty());
  auto r = hs_.snapshot({}, std::nullopt, all.size(), [](const PoolHandle&, const PoolElementView&) {});
  EXPECT_FALSE(r.more);  // exactly everything fits: no further request needed
}

TEST_F(ShardedHandlespaceTest, SnapshotContinuationSurvivesChurn) {
  std::set<std::pair<std::string, PoolElementId>> stable;
  for (int p = 0; p < 10; ++p)
    for (PoolElementId id = 1; id <= 30; ++id) {
      ASSERT_TRUE(hs_.register_pe(handle("pool" + std::to_string(p)), make_pe(id, 1)).has_value());
      if (id % 2 == 0) stable.insert({"pool" + std::to_string(p), id});
    }
  // Between chunks: delete odd PEs, add new PEs and whole new pools, re-register stable ones.
  PoolElementId next_new = 1000;
  auto churn = [&](int round) {
    for (int p = 0; p < 10; ++p) {
      const auto h = handle("pool" + std::to_string(p));
      hs_.deregister(h, static_cast<PoolElementId>(2 * ((round * 3 + p) % 15) + 1));
      ASSERT_TRUE(hs_.register_pe(h, make_pe(next_new++, 1)).has_value());
      ASSERT_TRUE(hs_.register_pe(h, make_pe(static_cast<PoolElementId>(2 + 2 * (round % 15)), 1, 0x0a0000ff))
                      .has_value());
    }
    ASSERT_TRUE(hs_.register_pe(handle("new" + std::to_string(round)), make_pe(1, 1)).has_value());
    hs_.deregister(handle("new" + std::to_string(round - 1)), 1);
  };
  auto seen = drain_snapshot(hs_, std::nullopt, 16, churn);
  for (const auto& e : stable) EXPECT_TRUE(seen.count(e)) << e.first << "/" << e.second;
}

TEST_F(ShardedHandlespaceTest, ManyPoolsAcrossShards) {
  for (int p = 0; p < 500; ++p)
    ASSERT_TRUE(hs_.register_pe(handle(numbered("p", p)), make_pe(1, 1)).has_value());
  EXPECT_EQ(hs_.counters().pools, 500u);
  for (int p = 0; p < 500; ++p) EXPECT_EQ(resolve(numbered("p", p), 1).size(), 1u) << p;
  for (int p = 0; p < 500; p += 2) ASSERT_TRUE(hs_.deregister(handle(numbered("p", p)), 1));
  EXPECT_EQ(hs_.counters().pools, 250u);
  ResolveStatus st{};
  for (int p = 0; p < 500; ++p) {
    resolve(numbered("p", p), 1, &st);
    EXPECT_EQ(st, p % 2 ? ResolveStatus::kOk : ResolveStatus::kUnknownPool);
  }
}

}  // namespace
}  // namespace poolreg::handlespace
