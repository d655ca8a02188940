// BoundPeIndex: PEs per association as a checked hint; stale entries dropped, lists bounded.
#include "registrar/asap/bound_pe_index.hpp"

#include <gtest/gtest.h>

#include <set>

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
  index.add(1, handle("P"), 2, still);  // noted once
  EXPECT_EQ(index.size(1), 4u);
  bound.erase(3);  // moved away / deregistered
  std::set<PoolElementId> seen;
  index.visit(1, still, [&](const BoundPeIndex::Key& k) { seen.insert(k.id); });
  EXPECT_EQ(seen, (std::set<PoolElementId>{1, 2, 4}));
  EXPECT_EQ(index.size(1), 3u);
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
