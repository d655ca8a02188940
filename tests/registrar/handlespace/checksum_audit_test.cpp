// audit_checksums(): after random churn both executions agree with the incremental checksums and
// walk every PE; compare_tallies() reports every kind of disagreement.
#include "registrar/handlespace/checksum_audit.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "tests/registrar/handlespace/handlespace_test_support.hpp"

namespace poolreg::handlespace {
namespace {

using testing::handle;
using testing::make_pe;

TEST(ChecksumAudit, EmptyHandlespaceIsClean) {
  QsbrDomain domain(2);
  Handlespace hs(testing::config_with_shards(4), domain);
  for (AuditExecution e : {AuditExecution::kSequential, AuditExecution::kParallel}) {
    const ChecksumAuditReport r = audit_checksums(hs, e);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.shards, 4u);
    EXPECT_EQ(r.pes_walked, 0u);
    EXPECT_EQ(r.owners, 0u);
  }
}

TEST(ChecksumAudit, AgreesWithTheIncrementalChecksumsAfterChurn) {
  QsbrDomain domain(2);
  Handlespace hs(testing::config_with_shards(8), domain);
  std::mt19937_64 rng(7);
  const RegistrarId homes[] = {0x10000001, 0x10000002, 0x10000003};
  for (int step = 0; step < 20'000; ++step) {
    const std::string pool = "pool-" + std::to_string(rng() % 40);
    const PoolElementId id = 1 + rng() % 500;
    switch (rng() % 10) {
      case 0:
      case 1:
        (void)hs.deregister(handle(pool), id);
        break;
      case 2:
        if (step % 1000 == 0) (void)hs.change_owner(homes[rng() % 3], homes[rng() % 3], false);
        break;
      default: {
        // Registration or re-registration, sometimes with another home (ownership moves).
        const PoolElement pe = make_pe(id, homes[rng() % 3], 0x0a000000u + static_cast<std::uint32_t>(rng() % 200));
        (void)hs.register_pe(handle(pool), pe);
      }
    }
  }
  const std::size_t total = hs.counters().pes;
  ASSERT_GT(total, 1000u);
  const ChecksumAuditReport seq = audit_checksums(hs, AuditExecution::kSequential);
  const ChecksumAuditReport par = audit_checksums(hs, AuditExecution::kParallel);
  EXPECT_TRUE(seq.ok());
  EXPECT_TRUE(par.ok());
  EXPECT_EQ(seq.pes_walked, total);
  EXPECT_EQ(par.pes_walked, total);
  EXPECT_EQ(seq.owners, 3u);
  EXPECT_EQ(par.owners, 3u);
}

TEST(ChecksumAudit, CompareTalliesReportsEveryDisagreement) {
  OwnerTallies kept, counted;
  kept[1].acc.add(10, 20);
  kept[1].pes = 1;
  counted[1] = kept[1];  // equal: not reported
  kept[2].acc.add(5, 6);
  kept[2].pes = 2;
  counted[2].acc.add(5, 6);
  counted[2].pes = 1;  // same sums, other count
  kept[3].acc.add(7, 8);
  kept[3].pes = 1;  // kept but no PE found
  counted[4].acc.add(9, 9);
  counted[4].pes = 1;  // PEs whose owner has no accumulator
  kept[5].acc.add(1, 2);
  kept[5].pes = 1;
  counted[5].acc.add(1, 3);
  counted[5].pes = 1;  // only the 32-bit sum differs
  const std::vector<OwnerMismatch> m = compare_tallies(kept, counted);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0].owner, 2u);
  EXPECT_EQ(m[1].owner, 3u);
  EXPECT_EQ(m[1].counted.pes, 0u);
  EXPECT_EQ(m[2].owner, 4u);
  EXPECT_EQ(m[2].kept.pes, 0u);
  EXPECT_EQ(m[3].owner, 5u);
}

}  // namespace
}  // namespace poolreg::handlespace
