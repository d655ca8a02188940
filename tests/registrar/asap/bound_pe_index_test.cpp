// BoundPeIndex: PEs per association as a checked hint; stale entries dropped, lists bounded.
#include "registrar/asap/bound_pe_index.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tests/registrar/asap/asap_test_support.hpp"

namespace poolreg::asap::testing {
namespace {

TEST(BoundPeIndex, VisitsOnlyStillBoundPesAndStaysBounded) {
  BoundPeIndex index;
  std::set<PoolElementId> bound;  // what the "server" says is bound to connection 1
  auto still = [&](const BoundPeIndex::Key& k) { return bound.count(k.id) != 0; };
  for (PoolElementId id = 1; id <= 4; ++id) {
    bound.insert(id);
    index.add(1, handle("P"), id, still);
  }
  index.add(1, handle("P"), 2, still);  // a re-registration: a repeat, merged by the next compaction
  bound.erase(3);  // moved away / deregistered
  std::multiset<PoolElementId> seen;
  index.visit(1, still, [&](const BoundPeIndex::Key& k) { seen.insert(k.id); });
  EXPECT_EQ(seen, (std::multiset<PoolElementId>{1, 2, 4}));  // each still-bound PE once
  EXPECT_EQ(index.size(1), 3u);
  // Re-registrations of bound PEs alone never grow the list past twice the PEs bound.
  for (int round = 0; round < 1000; ++round)
    for (PoolElementId id : {1, 2, 4}) index.add(1, handle("P"), id, still);
  EXPECT_LE(index.size(1), 8u);
  // Same PE ID in another pool: another PE.
  bound.insert(7);
  index.add(1, handle("P"), 7, still);
  index.add(1, handle("Q"), 7, still);
  std::multiset<std::string> pes;
  index.visit(1, still, [&](const BoundPeIndex::Key& k) {
    pes.insert(k.handle.to_display() + "/" + std::to_string(k.id));
  });
  EXPECT_EQ(pes, (std::multiset<std::string>{"P/1", "P/2", "P/4", "P/7", "Q/7"}));
  // Churn: one PE at a time bound and gone again never grows the list past its bound.
  for (PoolElementId id = 100; id < 10100; ++id) {
    bound.insert(id);
    index.add(1, handle("P"), id, still);
    bound.erase(id);
  }
  EXPECT_LE(index.size(1), 16u);
  index.erase(1);
  EXPECT_EQ(index.size(1), 0u);
  seen.clear();
  index.visit(1, still, [&](const BoundPeIndex::Key& k) { seen.insert(k.id); });
  EXPECT_TRUE(seen.empty());
}

}  // namespace
}  // namespace poolreg::asap::testing
