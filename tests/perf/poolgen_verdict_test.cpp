// poolgen's verdict and timeseries without a network (perf/poolgen/verdict.hpp, timeseries.hpp):
// gate parsing, warnings, gates, exit-code precedence, and the per-second line's arithmetic.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "perf/poolgen/timeseries.hpp"
#include "perf/poolgen/verdict.hpp"

namespace poolreg::poolgen {
namespace {

TEST(PoolgenVerdict, ParsesLatencyGatesByNameAndVerb) {
  auto g = parse_latency_gate("resolution=2.5");
  ASSERT_TRUE(g) << g.error();
  EXPECT_EQ(g->operation, "resolution");
  EXPECT_DOUBLE_EQ(g->max_ms, 2.5);
  for (const auto& [text, op] : {std::pair{"resolve=1", "resolution"}, std::pair{"register=1", "registration"},
                                 std::pair{"move=1", "reregistration"}, std::pair{"m2v=1", "move_to_visible"},
                                 std::pair{"resolution_raw=1", "resolution_raw"}}) {
    g = parse_latency_gate(text);
    ASSERT_TRUE(g) << text << ": " << g.error();
    EXPECT_EQ(g->operation, op) << text;
  }
  for (const char* bad : {"resolution", "resolution=", "resolution=0", "resolution=-1", "resolution=1ms",
                          "nosuch=1", "=1"}) {
    EXPECT_FALSE(parse_latency_gate(bad)) << bad;
  }
  EXPECT_NE(parse_latency_gate("nosuch=1").error().find("unknown operation 'nosuch'"), std::string::npos);
}

RunStats stats_with_resolutions(std::uint64_t n, TimeNs each) {
  RunStats s;
  s.elapsed_s = 10;
  s.c.resolutions_sent = n;
  s.c.resolutions_ok = n;
  for (std::uint64_t i = 0; i < n; ++i) s.resolution.record(each);
  return s;
}

TEST(PoolgenVerdict, GatesDecideExitThreeAndErrorsWin) {
  PoolgenConfig cfg;
  cfg.pes = 0;
  cfg.pus = 1;
  cfg.resolve_rate = 100;
  RunStats s = stats_with_resolutions(1000, 2 * kNsPerMs);  // 100/s over 10 s, 2 ms each
  EXPECT_EQ(judge(cfg, s).exit_code, kExitOk);
  EXPECT_TRUE(judge(cfg, s).warnings.empty());

  cfg.max_p99 = {{"resolution", 1.0}};
  Verdict v = judge(cfg, s);
  EXPECT_EQ(v.exit_code, kExitGateFailed);
  ASSERT_EQ(v.gates.size(), 1u);
  EXPECT_FALSE(v.gates[0].passed);
  cfg.max_p99 = {{"resolution", 3.0}};
  EXPECT_EQ(judge(cfg, s).exit_code, kExitOk);
  cfg.max_p99 = {{"move_to_visible", 3.0}};  // no samples: the gate cannot pass
  v = judge(cfg, s);
  EXPECT_EQ(v.exit_code, kExitGateFailed);
  EXPECT_EQ(v.gates[0].detail, "no samples");

  cfg.max_p99.clear();
  cfg.min_rate_ratio = 0.9;
  EXPECT_EQ(judge(cfg, s).exit_code, kExitOk);
  cfg.resolve_rate = 200;  // achieved 100/s is half of it
  v = judge(cfg, s);
  EXPECT_EQ(v.exit_code, kExitGateFailed);
  ASSERT_EQ(v.rates.size(), 1u);
  EXPECT_DOUBLE_EQ(v.rates[0].ratio, 0.5);
  ASSERT_EQ(v.warnings.size(), 1u);
  EXPECT_NE(v.warnings[0].find("below 95 %"), std::string::npos) << v.warnings[0];

  s.error("resolution timeout");
  EXPECT_EQ(judge(cfg, s).exit_code, kExitErrors);  // errors win over a failed gate
}

TEST(PoolgenVerdict, SkippedResolutionsAreWarnedAbout) {
  PoolgenConfig cfg;
  cfg.pes = 0;
  cfg.pus = 1;
  cfg.resolve_rate = 100;
  RunStats s = stats_with_resolutions(1000, kNsPerMs);
  s.c.resolutions_skipped = 250;
  const Verdict v = judge(cfg, s);
  ASSERT_FALSE(v.warnings.empty());
  EXPECT_NE(v.warnings[0].find("250 resolutions (20.0 % of those due) were never sent"), std::string::npos)
      << v.warnings[0];
  EXPECT_EQ(v.exit_code, kExitOk);  // a warning, not an error
}

TEST(PoolgenVerdict, RegistrationRampRateIsCheckedOnlyWhenItLastsASecond) {
  PoolgenConfig cfg;
  cfg.pus = 0;
  cfg.probes = 0;
  cfg.pes = 500;
  cfg.register_rate = 1000;  // a 0.5 s ramp: not a rate measurement
  RunStats s;
  s.elapsed_s = 5;
  s.ramp_seconds = 1;
  s.c.registrations_ok = 500;
  EXPECT_TRUE(rate_checks(cfg, s).empty());
  cfg.pes = 2000;  // a 2 s ramp that took 4 s: half the target
  s.ramp_seconds = 4;
  s.c.registrations_ok = 2000;
  const auto checks = rate_checks(cfg, s);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].operation, "registration");
  EXPECT_DOUBLE_EQ(checks[0].ratio, 0.5);
}

