// ListedAddressCache: handshake address lists kept per peer + SCTP port until taken, replaced by a
// newer handshake, expired after kLifetimeMs, and bounded under an INIT flood.
#include "dataplane/sctp/listed_address_cache.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace poolreg::sctp {
namespace {

const IpAddress kA = IpAddress::v4({192, 0, 2, 1});
const IpAddress kB = IpAddress::v4({192, 0, 2, 2});

TEST(ListedAddressCache, TakeHandsOutOnceForTheSamePeerAndPort) {
  ListedAddressCache cache;
  const std::uint64_t peer = 1;
  const std::uint64_t other_peer = 2;
  cache.remember(peer, 7, {kA, kB}, 100);
  EXPECT_TRUE(cache.take(other_peer, 7, 101).empty());
  EXPECT_TRUE(cache.take(peer, 8, 101).empty());
  EXPECT_EQ(cache.take(peer, 7, 101), (std::vector<IpAddress>{kA, kB}));
  EXPECT_TRUE(cache.take(peer, 7, 102).empty());
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.evicted(), 0u);
}

TEST(ListedAddressCache, NewerHandshakeReplacesAndEmptyForgets) {
  ListedAddressCache cache;
  const std::uint64_t peer = 1;
  cache.remember(peer, 7, {kA}, 0);
  cache.remember(peer, 7, {kB}, 1);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.take(peer, 7, 2), std::vector<IpAddress>{kB});
  cache.remember(peer, 7, {kA}, 3);
  cache.remember(peer, 7, {}, 4);
  EXPECT_TRUE(cache.take(peer, 7, 5).empty());
}

TEST(ListedAddressCache, ExpiredEntriesAreNotHandedOut) {
  ListedAddressCache cache;
  const std::uint64_t peer = 1;
  cache.remember(peer, 7, {kA}, 1000);
  EXPECT_TRUE(cache.take(peer, 7, 1000 + ListedAddressCache::kLifetimeMs).empty());
  EXPECT_EQ(cache.evicted(), 1u);
  // Expired entries also leave when later handshakes come in, taken or not.
  cache.remember(peer, 8, {kA}, 2000);
  cache.remember(peer, 9, {kB}, 2000 + ListedAddressCache::kLifetimeMs);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.evicted(), 2u);
  EXPECT_EQ(cache.take(peer, 9, 2001 + ListedAddressCache::kLifetimeMs), std::vector<IpAddress>{kB});
}

TEST(ListedAddressCache, AnInitFloodStaysBounded) {
  ListedAddressCache cache;
  const std::vector<char> peers(3 * ListedAddressCache::kMaxEntries);
  for (std::size_t i = 0; i < peers.size(); ++i) {
    cache.remember(i + 1, 7, {kA}, 10);
    ASSERT_LE(cache.size(), ListedAddressCache::kMaxEntries);
  }
  EXPECT_EQ(cache.size(), ListedAddressCache::kMaxEntries);
  EXPECT_EQ(cache.evicted(), peers.size() - ListedAddressCache::kMaxEntries);
  // The newest survive, the oldest went.
  EXPECT_EQ(cache.take(peers.size(), 7, 11), std::vector<IpAddress>{kA});
  EXPECT_TRUE(cache.take(1, 7, 11).empty());
  // One peer retransmitting its INIT forever does not grow it either (replaced items are stale).
  ListedAddressCache one;
  const std::uint64_t peer = 1;
  for (std::size_t i = 0; i < 3 * ListedAddressCache::kMaxEntries; ++i) one.remember(peer, 7, {kB}, 10);
  EXPECT_EQ(one.size(), 1u);
  EXPECT_EQ(one.take(peer, 7, 11), std::vector<IpAddress>{kB});
}

}  // namespace
}  // namespace poolreg::sctp
