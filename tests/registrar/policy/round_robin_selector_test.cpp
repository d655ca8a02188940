// RoundRobinSelector (RR) and selectors built inside their owner's storage (construct_selector).
#include "registrar/policy/round_robin_selector.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "registrar/policy/selector.hpp"
#include "selector_test_support.hpp"

namespace poolreg::policy {
namespace {

using testing::params_with;
using testing::select_names;
using testing::select_sequence;

TEST(RoundRobinSelectorTest, MakeSelectorGivesRoundRobinItsOwnSelector) {
  DeferredReclaimer reclaimer;
  auto rr = make_selector(PolicyType::kRoundRobin, reclaimer);
  EXPECT_NE(dynamic_cast<RoundRobinSelector*>(rr.get()), nullptr);
  EXPECT_EQ(rr->type(), PolicyType::kRoundRobin);
  EXPECT_FALSE(rr->needs_selection_feedback());
}

// RR ignores policy values: a re-registration (update, or insert of a present slot) keeps the
// PE's turn and the rotation goes on undisturbed.
TEST(RoundRobinSelectorTest, UpdateKeepsTheTurn) {
  DeferredReclaimer reclaimer;
  SelectorContext ctx(1);
  RoundRobinSelector rr(reclaimer);
  for (Slot s = 0; s < 4; ++s) rr.insert(s, params_with(PolicyType::kRoundRobin));
  EXPECT_EQ(select_sequence(rr, ctx, 2), "ab");
  PolicyParams changed = params_with(PolicyType::kRoundRobin);
  changed.load = 12345;
  rr.update(2, changed);
  rr.insert(3, changed);
  EXPECT_EQ(rr.size(), 4u);
  EXPECT_EQ(select_sequence(rr, ctx, 6), "cdabcd");
}

TEST(RoundRobinSelectorTest, EraseOfAnyPositionKeepsEveryOtherPeInTheRotation) {
  DeferredReclaimer reclaimer;
  SelectorContext ctx(1);
  RoundRobinSelector rr(reclaimer);
  for (Slot s = 0; s < 200; ++s) rr.insert(s, params_with(PolicyType::kRoundRobin));
  for (Slot s = 0; s < 200; s += 3) rr.erase(s);  // first, middle and last ring positions
  rr.erase(0);                                    // absent: ignored
  rr.erase(100000);
  std::set<Slot> seen;
  std::vector<Slot> out(1);
  for (std::size_t i = 0; i < rr.size(); ++i) {
    ASSERT_EQ(rr.select(1, ctx, out.data()), 1u);
    seen.insert(out[0]);
  }
  EXPECT_EQ(seen.size(), rr.size());  // each remaining PE once per round
  for (Slot s : seen) EXPECT_NE(s % 3, 0u);
  EXPECT_EQ(select_names(rr, ctx, 0), "");
}

// construct_selector builds the same selector as make_selector inside the caller's storage.
TEST(RoundRobinSelectorTest, ConstructSelectorInStorageAnswersLikeMakeSelector) {
  for (PolicyType type : {PolicyType::kRoundRobin, PolicyType::kLeastUsed, PolicyType::kWeightedRoundRobin,
                          PolicyType::kRandom}) {
    DeferredReclaimer reclaimer;
    alignas(kSelectorStorageAlign) unsigned char storage[kSelectorStorageBytes];
    Selector* inside = construct_selector(type, reclaimer, storage);
    auto made = make_selector(type, reclaimer);
    EXPECT_EQ(static_cast<void*>(inside), static_cast<void*>(storage));
    EXPECT_EQ(typeid(*inside), typeid(*made));
    for (Slot s = 0; s < 5; ++s) {
      inside->insert(s, params_with(type));
      made->insert(s, params_with(type));
    }
    SelectorContext a(7), b(7);
    EXPECT_EQ(select_sequence(*inside, a, 10), select_sequence(*made, b, 10)) << static_cast<int>(type);
    std::destroy_at(inside);
  }
}

}  // namespace
}  // namespace poolreg::policy
