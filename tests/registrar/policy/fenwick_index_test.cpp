// FenwickIndex: prefix sums, search and growth against a plain array.
#include "registrar/policy/fenwick_index.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "registrar/policy/xoshiro256.hpp"

namespace poolreg::policy {
namespace {

TEST(FenwickIndexTest, EmptyIndexFindsNothing) {
  DeferredReclaimer reclaimer;
  FenwickIndex index(reclaimer);
  EXPECT_TRUE(index.view().empty());
  EXPECT_EQ(index.view().total(), 0u);
  EXPECT_EQ(index.view().find(0), FenwickIndex::kNoSlot);
  index.set(5, 0);  // no growth for a zero value
  EXPECT_TRUE(index.view().empty());
}

TEST(FenwickIndexTest, MatchesAPlainArrayThroughGrowthAndChurn) {
  DeferredReclaimer reclaimer;
  FenwickIndex index(reclaimer);
  std::vector<std::uint64_t> values(3000, 0);
  Xoshiro256 rng(3);
  for (int step = 0; step < 4000; ++step) {
    const Slot slot = static_cast<Slot>(rng.below(step < 2000 ? 100 + step : 3000));
    const auto value = static_cast<std::uint32_t>(rng.below(4) == 0 ? 0 : rng.below(1u << 31));
    index.set(slot, value);
    values[slot] = value;
    if (step % 100 != 0) continue;
    const FenwickIndex::View view = index.view();
    std::uint64_t total = 0;
    for (std::uint64_t v : values) total += v;
    ASSERT_EQ(view.total(), total);
    // Cumulative search at random points, checked against a linear walk.
    for (int probe = 0; probe < 20; ++probe) {
      const std::uint64_t r = rng.below(total);
      std::uint64_t sum = 0;
      Slot expected = 0;
      while (sum + values[expected] <= r) sum += values[expected++];
      ASSERT_EQ(view.find(r), expected);
      ASSERT_EQ(view.prefix_through(expected), sum + values[expected]);
      ASSERT_EQ(view.value(expected), values[expected]);
    }
    ASSERT_EQ(view.find(total), FenwickIndex::kNoSlot);
  }
  EXPECT_GT(reclaimer.pending(), 0u);  // growth retired the old blocks
}

TEST(FenwickIndexTest, FindExcludingSkipsExcludedSlots) {
  DeferredReclaimer reclaimer;
  FenwickIndex index(reclaimer);
  const std::uint32_t values[] = {5, 1, 0, 7, 3, 2, 9, 4};
  for (Slot s = 0; s < 8; ++s) index.set(s, values[s]);
  const Slot excluded[] = {3, 6};
  const std::uint32_t excluded_values[] = {7, 9};
  // Remaining sequence: slot0 x5, slot1 x1, slot4 x3, slot5 x2, slot7 x4 = 15 positions.
  const Slot expected[] = {0, 0, 0, 0, 0, 1, 4, 4, 4, 5, 5, 7, 7, 7, 7};
  const FenwickIndex::View view = index.view();
  for (std::uint64_t r = 0; r < 15; ++r) {
    EXPECT_EQ(view.find_excluding(r, excluded, excluded_values, 2), expected[r]) << r;
  }
  EXPECT_EQ(view.find_excluding(15, excluded, excluded_values, 2), FenwickIndex::kNoSlot);
}

}  // namespace
}  // namespace poolreg::policy
