// poolgen's generator-lane arithmetic without a network (perf/poolgen/lane_partition.hpp,
// run_stats.hpp merge_lane, descriptor_limit.hpp, the report's association and memory fields).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "perf/poolgen/descriptor_limit.hpp"
#include "perf/poolgen/lane_partition.hpp"
#include "perf/poolgen/run_report.hpp"
#include "perf/poolgen/run_stats.hpp"
#include "perf/poolgen/verdict.hpp"

namespace poolreg::poolgen {
namespace {

TEST(PoolgenLanes, SharesCoverEveryItemOnceInOrder) {
  for (std::uint64_t total : {0ull, 1ull, 7ull, 200ull, 100001ull}) {
    for (std::uint32_t lanes : {1u, 2u, 3u, 15u}) {
      std::uint64_t sum = 0;
      for (std::uint32_t k = 0; k < lanes; ++k) {
        EXPECT_EQ(lane_first(total, lanes, k), sum) << total << "/" << lanes << " lane " << k;
        const std::uint64_t share = lane_share(total, lanes, k);
        // Shares differ by at most one, the larger first.
        EXPECT_TRUE(share == total / lanes || share == total / lanes + 1);
        sum += share;
      }
      EXPECT_EQ(sum, total);
      EXPECT_EQ(lane_first(total, lanes, lanes), total);
    }
  }
  EXPECT_EQ(lane_share(5, 2, 0), 3u);
  EXPECT_EQ(lane_share(5, 2, 1), 2u);
  EXPECT_EQ(lane_share(5, 2, 2), 0u);  // no such lane
}

TEST(PoolgenLanes, PartitionSplitsPesRatesAndKeepsPeIdsUnique) {
  PoolgenConfig c;
  c.threads = 3;
  c.pes = 200;
  c.probes = 2;
  c.pus = 10;
  c.register_rate = 3000;
  c.resolve_rate = 1000;
  c.pe_associations = 4;
  c.seed = 7;
  const auto lanes = partition_lanes(c);
  ASSERT_EQ(lanes.size(), 3u);
  std::uint64_t pes = 0, pus = 0, probes = 0, assocs = 0;
  double reg = 0, res = 0;
  std::set<std::uint64_t> ids;  // every PE ID of every lane: unique and 1..202 without gaps
  for (std::uint32_t k = 0; k < lanes.size(); ++k) {
    const PoolgenConfig& l = lanes[k];
    EXPECT_EQ(l.lane, k);
    EXPECT_EQ(l.lanes, 3u);
    EXPECT_EQ(l.seed, 7u + k);
    EXPECT_EQ(l.load_pe_base, pes);
    EXPECT_GE(l.pe_associations, 1u);
    for (std::uint64_t i = 0; i < l.pes + l.probes; ++i) EXPECT_TRUE(ids.insert(l.pe_id_base + i + 1).second);
    // Rates in proportion: every lane ramps as long as the whole run would.
    EXPECT_NEAR(l.register_rate / 3000.0, static_cast<double>(l.pes) / 200.0, 1e-12);
    pes += l.pes;
    pus += l.pus;
    probes += l.probes;
    assocs += l.pe_associations;
    reg += l.register_rate;
    res += l.resolve_rate;
  }
  EXPECT_EQ(lanes[0].probes, 2u);  // probes on lane 0 only
  EXPECT_EQ(pes, 200u);
  EXPECT_EQ(pus, 10u);
  EXPECT_EQ(probes, 2u);
  EXPECT_EQ(assocs, 4u);
  EXPECT_DOUBLE_EQ(reg, 3000.0);
  EXPECT_DOUBLE_EQ(res, 1000.0);
  EXPECT_EQ(ids.size(), 202u);
  EXPECT_EQ(*ids.begin(), 1u);
  EXPECT_EQ(*ids.rbegin(), 202u);

  c.threads = 1;  // one lane: the configuration as given
  const auto one = partition_lanes(c);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].pes, 200u);
  EXPECT_EQ(one[0].pe_id_base, 0u);
  EXPECT_DOUBLE_EQ(one[0].register_rate, 3000.0);
}

