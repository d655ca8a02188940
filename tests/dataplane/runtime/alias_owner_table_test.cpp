// AliasOwnerTable: publish / lookup / withdraw, holders per lane, the first lane keeps a key,
// the bound, churn (tombstones), and readers concurrent with writers (run under TSan in the
// stress suite).
#include "dataplane/runtime/alias_owner_table.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace poolreg::runtime {
namespace {

using Table = AliasOwnerTable;

std::array<std::uint8_t, 4> v4(std::uint32_t host) {
  return {static_cast<std::uint8_t>(host >> 24), static_cast<std::uint8_t>(host >> 16),
          static_cast<std::uint8_t>(host >> 8), static_cast<std::uint8_t>(host)};
}

TEST(AliasOwnerTableTest, PublishedKeyLeadsToItsLaneUntilWithdrawn) {
  Table t(16);
  const auto a = v4(0x0A000002);
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.lookup(a.data(), false, 9899, false), Table::kNoLane);
  EXPECT_EQ(t.publish(a.data(), false, 9899, false, 1), Table::PublishResult::kPublished);
  EXPECT_FALSE(t.empty());
  EXPECT_EQ(t.lookup(a.data(), false, 9899, false), 1u);
  // Another port, the native flag, another address: other keys.
  EXPECT_EQ(t.lookup(a.data(), false, 9900, false), Table::kNoLane);
  EXPECT_EQ(t.lookup(a.data(), false, 9899, true), Table::kNoLane);
  const auto b = v4(0x0A000003);
  EXPECT_EQ(t.lookup(b.data(), false, 9899, false), Table::kNoLane);
  t.withdraw(a.data(), false, 9899, false, 1);
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.lookup(a.data(), false, 9899, false), Table::kNoLane);
}

TEST(AliasOwnerTableTest, Ipv6AndIpv4KeysDiffer) {
  Table t(16);
  std::array<std::uint8_t, 16> six{};
  six[0] = 0x0A;  // the IPv4 key's bytes followed by zeros
  six[3] = 0x02;
  const auto four = v4(0x0A000002);
  ASSERT_EQ(t.publish(six.data(), true, 9899, false, 2), Table::PublishResult::kPublished);
  EXPECT_EQ(t.lookup(six.data(), true, 9899, false), 2u);
  EXPECT_EQ(t.lookup(four.data(), false, 9899, false), Table::kNoLane);
}

TEST(AliasOwnerTableTest, HoldersOfOneLaneAreCountedAndAnotherLaneIsRefused) {
  Table t(16);
  const auto a = v4(0xC0A80001);
  ASSERT_EQ(t.publish(a.data(), false, 1, false, 0), Table::PublishResult::kPublished);
  ASSERT_EQ(t.publish(a.data(), false, 1, false, 0), Table::PublishResult::kPublished);
  EXPECT_EQ(t.publish(a.data(), false, 1, false, 3), Table::PublishResult::kHeldByOtherLane);
  t.withdraw(a.data(), false, 1, false, 3);  // not its holder: nothing happens
  EXPECT_EQ(t.lookup(a.data(), false, 1, false), 0u);
  t.withdraw(a.data(), false, 1, false, 0);
  EXPECT_EQ(t.lookup(a.data(), false, 1, false), 0u);  // one holder left
  t.withdraw(a.data(), false, 1, false, 0);
  EXPECT_EQ(t.lookup(a.data(), false, 1, false), Table::kNoLane);
  EXPECT_EQ(t.size(), 0u);
}

TEST(AliasOwnerTableTest, BoundedByCapacity) {
  Table t(8);
  std::size_t published = 0;
  for (std::uint32_t i = 0; i < 20; ++i) {
    const auto a = v4(0x0A010000 + i);
    if (t.publish(a.data(), false, 9899, false, i % 4) == Table::PublishResult::kPublished) ++published;
  }
  EXPECT_EQ(published, 8u);
  EXPECT_EQ(t.size(), 8u);
  for (std::uint32_t i = 0; i < 20; ++i) {
    const auto a = v4(0x0A010000 + i);
    const unsigned lane = t.lookup(a.data(), false, 9899, false);
    if (i < 8)
      EXPECT_EQ(lane, i % 4) << i;
    else
      EXPECT_EQ(lane, Table::kNoLane) << i;
  }
}

TEST(AliasOwnerTableTest, ChurnKeepsEveryLiveKeyAndReusesSlots) {
  Table t(64);
  // Many rounds of publish / withdraw through a table a tenth of the keys' number: tombstones
  // must be reused (or cleared), never pile up until publishes fail.
  for (std::uint32_t round = 0; round < 200; ++round) {
    for (std::uint32_t i = 0; i < 32; ++i) {
      const auto a = v4(0x0B000000 + round * 32 + i);
      ASSERT_EQ(t.publish(a.data(), false, 9899, false, i % 3), Table::PublishResult::kPublished) << round;
    }
    for (std::uint32_t i = 0; i < 32; ++i) {
      const auto a = v4(0x0B000000 + round * 32 + i);
      ASSERT_EQ(t.lookup(a.data(), false, 9899, false), i % 3);
    }
    for (std::uint32_t i = 0; i < 32; ++i) {
      const auto a = v4(0x0B000000 + round * 32 + i);
      t.withdraw(a.data(), false, 9899, false, i % 3);
    }
    ASSERT_TRUE(t.empty());
  }
}

// Readers on two threads while two writers churn other keys: a key published before the readers
// started is always found at its lane; a key never published is never found. Bounded: 300 ms.
TEST(AliasOwnerTableStressTest, ReadersSeeStableKeysWhileWritersChurn) {
  Table t(4096);
  const auto stable = v4(0x0C000001);
  const auto never = v4(0x0C000002);
  ASSERT_EQ(t.publish(stable.data(), false, 9899, false, 5), Table::PublishResult::kPublished);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> wrong{0};
  std::atomic<std::uint64_t> lookups{0};
  std::vector<std::thread> threads;
  for (unsigned w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      std::uint32_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        for (std::uint32_t i = 0; i < 256; ++i) {
          const auto a = v4(0x0D000000 + (w << 20) + ((n + i) & 0xFFFF));
          t.publish(a.data(), false, 9899, false, w);
        }
        for (std::uint32_t i = 0; i < 256; ++i) {
          const auto a = v4(0x0D000000 + (w << 20) + ((n + i) & 0xFFFF));
          t.withdraw(a.data(), false, 9899, false, w);
        }
        n += 256;
      }
    });
  }
  for (unsigned r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      std::uint64_t local = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (t.lookup(stable.data(), false, 9899, false) != 5u) wrong.fetch_add(1);
        if (t.lookup(never.data(), false, 9899, false) != Table::kNoLane) wrong.fetch_add(1);
        ++local;
      }
      lookups.fetch_add(local);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop.store(true);
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0u);
  EXPECT_GT(lookups.load(), 0u);
  EXPECT_EQ(t.size(), 1u);
}

}  // namespace
}  // namespace poolreg::runtime
