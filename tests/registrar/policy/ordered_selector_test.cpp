// Ordered policies: RR, PRI, LU, LUD, PLU, PLUD and the LU *-DPF orders (policies.md §2-3).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "registrar/policy/selector.hpp"
#include "selector_test_support.hpp"

namespace poolreg::policy {
namespace {

using testing::params_with;
using testing::percent;
using testing::select_names;
using testing::select_sequence;

class OrderedSelectorTest : public ::testing::Test {
 protected:
  std::unique_ptr<Selector> make(PolicyType type) { return make_selector(type, reclaimer_); }
  DeferredReclaimer reclaimer_;
  SelectorContext ctx_{42};
};

PolicyParams load(PolicyType type, double load_percent, double degradation_percent = 0) {
  PolicyParams p = params_with(type);
  p.load = percent(load_percent);
  p.load_degradation = percent(degradation_percent);
  return p;
}

TEST_F(OrderedSelectorTest, RoundRobinSingleItemIsStrictlyCyclic) {
  auto rr = make(PolicyType::kRoundRobin);
  for (Slot s = 0; s < 4; ++s) rr->insert(s, params_with(PolicyType::kRoundRobin));
  EXPECT_EQ(select_sequence(*rr, ctx_, 12), "abcdabcdabcd");
  EXPECT_FALSE(rr->needs_selection_feedback());
}

TEST_F(OrderedSelectorTest, RoundRobinThreeItemsAdvanceByOnePerResolution) {
  auto rr = make(PolicyType::kRoundRobin);
  for (Slot s = 0; s < 4; ++s) rr->insert(s, params_with(PolicyType::kRoundRobin));
  EXPECT_EQ(select_names(*rr, ctx_, 3), "abc");
  EXPECT_EQ(select_names(*rr, ctx_, 3), "bcd");
  EXPECT_EQ(select_names(*rr, ctx_, 3), "cda");
  EXPECT_EQ(select_names(*rr, ctx_, 3), "dab");
}

TEST_F(OrderedSelectorTest, RoundRobinEraseAndInsertMidStreamStayCyclic) {
  auto rr = make(PolicyType::kRoundRobin);
  for (Slot s = 0; s < 4; ++s) rr->insert(s, params_with(PolicyType::kRoundRobin));
  EXPECT_EQ(select_sequence(*rr, ctx_, 2), "ab");
  rr->erase(1);
  EXPECT_EQ(rr->size(), 3u);
  // Every remaining PE exactly once per 3 answers, b never again.
  for (int round = 0; round < 5; ++round) {
    const std::string names = select_sequence(*rr, ctx_, 3);
    EXPECT_EQ(std::set<char>(names.begin(), names.end()), (std::set<char>{'a', 'c', 'd'})) << names;
  }
  rr->insert(4, params_with(PolicyType::kRoundRobin));
  for (int round = 0; round < 5; ++round) {
    const std::string names = select_sequence(*rr, ctx_, 4);
    EXPECT_EQ(std::set<char>(names.begin(), names.end()), (std::set<char>{'a', 'c', 'd', 'e'})) << names;
  }
}

TEST_F(OrderedSelectorTest, PriorityBiggerWinsAndTiesRotate) {
  auto pri = make(PolicyType::kPriority);
  const std::uint32_t priorities[] = {5, 9, 9};
  for (Slot s = 0; s < 3; ++s) {
    PolicyParams p = params_with(PolicyType::kPriority);
    p.priority = priorities[s];
    pri->insert(s, p);
  }
  EXPECT_EQ(select_sequence(*pri, ctx_, 4), "bcbc");
}

TEST_F(OrderedSelectorTest, PriorityThreeItemsRotateOnlyTheFirstGroup) {
  auto pri = make(PolicyType::kPriority);
  const std::uint32_t priorities[] = {5, 9, 9};
  for (Slot s = 0; s < 3; ++s) {
    PolicyParams p = params_with(PolicyType::kPriority);
    p.priority = priorities[s];
    pri->insert(s, p);
  }
  EXPECT_EQ(select_names(*pri, ctx_, 3), "bca");
  EXPECT_EQ(select_names(*pri, ctx_, 3), "cba");
  EXPECT_EQ(select_names(*pri, ctx_, 3), "bca");
}

TEST_F(OrderedSelectorTest, LeastUsedPicksLeastLoadedWithTieRotation) {
  auto lu = make(PolicyType::kLeastUsed);
  const double loads[] = {50, 25, 25, 75};
  for (Slot s = 0; s < 4; ++s) lu->insert(s, load(PolicyType::kLeastUsed, loads[s]));
  EXPECT_EQ(select_sequence(*lu, ctx_, 4), "bcbc");
  EXPECT_EQ(select_names(*lu, ctx_, 4), "bcad");
  EXPECT_FALSE(lu->needs_selection_feedback());
}

TEST_F(OrderedSelectorTest, LeastUsedUpdateMovesThePeAndEraseRemovesIt) {
  auto lu = make(PolicyType::kLeastUsed);
  const double loads[] = {50, 25, 25, 75};
  for (Slot s = 0; s < 4; ++s) lu->insert(s, load(PolicyType::kLeastUsed, loads[s]));
  lu->update(3, load(PolicyType::kLeastUsed, 10));  // d re-registers almost idle
  EXPECT_EQ(select_sequence(*lu, ctx_, 3), "ddd");
  lu->erase(3);
  EXPECT_EQ(select_sequence(*lu, ctx_, 2), "bc");
  lu->erase(1);
  lu->erase(2);
  EXPECT_EQ(select_sequence(*lu, ctx_, 2), "aa");
  lu->erase(0);
  EXPECT_EQ(lu->size(), 0u);
  EXPECT_EQ(select_names(*lu, ctx_, 3), "");
}

TEST_F(OrderedSelectorTest, LeastUsedDegradationAlternatesWithFeedback) {
  auto lud = make(PolicyType::kLeastUsedDegradation);
  ASSERT_TRUE(lud->needs_selection_feedback());
  lud->insert(0, load(PolicyType::kLeastUsedDegradation, 10, 15));
  lud->insert(1, load(PolicyType::kLeastUsedDegradation, 20, 15));
  EXPECT_EQ(select_sequence(*lud, ctx_, 8, /*feed_back=*/true), "abababab");
}

TEST_F(OrderedSelectorTest, LeastUsedDegradationResetsOnReRegistration) {
  auto lud = make(PolicyType::kLeastUsedDegradation);
  lud->insert(0, load(PolicyType::kLeastUsedDegradation, 10, 15));
  lud->insert(1, load(PolicyType::kLeastUsedDegradation, 20, 15));
  for (int i = 0; i < 4; ++i) lud->on_selected(0);  // a at 70 %
  EXPECT_EQ(select_sequence(*lud, ctx_, 1), "b");
  lud->update(0, load(PolicyType::kLeastUsedDegradation, 10, 15));  // back to 10 %
  EXPECT_EQ(select_sequence(*lud, ctx_, 1), "a");
}

TEST_F(OrderedSelectorTest, LeastUsedDegradationClampsAtMax) {
  auto lud = make(PolicyType::kLeastUsedDegradation);
  lud->insert(0, load(PolicyType::kLeastUsedDegradation, 90, 60));
  lud->insert(1, load(PolicyType::kLeastUsedDegradation, 99, 0));
  for (int i = 0; i < 5; ++i) lud->on_selected(0);  // a clamped at 100 %
  EXPECT_EQ(select_sequence(*lud, ctx_, 3), "bbb");
  EXPECT_EQ(select_names(*lud, ctx_, 2), "ba");
}

TEST_F(OrderedSelectorTest, PriorityLeastUsedCountsTheStaticDegradation) {
  auto plu = make(PolicyType::kPriorityLeastUsed);
  plu->insert(0, load(PolicyType::kPriorityLeastUsed, 10, 30));
  plu->insert(1, load(PolicyType::kPriorityLeastUsed, 20, 5));
  EXPECT_EQ(select_sequence(*plu, ctx_, 6, /*feed_back=*/true), "bbbbbb");
  EXPECT_FALSE(plu->needs_selection_feedback());
}

TEST_F(OrderedSelectorTest, PriorityLeastUsedDegradationAddsBoth) {
  auto plud = make(PolicyType::kPriorityLeastUsedDegradation);
  ASSERT_TRUE(plud->needs_selection_feedback());
  plud->insert(0, load(PolicyType::kPriorityLeastUsedDegradation, 10, 10));  // key 20 %, +10 % each
  plud->insert(1, load(PolicyType::kPriorityLeastUsedDegradation, 20, 3));   // key 23 %, +3 % each
  // a 20->30; b 23->26->29->32; a 30->40; b 32->35->38->41; a 40->50
  EXPECT_EQ(select_sequence(*plud, ctx_, 9, /*feed_back=*/true), "abbbabbba");
}

PolicyParams dpf(PolicyType type, double load_percent, std::uint32_t distance_ms, double dpf_percent_per_ms,
                 double degradation_percent = 0) {
  PolicyParams p = load(type, load_percent, degradation_percent);
  p.distance_ms = distance_ms;
  p.load_dpf = percent(dpf_percent_per_ms);
  return p;
}

TEST_F(OrderedSelectorTest, LeastUsedDpfAddsDistanceTimesDpf) {
  auto lu = make(PolicyType::kLeastUsedDpf);
  lu->insert(0, dpf(PolicyType::kLeastUsedDpf, 10, 50, 1));  // 10 % + 50 ms x 1 % = 60 %
  lu->insert(1, dpf(PolicyType::kLeastUsedDpf, 40, 0, 1));   // 40 %
  lu->insert(2, dpf(PolicyType::kLeastUsedDpf, 0, 1000, 50));  // clamped at 100 %
  EXPECT_EQ(select_names(*lu, ctx_, 3), "bac");
}

TEST_F(OrderedSelectorTest, LeastUsedDegradationDpfDegrades) {
  auto lud = make(PolicyType::kLeastUsedDegradationDpf);
  ASSERT_TRUE(lud->needs_selection_feedback());
  lud->insert(0, dpf(PolicyType::kLeastUsedDegradationDpf, 0, 10, 1, 15));   // 10 %
  lud->insert(1, dpf(PolicyType::kLeastUsedDegradationDpf, 20, 0, 1, 15));   // 20 %
  EXPECT_EQ(select_sequence(*lud, ctx_, 6, /*feed_back=*/true), "ababab");
}

TEST_F(OrderedSelectorTest, PriorityLeastUsedDpfAndDegradationDpf) {
  auto plu = make(PolicyType::kPriorityLeastUsedDpf);
  plu->insert(0, dpf(PolicyType::kPriorityLeastUsedDpf, 10, 10, 1, 5));  // 10 + 5 + 10 = 25 %
  plu->insert(1, dpf(PolicyType::kPriorityLeastUsedDpf, 20, 0, 1, 4));   // 24 %
  EXPECT_EQ(select_sequence(*plu, ctx_, 3, /*feed_back=*/true), "bbb");

  auto plud = make(PolicyType::kPriorityLeastUsedDegradationDpf);
  ASSERT_TRUE(plud->needs_selection_feedback());
  plud->insert(0, dpf(PolicyType::kPriorityLeastUsedDegradationDpf, 10, 10, 1, 5));  // 25 %, +5 %
  plud->insert(1, dpf(PolicyType::kPriorityLeastUsedDegradationDpf, 20, 0, 1, 8));   // 28 %, +8 %
  // a 25 -> 30; b 28 -> 36; a 30 -> 35; a 35 -> 40; b 36 -> 44
  EXPECT_EQ(select_sequence(*plud, ctx_, 5, /*feed_back=*/true), "abaab");
}

TEST_F(OrderedSelectorTest, AnswersNeverRepeatAndStopAtPoolSize) {
  for (PolicyType type : {PolicyType::kRoundRobin, PolicyType::kPriority, PolicyType::kLeastUsed,
                          PolicyType::kLeastUsedDegradation}) {
    auto selector = make(type);
    EXPECT_EQ(select_names(*selector, ctx_, 3), "") << "empty";
    for (Slot s = 0; s < 5; ++s) {
      PolicyParams p = load(type, 10.0 * (s % 2));
      p.priority = s % 2;
      selector->insert(s, p);
    }
    for (int i = 0; i < 20; ++i) {
      const std::string names = select_names(*selector, ctx_, 9);
      EXPECT_EQ(names.size(), 5u);
      EXPECT_EQ(std::set<char>(names.begin(), names.end()).size(), 5u) << names;
      selector->on_selected(static_cast<Slot>(names[0] - 'a'));
    }
  }
}

TEST_F(OrderedSelectorTest, AnswerIsCappedAtMaxItems) {
  auto rr = make(PolicyType::kRoundRobin);
  for (Slot s = 0; s < 300; ++s) rr->insert(s, params_with(PolicyType::kRoundRobin));
  std::vector<Slot> out(kMaxSelectItems);
  EXPECT_EQ(rr->select(1000, ctx_, out.data()), kMaxSelectItems);
  EXPECT_EQ(std::set<Slot>(out.begin(), out.end()).size(), kMaxSelectItems);
}

TEST_F(OrderedSelectorTest, InsertOfPresentSlotUpdatesAndUnknownEraseIsIgnored) {
  auto lu = make(PolicyType::kLeastUsed);
  lu->insert(0, load(PolicyType::kLeastUsed, 50));
  lu->insert(1, load(PolicyType::kLeastUsed, 40));
  lu->insert(0, load(PolicyType::kLeastUsed, 30));
  EXPECT_EQ(lu->size(), 2u);
  EXPECT_EQ(select_names(*lu, ctx_, 2), "ab");
  lu->erase(7);
  lu->erase(1000000);
  lu->on_selected(9);
  EXPECT_EQ(lu->size(), 2u);
}

TEST_F(OrderedSelectorTest, ChurnKeepsOrderAgainstAReference) {
  // Many distinct loads: compare the group order with a straightforward sort.
  auto lu = make(PolicyType::kLeastUsed);
  Xoshiro256 rng(7);
  std::vector<int> load_of(200, -1);
  for (int step = 0; step < 5000; ++step) {
    const Slot s = static_cast<Slot>(rng.below(200));
    const int l = static_cast<int>(rng.below(20));
    if (rng.below(4) == 0) {
      lu->erase(s);
      load_of[s] = -1;
    } else {
      lu->update(s, load(PolicyType::kLeastUsed, l));
      load_of[s] = l;
    }
    if (step % 50 == 0) reclaimer_.drain();
  }
  std::vector<int> expected;
  for (int l : load_of) if (l >= 0) expected.push_back(l);
  std::sort(expected.begin(), expected.end());
  std::vector<Slot> out(kMaxSelectItems);
  const std::size_t n = lu->select(kMaxSelectItems, ctx_, out.data());
  ASSERT_EQ(n, std::min(expected.size(), kMaxSelectItems));
  EXPECT_EQ(lu->size(), expected.size());
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(load_of[out[i]], expected[i]) << i;
}

}  // namespace
}  // namespace poolreg::policy
