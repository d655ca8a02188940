// Random policies: RAND, WRAND, RLU, RPLU, RLUD, RPLUD, WRAND-DPF (policies.md §2-3).
#include <gtest/gtest.h>

#include <array>
#include <set>

#include "registrar/policy/selector.hpp"
#include "selector_test_support.hpp"

namespace poolreg::policy {
namespace {

using testing::params_with;
using testing::percent;
using testing::select_names;

class RandomSelectorTest : public ::testing::Test {
 protected:
  std::unique_ptr<Selector> make(PolicyType type) { return make_selector(type, reclaimer_); }

  // Counts of the first answer slot over `draws` single-item answers.
  template <std::size_t N>
  std::array<int, N> count_firsts(Selector& selector, int draws, bool feed_back = false) {
    std::array<int, N> counts{};
    for (int i = 0; i < draws; ++i) {
      Slot slot = 0;
      EXPECT_EQ(selector.select(1, ctx_, &slot), 1u);
      if (slot < N) ++counts[slot];
      if (feed_back) selector.on_selected(slot);
    }
    return counts;
  }

  DeferredReclaimer reclaimer_;
  SelectorContext ctx_{20261123};
};

PolicyParams weight(PolicyType type, std::uint32_t w) {
  PolicyParams p = params_with(type);
  p.weight = w;
  return p;
}

PolicyParams load(PolicyType type, double load_percent, double degradation_percent = 0) {
  PolicyParams p = params_with(type);
  p.load = percent(load_percent);
  p.load_degradation = percent(degradation_percent);
  return p;
}

void expect_near_count(int actual, double expected, double tolerance_fraction_of_total, int total) {
  EXPECT_NEAR(actual, expected, tolerance_fraction_of_total * total) << "expected ~" << expected;
}

TEST_F(RandomSelectorTest, RandomIsUniform) {
  auto rand = make(PolicyType::kRandom);
  for (Slot s = 0; s < 4; ++s) rand->insert(s, params_with(PolicyType::kRandom));
  const auto counts = count_firsts<4>(*rand, 40000);
  for (int c : counts) expect_near_count(c, 10000, 0.01, 40000);
  EXPECT_FALSE(rand->needs_selection_feedback());
}

TEST_F(RandomSelectorTest, WeightedRandomFollowsWeightsAndNeverPicksWeightZero) {
  auto wrand = make(PolicyType::kWeightedRandom);
  wrand->insert(0, weight(PolicyType::kWeightedRandom, 1));
  wrand->insert(1, weight(PolicyType::kWeightedRandom, 3));
  wrand->insert(2, weight(PolicyType::kWeightedRandom, 0));
  const auto counts = count_firsts<3>(*wrand, 40000);
  EXPECT_NEAR(counts[0], 10000, 300);  // within 3 %
  EXPECT_NEAR(counts[1], 30000, 900);
  EXPECT_EQ(counts[2], 0);
}

TEST_F(RandomSelectorTest, WeightedRandomManyItemsExcludeWeightZero) {
  auto wrand = make(PolicyType::kWeightedRandom);
  wrand->insert(0, weight(PolicyType::kWeightedRandom, 1));
  wrand->insert(1, weight(PolicyType::kWeightedRandom, 3));
  wrand->insert(2, weight(PolicyType::kWeightedRandom, 0));
  EXPECT_EQ(wrand->size(), 3u);
  for (int i = 0; i < 100; ++i) {
    const std::string names = select_names(*wrand, ctx_, 3);
    EXPECT_EQ(std::set<char>(names.begin(), names.end()), (std::set<char>{'a', 'b'})) << names;
  }
}

TEST_F(RandomSelectorTest, DrawWithoutReplacementHasTheConditionalDistribution) {
  // Weights 8,1,1: the second item is a with P = 2 * (0.1 * 8/9) = 0.1778, b or c with
  // P = 0.8 * 0.5 + 0.1 * 1/9 = 0.4111 each. Exercises rejection and the exact fallback.
  auto wrand = make(PolicyType::kWeightedRandom);
  wrand->insert(0, weight(PolicyType::kWeightedRandom, 8));
  wrand->insert(1, weight(PolicyType::kWeightedRandom, 1));
  wrand->insert(2, weight(PolicyType::kWeightedRandom, 1));
  std::array<int, 3> second{};
  constexpr int kDraws = 30000;
  for (int i = 0; i < kDraws; ++i) {
    Slot out[3];
    ASSERT_EQ(wrand->select(3, ctx_, out), 3u);
    ASSERT_EQ(std::set<Slot>(out, out + 3).size(), 3u);
    ++second[out[1]];
  }
  EXPECT_NEAR(second[0], 0.1778 * kDraws, 0.015 * kDraws);
  EXPECT_NEAR(second[1], 0.4111 * kDraws, 0.015 * kDraws);
  EXPECT_NEAR(second[2], 0.4111 * kDraws, 0.015 * kDraws);
}

TEST_F(RandomSelectorTest, HeavySkewStillReturnsDistinctItems) {
  auto wrand = make(PolicyType::kWeightedRandom);
  wrand->insert(0, weight(PolicyType::kWeightedRandom, 0xFFFFFFFFu));
  for (Slot s = 1; s < 10; ++s) wrand->insert(s, weight(PolicyType::kWeightedRandom, 1));
  for (int i = 0; i < 200; ++i) {
    const std::string names = select_names(*wrand, ctx_, 10);
    EXPECT_EQ(std::set<char>(names.begin(), names.end()).size(), 10u) << names;
    EXPECT_EQ(names[0], 'a');
  }
}

TEST_F(RandomSelectorTest, RandomizedLeastUsedPrefersFreeCapacity) {
  auto rlu = make(PolicyType::kRandomizedLeastUsed);
  rlu->insert(0, load(PolicyType::kRandomizedLeastUsed, 0));
  rlu->insert(1, load(PolicyType::kRandomizedLeastUsed, 50));
  PolicyParams full = params_with(PolicyType::kRandomizedLeastUsed);
  full.load = kPolicyValueMax;
  rlu->insert(2, full);
  const auto counts = count_firsts<3>(*rlu, 30000);
  EXPECT_NEAR(counts[0], 20000, 600);
  EXPECT_NEAR(counts[1], 10000, 600);
  EXPECT_EQ(counts[2], 0);
  EXPECT_FALSE(rlu->needs_selection_feedback());
}

TEST_F(RandomSelectorTest, RandomizedPriorityLeastUsedSubtractsLoadDegradation) {
  auto rplu = make(PolicyType::kRandomizedPriorityLeastUsed);
  rplu->insert(0, load(PolicyType::kRandomizedPriorityLeastUsed, 0, 50));   // value 50 %
  rplu->insert(1, load(PolicyType::kRandomizedPriorityLeastUsed, 25, 0));   // value 75 %
  const auto counts = count_firsts<2>(*rplu, 30000);
  EXPECT_NEAR(counts[0], 12000, 600);
  EXPECT_NEAR(counts[1], 18000, 600);
}

TEST_F(RandomSelectorTest, RandomizedLeastUsedDegradationGrowsOnFeedbackAndResets) {
  auto rlud = make(PolicyType::kRandomizedLeastUsedDegradation);
  ASSERT_TRUE(rlud->needs_selection_feedback());
  rlud->insert(0, load(PolicyType::kRandomizedLeastUsedDegradation, 0, 50));
  rlud->insert(1, load(PolicyType::kRandomizedLeastUsedDegradation, 50, 0));
  rlud->on_selected(0);  // a now 50 % used: equal chances
  auto counts = count_firsts<2>(*rlud, 20000);
  EXPECT_NEAR(counts[0], 10000, 500);
  rlud->on_selected(0);  // a full: value 1
  counts = count_firsts<2>(*rlud, 2000);
  EXPECT_EQ(counts[0], 0);
  rlud->update(0, load(PolicyType::kRandomizedLeastUsedDegradation, 0, 50));  // reset
  counts = count_firsts<2>(*rlud, 30000);
  EXPECT_NEAR(counts[0], 20000, 600);
}

TEST_F(RandomSelectorTest, RandomizedPriorityLeastUsedDegradationDegrades) {
  auto rplud = make(PolicyType::kRandomizedPriorityLeastUsedDegradation);
  ASSERT_TRUE(rplud->needs_selection_feedback());
  rplud->insert(0, load(PolicyType::kRandomizedPriorityLeastUsedDegradation, 0, 25));  // 75 %
  rplud->insert(1, load(PolicyType::kRandomizedPriorityLeastUsedDegradation, 50, 0));  // 50 %
  rplud->on_selected(0);  // 50 %
  const auto counts = count_firsts<2>(*rplud, 20000);
  EXPECT_NEAR(counts[0], 10000, 500);
}

TEST_F(RandomSelectorTest, WeightedRandomDpfReducesFarPes) {
  auto dpf = make(PolicyType::kWeightedRandomDpf);
  PolicyParams near = weight(PolicyType::kWeightedRandomDpf, 1000);
  PolicyParams far = near;
  far.distance_ms = 100;
  far.weight_dpf = percent(0.5);  // 100 ms x 0.5 % = 50 % off: value 500
  dpf->insert(0, near);
  dpf->insert(1, far);
  const auto counts = count_firsts<2>(*dpf, 30000);
  EXPECT_NEAR(counts[0], 20000, 600);
  EXPECT_NEAR(counts[1], 10000, 600);
}

TEST_F(RandomSelectorTest, EmptyAndOversizedRequests) {
  for (PolicyType type : {PolicyType::kRandom, PolicyType::kWeightedRandom, PolicyType::kRandomizedLeastUsed}) {
    auto selector = make(type);
    Slot out[kMaxSelectItems];
    EXPECT_EQ(selector->select(3, ctx_, out), 0u);
    for (Slot s = 0; s < 5; ++s) selector->insert(s, weight(type, 2));
    EXPECT_EQ(selector->select(0, ctx_, out), 0u);
    const std::size_t n = selector->select(1000, ctx_, out);
    EXPECT_EQ(n, 5u);
    EXPECT_EQ(std::set<Slot>(out, out + n).size(), 5u);
  }
}

TEST_F(RandomSelectorTest, EraseAndUpdateMidStream) {
  auto wrand = make(PolicyType::kWeightedRandom);
  for (Slot s = 0; s < 3; ++s) wrand->insert(s, weight(PolicyType::kWeightedRandom, 1));
  wrand->erase(1);
  wrand->erase(1);  // twice: ignored
  EXPECT_EQ(wrand->size(), 2u);
  auto counts = count_firsts<3>(*wrand, 3000);
  EXPECT_EQ(counts[1], 0);
  wrand->update(2, weight(PolicyType::kWeightedRandom, 0));
  counts = count_firsts<3>(*wrand, 1000);
  EXPECT_EQ(counts[0], 1000);
  wrand->insert(1000, weight(PolicyType::kWeightedRandom, 1));  // grows the tree
  counts = count_firsts<3>(*wrand, 4000);
  EXPECT_NEAR(counts[0], 2000, 200);
  EXPECT_EQ(wrand->size(), 3u);
}

}  // namespace
}  // namespace poolreg::policy
