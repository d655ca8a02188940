// KeyIndex (B+ tree) against std::map under random churn.
#include "registrar/policy/key_index.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "registrar/policy/xoshiro256.hpp"

namespace poolreg::policy {
namespace {

void* as_value(std::uint32_t key) { return reinterpret_cast<void*>(static_cast<std::uintptr_t>(key) * 8 + 8); }

void expect_matches(const KeyIndex& index, const std::map<std::uint32_t, void*>& reference, std::uint32_t key) {
  const KeyIndex::Lookup got = index.find(key);
  auto it = reference.lower_bound(key);
  void* exact = it != reference.end() && it->first == key ? it->second : nullptr;
  void* predecessor = it != reference.begin() ? std::prev(it)->second : nullptr;
  ASSERT_EQ(got.exact, exact) << key;
  ASSERT_EQ(got.predecessor, predecessor) << key;
}

TEST(KeyIndexTest, EmptyIndex) {
  KeyIndex index;
  EXPECT_EQ(index.find(5).exact, nullptr);
  EXPECT_EQ(index.find(5).predecessor, nullptr);
  index.erase(5);
  EXPECT_EQ(index.size(), 0u);
}

TEST(KeyIndexTest, MatchesStdMapThroughGrowthAndShrinking) {
  KeyIndex index;
  std::map<std::uint32_t, void*> reference;
  Xoshiro256 rng(11);
  for (int phase = 0; phase < 6; ++phase) {
    const bool growing = phase % 2 == 0;
    const std::uint32_t range = phase < 2 ? 500 : 200000;
    for (int step = 0; step < 30000; ++step) {
      const auto key = static_cast<std::uint32_t>(rng.below(range));
      if (rng.below(10) < (growing ? 7u : 2u)) {
        if (reference.count(key) == 0) {
          index.insert(key, as_value(key));
          reference.emplace(key, as_value(key));
        }
      } else {
        index.erase(key);
        reference.erase(key);
      }
      if (step % 97 == 0) expect_matches(index, reference, static_cast<std::uint32_t>(rng.below(range + 10)));
    }
    ASSERT_EQ(index.size(), reference.size());
    std::vector<void*> in_order;
    index.for_each([&](void* v) { in_order.push_back(v); });
    std::vector<void*> expected;
    for (const auto& [k, v] : reference) expected.push_back(v);
    ASSERT_EQ(in_order, expected);
  }
  // Empty it completely, then reuse.
  for (const auto& [k, v] : reference) index.erase(k);
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.find(7).predecessor, nullptr);
  index.insert(7, as_value(7));
  EXPECT_EQ(index.find(8).predecessor, as_value(7));
}

TEST(KeyIndexTest, ExtremeKeys) {
  KeyIndex index;
  index.insert(0, as_value(1));
  index.insert(0xFFFFFFFFu, as_value(2));
  EXPECT_EQ(index.find(0).exact, as_value(1));
  EXPECT_EQ(index.find(0).predecessor, nullptr);
  EXPECT_EQ(index.find(0xFFFFFFFFu).exact, as_value(2));
  EXPECT_EQ(index.find(0xFFFFFFFFu).predecessor, as_value(1));
}

}  // namespace
}  // namespace poolreg::policy
