// WRR: each PE first `weight` times per round of sum(weights) answers (policies.md §3).
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "registrar/policy/selector.hpp"
#include "selector_test_support.hpp"

namespace poolreg::policy {
namespace {

using testing::params_with;
using testing::select_names;
using testing::select_sequence;

class WeightedRoundRobinTest : public ::testing::Test {
 protected:
  std::unique_ptr<Selector> make_with(std::initializer_list<std::uint32_t> weights) {
    auto wrr = make_selector(PolicyType::kWeightedRoundRobin, reclaimer_);
    Slot s = 0;
    for (std::uint32_t w : weights) {
      PolicyParams p = params_with(PolicyType::kWeightedRoundRobin);
      p.weight = w;
      wrr->insert(s++, p);
    }
    return wrr;
  }
  DeferredReclaimer reclaimer_;
  SelectorContext ctx_{1};
};

std::map<char, int> counts(const std::string& names) {
  std::map<char, int> c;
  for (char n : names) ++c[n];
  return c;
}

TEST_F(WeightedRoundRobinTest, ThreeToOneIsInterleaved) {
  auto wrr = make_with({3, 1});
  EXPECT_EQ(select_sequence(*wrr, ctx_, 8), "abaaabaa");
  EXPECT_FALSE(wrr->needs_selection_feedback());
}

TEST_F(WeightedRoundRobinTest, EveryRoundHasExactCounts) {
  auto wrr = make_with({5, 2, 0, 7, 1});  // weight 0 acts as 1: round of 16
  for (int round = 0; round < 50; ++round) {
    const auto c = counts(select_sequence(*wrr, ctx_, 16));
    EXPECT_EQ(c, (std::map<char, int>{{'a', 5}, {'b', 2}, {'c', 1}, {'d', 7}, {'e', 1}})) << round;
  }
}

TEST_F(WeightedRoundRobinTest, TurnsOfAHeavyPeAreSpreadNotInOneBlock) {
  auto wrr = make_with({10, 10, 10});
  const std::string names = select_sequence(*wrr, ctx_, 30);
  int longest = 1;
  int run = 1;
  for (std::size_t i = 1; i < names.size(); ++i) {
    run = names[i] == names[i - 1] ? run + 1 : 1;
    longest = std::max(longest, run);
  }
  EXPECT_LE(longest, 2) << names;
}

TEST_F(WeightedRoundRobinTest, ManyItemsAreDistinctEvenWithHeavyWeights) {
  auto wrr = make_with({1000, 1, 1, 1});
  for (int i = 0; i < 200; ++i) {
    const std::string names = select_names(*wrr, ctx_, 3);
    ASSERT_EQ(names.size(), 3u);
    EXPECT_EQ(std::set<char>(names.begin(), names.end()).size(), 3u) << names;
  }
  EXPECT_EQ(select_names(*wrr, ctx_, 10).size(), 4u);
}

TEST_F(WeightedRoundRobinTest, EraseAndUpdateStartANewExactRound) {
  auto wrr = make_with({3, 1, 2});
  EXPECT_EQ(select_sequence(*wrr, ctx_, 5).size(), 5u);
  wrr->erase(1);
  PolicyParams p = params_with(PolicyType::kWeightedRoundRobin);
  p.weight = 4;
  wrr->update(0, p);
  EXPECT_EQ(wrr->size(), 2u);
  // Any window of 6 consecutive answers is a full round: a 4, c 2.
  for (int round = 0; round < 10; ++round) {
    EXPECT_EQ(counts(select_sequence(*wrr, ctx_, 6)), (std::map<char, int>{{'a', 4}, {'c', 2}}));
  }
}

TEST_F(WeightedRoundRobinTest, EmptyPoolAndSinglePe) {
  auto wrr = make_with({});
  EXPECT_EQ(select_names(*wrr, ctx_, 3), "");
  PolicyParams p = params_with(PolicyType::kWeightedRoundRobin);
  p.weight = 9;
  wrr->insert(0, p);
  EXPECT_EQ(select_names(*wrr, ctx_, 3), "a");
  wrr->erase(0);
  EXPECT_EQ(select_names(*wrr, ctx_, 3), "");
}

}  // namespace
}  // namespace poolreg::policy