TEST(PoolgenTimeseries, OneLinePerCallWithThisSecondsFigures) {
  const std::string path = "/tmp/poolgen-ts-" + std::to_string(::getpid()) + ".jsonl";
  PoolgenConfig cfg;
  cfg.pus = 1;
  cfg.resolve_rate = 300;
  auto writer = TimeseriesWriter::open(path, cfg);
  ASSERT_TRUE(writer) << writer.error();
  RunStats s;
  s.c.resolutions_ok = 200;
  for (int i = 0; i < 200; ++i) s.window.resolution.record(kNsPerMs);
  ASSERT_TRUE((*writer)->write_second(s, 1.0, "load"));
  s.window.reset();
  s.c.resolutions_ok = 500;  // +300 in the next second, slower ones
  for (int i = 0; i < 300; ++i) s.window.resolution.record(4 * kNsPerMs);
  s.error("resolution timeout");
  ASSERT_TRUE((*writer)->write_second(s, 2.0, "load"));
  writer->reset();
  std::ifstream in(path);
  std::string first, second, third;
  ASSERT_TRUE(std::getline(in, first));
  ASSERT_TRUE(std::getline(in, second));
  EXPECT_FALSE(std::getline(in, third));
  const auto a = nlohmann::json::parse(first);
  const auto b = nlohmann::json::parse(second);
  EXPECT_DOUBLE_EQ(a["rate_per_s"]["resolution"].get<double>(), 200.0);
  EXPECT_DOUBLE_EQ(b["rate_per_s"]["resolution"].get<double>(), 300.0);
  EXPECT_DOUBLE_EQ(b["target_per_s"]["resolution"].get<double>(), 300.0);
  EXPECT_NEAR(a["latency_ms"]["resolution"]["p99"].get<double>(), 1.0, 0.02);
  EXPECT_NEAR(b["latency_ms"]["resolution"]["p50"].get<double>(), 4.0, 0.07);  // this second only
  EXPECT_EQ(b["latency_ms"]["resolution"]["count"].get<int>(), 300);
  EXPECT_FALSE(b["latency_ms"].contains("registration"));  // no samples: not in the line
  EXPECT_EQ(a["errors"].get<int>(), 0);
  EXPECT_EQ(b["errors"].get<int>(), 1);
  EXPECT_EQ(b["errors_total"].get<int>(), 1);
  ::unlink(path.c_str());
  EXPECT_FALSE(TimeseriesWriter::open("/nonexistent-dir/ts.jsonl", cfg));
}

}  // namespace
}  // namespace poolreg::poolgen