TEST(PoolgenLanes, MergeSumsCountsAndAssociationsAndTakesProcessMemoryOnce) {
  RunStats a, b;
  a.c.registrations_ok = 3;
  a.c.connects = 10;
  b.c.registrations_ok = 4;
  b.c.pcap_messages = 2;  // the last counter is summed too
  a.registration.record(1000);
  b.registration.record(3000);
  a.error("x");
  b.error("x");
  b.error("y");
  a.pes_registered = 5;
  b.pes_registered = 6;
  a.ramp_seconds = 1.5;
  b.ramp_seconds = 2.5;
  a.vmrss_before_setup_bytes = 100;
  b.vmrss_before_setup_bytes = 120;
  a.vmrss_after_setup_bytes = 900;
  b.vmrss_after_setup_bytes = 1100;
  a.pe_assocs = {.attempted = 10, .up = 8, .failed = 2, .up_at_load_end = 8, .first_attempt_ns = 2000, .last_up_ns = 5000};
  b.pe_assocs = {.attempted = 5, .up = 5, .failed = 0, .up_at_load_end = 4, .first_attempt_ns = 1000, .last_up_ns = 4000};
  RunStats t;
  t.lanes = 0;
  merge_lane(t, a);
  merge_lane(t, b);
  EXPECT_EQ(t.lanes, 2u);
  EXPECT_EQ(t.c.registrations_ok, 7u);
  EXPECT_EQ(t.c.connects, 10u);
  EXPECT_EQ(t.c.pcap_messages, 2u);
  EXPECT_EQ(t.registration.count(), 2u);
  EXPECT_EQ(t.registration.max(), 3000);
  EXPECT_EQ(t.errors["x"], 2u);
  EXPECT_EQ(t.error_count, 3u);
  EXPECT_EQ(t.pes_registered, 11u);
  EXPECT_DOUBLE_EQ(t.ramp_seconds, 2.5);
  EXPECT_EQ(t.vmrss_before_setup_bytes, 100u);
  EXPECT_EQ(t.vmrss_after_setup_bytes, 1100u);
  EXPECT_EQ(t.pe_assocs.attempted, 15u);
  EXPECT_EQ(t.pe_assocs.up, 13u);
  EXPECT_EQ(t.pe_assocs.failed, 2u);
  EXPECT_EQ(t.pe_assocs.up_at_load_end, 12u);
  EXPECT_EQ(t.pe_assocs.first_attempt_ns, 1000);
  EXPECT_EQ(t.pe_assocs.last_up_ns, 5000);
  EXPECT_DOUBLE_EQ(t.pe_assocs.setup_rate_per_s(), 13 * 1e9 / 4000);

  // A lane that never finished its ramp: the run did not either.
  RunStats c;
  c.ramp_seconds = 0;
  merge_lane(t, c);
  EXPECT_DOUBLE_EQ(t.ramp_seconds, 0);
}

TEST(PoolgenLanes, BytesPerAndSetupRateGuardEmptyRuns) {
  EXPECT_DOUBLE_EQ(bytes_per(1000, 3000, 4), 500.0);
  EXPECT_DOUBLE_EQ(bytes_per(1000, 3000, 0), 0.0);
  EXPECT_DOUBLE_EQ(bytes_per(3000, 1000, 4), 0.0);  // shrank: nothing to attribute
  EXPECT_DOUBLE_EQ(bytes_per(0, 1000, 4), 0.0);     // not measured
  AssociationStats s;
  EXPECT_DOUBLE_EQ(s.setup_rate_per_s(), 0.0);
  s.up = 1;
  s.first_attempt_ns = 5;
  s.last_up_ns = 5;
  EXPECT_DOUBLE_EQ(s.setup_rate_per_s(), 0.0);
  EXPECT_GT(process_vmrss_bytes(), 0u);  // /proc/self/status is there on Linux
}

TEST(PoolgenLanes, DescriptorsOnlyCountTcpAssociations) {
  PoolgenConfig c;
  c.pes = 100000;
  c.probes = 0;
  c.assoc_per_pe = true;
  c.threads = 2;
  const std::uint64_t sctp = descriptors_needed(c);
  EXPECT_LT(sctp, 1000u);  // AF_CONN: no descriptor per association
  c.transport = client::ClientTransport::kTcp;
  EXPECT_GE(descriptors_needed(c), 100000u + sctp);
  // Nothing to raise for a small need; an impossible one is refused with the reason.
  auto small = ensure_descriptors(16);
  ASSERT_TRUE(small);
  EXPECT_TRUE(small->empty());
  auto huge = ensure_descriptors(std::uint64_t{1} << 40);
  if (!huge) {
    EXPECT_NE(huge.error().find("hard limit"), std::string::npos) << huge.error();
  }
}

TEST(PoolgenLanes, ReportCarriesAssociationAndMemoryFields) {
  PoolgenConfig c;
  c.pes = 4;
  c.probes = 0;
  c.threads = 2;
  c.assoc_per_pe = true;
  RunStats s;
  s.lanes = 2;
  s.pe_assocs = {.attempted = 4, .up = 3, .failed = 1, .up_at_load_end = 3, .first_attempt_ns = 1'000'000'000,
                 .last_up_ns = 1'500'000'000};
  s.vmrss_before_setup_bytes = 10'000;
  s.vmrss_after_setup_bytes = 22'000;
  const Verdict v = judge(c, s);
  const nlohmann::json j = report_json(c, s, v);
  EXPECT_EQ(j["config"]["threads"], 2);
  EXPECT_EQ(j["config"]["assoc_per_pe"], true);
  const auto& a = j["pe_associations"];
  EXPECT_EQ(a["lanes"], 2);
  EXPECT_EQ(a["attempted"], 4);
  EXPECT_EQ(a["up"], 3);
  EXPECT_EQ(a["failed"], 1);
  EXPECT_DOUBLE_EQ(a["setup_s"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(a["setup_rate_per_s"].get<double>(), 6.0);
  EXPECT_DOUBLE_EQ(j["memory"]["vmrss_bytes_per_pe"].get<double>(), 3000.0);
  EXPECT_DOUBLE_EQ(j["memory"]["vmrss_bytes_per_association"].get<double>(), 4000.0);
  const std::string text = report_text(c, s, v);
  EXPECT_NE(text.find("PE associations (2 lane(s), one per PE): attempted 4 up 3 failed 1"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace poolreg::poolgen
