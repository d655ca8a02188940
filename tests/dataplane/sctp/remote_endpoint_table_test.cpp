// RemoteEndpointTable with a fake usrsctp (register / deregister recorded) and a fake clock: the
// pending bound, least-recently-used replacement once the expiry passed, early eviction of
// INIT-only endpoints (min_init_age_ms) and of nothing else, expiry with bounded
// work, endpoints with an association and their aliases never freed, outgoing peers outside the
// bound.
#include "dataplane/sctp/remote_endpoint_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>

namespace poolreg::sctp {
namespace {

std::set<void*>& registered() {
  static std::set<void*> s;
  return s;
}
void fake_register(void* a) { registered().insert(a); }
void fake_deregister(void* a) { registered().erase(a); }

constexpr std::uint64_t kExpiry = 1000;

class RemoteEndpointTableTest : public ::testing::Test {
 protected:
  RemoteEndpointTableTest() {
    registered().clear();
    api_.register_address = fake_register;
    api_.deregister_address = fake_deregister;
  }
  // Peer n: 10.x.y.z, UDP port 9899.
  RemoteEndpoint* peer(RemoteEndpointTable& t, std::uint32_t n, std::uint64_t now, bool outgoing = false,
                       bool init = false) {
    const std::array<std::uint8_t, 4> ip{10, static_cast<std::uint8_t>(n >> 16),
                                         static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
    return t.get(ip.data(), false, 9899, now, outgoing, init);
  }
  // Peer n's INIT.
  RemoteEndpoint* init(RemoteEndpointTable& t, std::uint32_t n, std::uint64_t now) {
    return peer(t, n, now, false, true);
  }
  UsrsctpApi api_;
  int owner_ = 0;
};

TEST_F(RemoteEndpointTableTest, SamePeerSameEndpointAndNativeIsAnotherPeer) {
  RemoteEndpointTable t(api_, &owner_, 8, kExpiry);
  RemoteEndpoint* a = peer(t, 1, 0);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(peer(t, 1, 5), a);
  EXPECT_EQ(a->owner, &owner_);
  const std::array<std::uint8_t, 4> ip{10, 0, 0, 1};
  RemoteEndpoint* native = t.get(ip.data(), false, 0, 5);
  ASSERT_NE(native, nullptr);
  EXPECT_NE(native, a);
  EXPECT_NE(native->serial, a->serial);
  EXPECT_EQ(registered().size(), 2u);
  EXPECT_EQ(t.pending_count(), 2u);
}

TEST_F(RemoteEndpointTableTest, FullPendingSetRefusesUntilTheOldestExpired) {
  RemoteEndpointTable t(api_, &owner_, 4, kExpiry);
  for (std::uint32_t n = 0; n < 4; ++n) ASSERT_NE(peer(t, n, 100 + n), nullptr);
  // Full and nobody's cookie life has passed: a new peer is refused, nobody is freed.
  EXPECT_EQ(peer(t, 10, 100 + kExpiry - 1), nullptr);
  EXPECT_EQ(t.refused(), 1u);
  EXPECT_EQ(t.expired(), 0u);
  EXPECT_EQ(t.size(), 4u);
  // Peer 0 sends again: it becomes the youngest, so peer 1 is the oldest now.
  ASSERT_NE(peer(t, 0, 100 + kExpiry - 1), nullptr);
  // Peer 1's expiry passed (used at 101): the new peer takes its place, peer 0 stays.
  RemoteEndpoint* fresh = peer(t, 11, 101 + kExpiry);
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(t.expired(), 1u);
  EXPECT_EQ(t.size(), 4u);
  EXPECT_EQ(t.pending_count(), 4u);
  EXPECT_EQ(registered().size(), 4u);
  EXPECT_EQ(registered().count(fresh), 1u);
  // Peer 2 (used at 102) has not expired yet at 101 + kExpiry: the next new peer is refused.
  EXPECT_EQ(peer(t, 12, 101 + kExpiry), nullptr);
  EXPECT_EQ(t.refused(), 2u);
}

// Eviction (INIT floods): with the pending set full, a new peer may take the place of an
// endpoint that only sent INITs once that one has been quiet for min_init_age_ms, long before its
// expiry; younger INIT-only endpoints and endpoints that got past INIT (another packet, an
// association that ended) are not evicted: the new peer is refused then, as without eviction.
constexpr std::uint64_t kMinInitAge = 100;

TEST_F(RemoteEndpointTableTest, FullPendingSetEvictsInitOnlyEndpointsOnceTheyAreOldEnough) {
  RemoteEndpointTable t(api_, &owner_, 4, kExpiry, kMinInitAge);
  for (std::uint32_t n = 0; n < 4; ++n) ASSERT_NE(init(t, n, 100 + n), nullptr);
  EXPECT_TRUE(peer(t, 0, 100)->init_only == false);  // any other packet from it: past INIT
  // Too young: refused.
  EXPECT_EQ(init(t, 10, 100 + kMinInitAge - 1), nullptr);
  EXPECT_EQ(t.refused(), 1u);
  EXPECT_EQ(t.evicted(), 0u);
  // Peer 1 (INIT-only, quiet since 101, now the oldest: peer 0's packet made it the youngest)
  // goes for the new peer at 101 + min age.
  RemoteEndpoint* fresh = init(t, 11, 101 + kMinInitAge);
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(t.evicted(), 1u);
  EXPECT_EQ(t.expired(), 0u);
  EXPECT_EQ(t.pending_count(), 4u);
  EXPECT_EQ(registered().size(), 4u);
  EXPECT_TRUE(fresh->init_only);
  // A non-INIT packet of a new peer while the set is full also takes an INIT-only one's place
  // (peer 2, quiet since 102), and is not INIT-only itself.
  RemoteEndpoint* other = peer(t, 12, 102 + kMinInitAge);
  ASSERT_NE(other, nullptr);
  EXPECT_FALSE(other->init_only);
  EXPECT_EQ(t.evicted(), 2u);
  // Left: peer 3 (INIT-only, 103), peer 0 (past INIT), peer 11 and 12 (young). At 104 + min age
  // peer 3 goes; after that only peer 0 is old enough, and it is not INIT-only: refused.
  ASSERT_NE(init(t, 13, 103 + kMinInitAge), nullptr);
  EXPECT_EQ(t.evicted(), 3u);
  EXPECT_EQ(init(t, 14, 120 + kMinInitAge), nullptr);
  EXPECT_EQ(t.refused(), 2u);
  // Peer 0 still there (same endpoint).
  EXPECT_NE(peer(t, 0, 121 + kMinInitAge), nullptr);
  EXPECT_EQ(t.size(), 4u);
}

TEST_F(RemoteEndpointTableTest, EndpointsThatHadAnAssociationOrAnOutgoingConnectAreNeverEvicted) {
  RemoteEndpointTable t(api_, &owner_, 2, kExpiry, kMinInitAge);
  RemoteEndpoint* a = init(t, 1, 100);
  ASSERT_NE(a, nullptr);
  t.retain(*a);  // an association came up on it
  EXPECT_FALSE(a->init_only);
  t.release(*a, 110);  // and ended: pending again, usrsctp may still wind it down
  RemoteEndpoint* out = peer(t, 2, 110, /*outgoing=*/true, /*init=*/true);  // our own connect
  ASSERT_NE(out, nullptr);
  EXPECT_FALSE(out->init_only);
  t.retain(*out);
  t.release(*out, 110);
  ASSERT_EQ(t.pending_count(), 2u);
  // Both long past the minimum age, neither INIT-only: a new peer is refused until expiry.
  EXPECT_EQ(init(t, 3, 110 + kMinInitAge * 5), nullptr);
  EXPECT_EQ(t.evicted(), 0u);
  EXPECT_NE(init(t, 3, 110 + kExpiry), nullptr);
  EXPECT_EQ(t.expired(), 1u);
  // Without a minimum age (0) nothing is evicted at all.
  RemoteEndpointTable strict(api_, &owner_, 1, kExpiry);
  ASSERT_NE(init(strict, 1, 0), nullptr);
  EXPECT_EQ(init(strict, 2, kExpiry - 1), nullptr);
  EXPECT_EQ(strict.evicted(), 0u);
}

TEST_F(RemoteEndpointTableTest, ExpireFreesIdlePendingWithBoundedWork) {
  RemoteEndpointTable t(api_, &owner_, 100, kExpiry);
  for (std::uint32_t n = 0; n < 10; ++n) ASSERT_NE(peer(t, n, n), nullptr);
  EXPECT_EQ(t.expire(kExpiry - 1, 100), 0u);  // peer 0 used at 0: not yet
  EXPECT_EQ(t.expire(kExpiry + 9, 3), 3u);    // all idle, 3 per call
  EXPECT_EQ(t.pending_count(), 7u);
  EXPECT_EQ(t.expire(kExpiry + 9, 100), 7u);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_TRUE(registered().empty());  // every freed endpoint was deregistered from usrsctp
  EXPECT_EQ(t.expired(), 10u);
  // A peer seen again after it expired gets a new endpoint with a new serial.
  RemoteEndpoint* again = peer(t, 0, 5000);
  ASSERT_NE(again, nullptr);
  EXPECT_GT(again->serial, 10u);
}

TEST_F(RemoteEndpointTableTest, AssociatedEndpointsAndTheirAliasesAreNeverFreed) {
  RemoteEndpointTable t(api_, &owner_, 2, kExpiry);
  RemoteEndpoint* a = peer(t, 1, 0);
  ASSERT_NE(a, nullptr);
  t.retain(*a);
  EXPECT_EQ(t.pending_count(), 0u);
  const IpAddress added = IpAddress::v4({10, 9, 9, 9});
  ASSERT_TRUE(t.add_alias(*a, added));
  // Its pending bound is separate: two pending peers still fit.
  ASSERT_NE(peer(t, 2, 0), nullptr);
  ASSERT_NE(peer(t, 3, 0), nullptr);
  EXPECT_EQ(t.expire(100 * kExpiry, 100), 2u);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(registered().count(a), 1u);
  // Flood past the bound long after: the associated endpoint and its alias stay.
  for (std::uint32_t n = 100; n < 200; ++n) peer(t, n, 200 * kExpiry + n * kExpiry);
  EXPECT_EQ(peer(t, 1, 400 * kExpiry), a);
  EXPECT_EQ(t.get(added.data(), false, 9899, 400 * kExpiry), a);
  // Association gone: pending from then on (the youngest), expires a full expiry later.
  t.release(*a, 400 * kExpiry);
  EXPECT_EQ(t.expire(401 * kExpiry - 1, 100), 2u);  // the two flood peers left from before
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.expire(401 * kExpiry, 100), 1u);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.alias_count(), 0u);  // the alias went with it
  EXPECT_TRUE(registered().empty());
}

TEST_F(RemoteEndpointTableTest, SeveralAssociationsOnOneEndpoint) {
  RemoteEndpointTable t(api_, &owner_, 4, kExpiry);
  RemoteEndpoint* a = peer(t, 1, 0);
  ASSERT_NE(a, nullptr);
  t.retain(*a);
  t.retain(*a);
  t.release(*a, 10);
  EXPECT_EQ(t.expire(10 * kExpiry, 100), 0u);  // one association still runs on it
  t.release(*a, 20);
  EXPECT_EQ(t.pending_count(), 1u);
  EXPECT_EQ(t.expire(20 + kExpiry, 100), 1u);
}

TEST_F(RemoteEndpointTableTest, SendingKeepsAPendingEndpoint) {
  RemoteEndpointTable t(api_, &owner_, 4, kExpiry);
  RemoteEndpoint* a = peer(t, 1, 0);
  RemoteEndpoint* b = peer(t, 2, 0);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  t.touch(*a, 900);  // usrsctp still sends to it (an association winding down)
  EXPECT_EQ(t.expire(kExpiry, 100), 1u);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(registered().count(a), 1u);
  EXPECT_EQ(t.expire(900 + kExpiry, 100), 1u);
}

TEST_F(RemoteEndpointTableTest, OutgoingPeersAreNotHeldToThePendingBound) {
  RemoteEndpointTable t(api_, &owner_, 2, kExpiry);
  ASSERT_NE(peer(t, 1, 0), nullptr);
  ASSERT_NE(peer(t, 2, 0), nullptr);
  EXPECT_EQ(peer(t, 3, 1), nullptr);
  RemoteEndpoint* out = peer(t, 4, 1, /*outgoing=*/true);
  ASSERT_NE(out, nullptr);
  t.retain(*out);
  EXPECT_EQ(t.pending_count(), 2u);
  EXPECT_EQ(t.size(), 3u);
}

}  // namespace
}  // namespace poolreg::sctp
