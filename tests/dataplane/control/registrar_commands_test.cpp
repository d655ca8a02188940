// The registrar command set and JSON results on real registrar objects (handlespace, ASAP and
// ENRP servers), dispatched without sockets; argument parsing; the latency histogram.
#include "dataplane/control/registrar_commands.hpp"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>

#include "dataplane/control/operator_arguments.hpp"
#include "dataplane/runtime/lane_counters.hpp"
#include "tests/dataplane/control/control_test_support.hpp"

namespace poolreg::control {
namespace {

using testing::kOwnId;
using testing::kPeerId;
using testing::MiniRegistrar;

class RegistrarCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(reg.add_pe("echo", 1));
    ASSERT_TRUE(reg.add_pe("echo", 2));
    ASSERT_TRUE(reg.add_pe("echo", 0x1234567890ull, PolicyType::kRoundRobin, kPeerId));
    ASSERT_TRUE(reg.add_pe("web", 7, PolicyType::kWeightedRoundRobin, kOwnId, 5));
    ASSERT_TRUE(reg.add_pe(std::string("\x01\x02", 2), 9));
    bindings = reg.bindings();
    bindings.logger = &logger;
    register_registrar_commands(registry, bindings);
  }
  json run(const std::string& cmd, json args = json::object()) {
    return registry.dispatch(json{{"cmd", cmd}, {"args", args}});
  }
  json ok(const std::string& cmd, json args = json::object()) {
    json r = run(cmd, std::move(args));
    EXPECT_EQ(r["ok"], true) << r.dump();
    return r["result"];
  }

  MiniRegistrar reg;
  spdlog::logger logger{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  RegistrarBindings bindings;
  CommandRegistry registry;
};

TEST_F(RegistrarCommandsTest, EveryCommandIsRegistered) {
  for (const char* c : {"status", "health", "pools", "pool", "pe", "peers", "resolve", "deregister", "audit", "takeover-status",
                        "stats", "log-level", "reload", "config"})
    EXPECT_TRUE(registry.has_command(c)) << c;
}

TEST_F(RegistrarCommandsTest, HealthJudgesTheRunningRegistrar) {
  // The MiniRegistrar listens (status listeners) and its ENRP mentor discovery window is still
  // open: not healthy, and the reason says so.
  ASSERT_FALSE(reg.enrp->startup_complete());
  const json r = ok("health");
  EXPECT_EQ(r["healthy"], false);
  ASSERT_EQ(r["checks"].size(), 3u);
  EXPECT_EQ(r["checks"][0]["ok"], true);
  EXPECT_EQ(r["checks"][1]["name"], "enrp_startup");
  EXPECT_EQ(r["checks"][1]["ok"], false);
  EXPECT_NE(r["checks"][2]["detail"].get<std::string>().find("never heard from"), std::string::npos) << r.dump();
}

TEST_F(RegistrarCommandsTest, AuditVerifyRecomputesTheChecksums) {
  const json r = ok("audit", {{"verify", true}});
  ASSERT_TRUE(r.contains("verify")) << r.dump();
  EXPECT_EQ(r["verify"]["ok"], true);
  EXPECT_EQ(r["verify"]["pes"], 5);
  EXPECT_EQ(r["verify"]["owners"], 2);  // own ID and the peer's
  EXPECT_TRUE(r["verify"]["mismatches"].empty());
}

TEST_F(RegistrarCommandsTest, StatsCarryTheProcess) {
  const json r = ok("stats");
  ASSERT_TRUE(r["process"].is_object()) << r.dump();
  EXPECT_GT(r["process"]["resident_bytes"].get<double>(), 0);
  EXPECT_GE(r["process"]["open_fds"].get<std::uint64_t>(), 3u);
}

TEST_F(RegistrarCommandsTest, Pools) {
  const json r = ok("pools");
  EXPECT_EQ(r["pool_count"], 3);
  EXPECT_EQ(r["pe_count"], 5);
  EXPECT_EQ(r["truncated"], false);
  ASSERT_EQ(r["pools"].size(), 3u);
  // Sorted by handle bytes; the binary handle shows as hex.
  EXPECT_EQ(r["pools"][0]["handle"], "0x0102");
  EXPECT_EQ(r["pools"][1]["handle"], "echo");
  EXPECT_EQ(r["pools"][1]["handle_hex"], "0x6563686f");
  EXPECT_EQ(r["pools"][1]["pe_count"], 3);
  EXPECT_EQ(r["pools"][1]["policy_short"], "RR");
  EXPECT_EQ(r["pools"][1]["transport"], "sctp");
  EXPECT_EQ(r["pools"][2]["policy"], "WeightedRoundRobin");
  const json limited = ok("pools", {{"limit", 1}});
  EXPECT_EQ(limited["pools"].size(), 1u);
  EXPECT_EQ(limited["truncated"], true);
}

TEST_F(RegistrarCommandsTest, PoolAndPe) {
  json r = ok("pool", {{"handle", "echo"}});
  EXPECT_EQ(r["pe_count"], 3);
  EXPECT_EQ(r["owned_pe_count"], 2);
  ASSERT_EQ(r["pes"].size(), 3u);
  EXPECT_EQ(r["pes"][0]["id"], "0x00000001");
  EXPECT_EQ(r["pes"][0]["owned"], true);
  EXPECT_EQ(r["pes"][0]["home"], "0x10000001");
  EXPECT_EQ(r["pes"][0]["user_transport"]["addresses"][0], "127.0.0.1");
  EXPECT_EQ(r["pes"][0]["user_transport"]["port"], 7001);
  EXPECT_EQ(r["pes"][2]["id"], "0x0000001234567890");
  EXPECT_EQ(r["pes"][2]["owned"], false);
  // Hex handle forms reach the same pool.
  EXPECT_EQ(ok("pool", {{"handle", "0x6563686f"}})["handle"], "echo");
  EXPECT_EQ(ok("pool", {{"handle_hex", "6563686f"}})["handle"], "echo");
  EXPECT_EQ(ok("pool", {{"handle", "0x0102"}})["pe_count"], 1);
  EXPECT_TRUE(ok("pool", {{"handle", "echo"}, {"limit", 1}})["truncated"].get<bool>());

  r = ok("pe", {{"handle", "web"}, {"id", "7"}});
  EXPECT_EQ(r["pe"]["id"], "0x00000007");
  EXPECT_EQ(r["pe"]["policy"]["short"], "WRR");
  EXPECT_EQ(r["pe"]["policy"]["weight"], 5);
  EXPECT_EQ(r["pe"]["registration_life_ms"], 30000);
  EXPECT_EQ(ok("pe", {{"handle", "echo"}, {"id", "0x1234567890"}})["pe"]["home"], "0x10000002");
}

// Handover hold (issue 14 item 3): pool and pe show which PEs wait out the hold.
TEST_F(RegistrarCommandsTest, PoolAndPeShowHeldPes) {
  EXPECT_EQ(ok("pe", {{"handle", "echo"}, {"id", "1"}})["pe"]["held"], false);
  EXPECT_EQ(ok("pool", {{"handle", "echo"}})["held_pe_count"], 0);
  PoolElement pe;
  pe.id = 40;
  pe.home_registrar = kOwnId;
  pe.user_transport.port = 7040;
  pe.user_transport.addresses = {IpAddress::v4(0x7f000001u)};
  handlespace::RegistrationOptions o;
  o.association = 55;
  const PoolHandle echo = *PoolHandle::from_string("echo");
  ASSERT_TRUE(reg.hs->register_pe(echo, pe, o).has_value());
  ASSERT_EQ(reg.hs->hold_association(55, [](const PoolHandle&, const handlespace::PoolElementView&) {}), 1u);
  EXPECT_EQ(ok("pe", {{"handle", "echo"}, {"id", "40"}})["pe"]["held"], true);
  EXPECT_EQ(ok("pe", {{"handle", "echo"}, {"id", "1"}})["pe"]["held"], false);
  const json pool = ok("pool", {{"handle", "echo"}});
  EXPECT_EQ(pool["pe_count"], 4);
  EXPECT_EQ(pool["held_pe_count"], 1);
  for (const json& p : pool["pes"]) EXPECT_EQ(p["held"], p["id"] == "0x00000028") << p.dump();
}

TEST_F(RegistrarCommandsTest, NotFoundAndBadArguments) {
  json r = run("pool", {{"handle", "nope"}});
  EXPECT_EQ(r["code"], "not_found");
  EXPECT_EQ(r["error"], "unknown pool handle 'nope'");
  EXPECT_EQ(run("pe", {{"handle", "echo"}, {"id", "99"}})["code"], "not_found");
  EXPECT_EQ(run("pe", {{"handle", "echo"}, {"id", "zz"}})["code"], "bad_request");
  EXPECT_EQ(run("pe", {{"handle", "echo"}, {"id", "0"}})["code"], "bad_request");
  EXPECT_EQ(run("pe", {{"handle", "echo"}})["code"], "bad_request");
  EXPECT_EQ(run("pool", json::object())["code"], "bad_request");
  EXPECT_EQ(run("pool", {{"handle", ""}})["code"], "bad_request");
  EXPECT_EQ(run("pool", {{"handle", std::string(65, 'h')}})["code"], "bad_request");
  EXPECT_EQ(run("pool", {{"handle", 5}})["code"], "bad_request");
  EXPECT_EQ(run("pools", {{"limit", -1}})["code"], "bad_request");
  EXPECT_EQ(run("resolve", {{"handle", "nope"}})["code"], "not_found");
  EXPECT_EQ(run("deregister", {{"handle", "echo"}, {"id", 99}})["code"], "not_found");
  EXPECT_EQ(run("log-level", {{"level", "loud"}})["code"], "bad_request");
}

TEST_F(RegistrarCommandsTest, ResolveUsesThePolicy) {
  json r = ok("resolve", {{"handle", "echo"}, {"n", 2}});
  EXPECT_EQ(r["requested"], 2);
  EXPECT_EQ(r["pes"].size(), 2u);
  r = ok("resolve", {{"handle", "echo"}});  // default: 3
  EXPECT_EQ(r["pes"].size(), 3u);
  r = ok("resolve", {{"handle", "echo"}, {"n", 1}});
  const std::string first = r["pes"][0]["id"];
  r = ok("resolve", {{"handle", "echo"}, {"n", 1}});
  EXPECT_NE(r["pes"][0]["id"], first) << "round robin advances";
}

TEST_F(RegistrarCommandsTest, DeregisterRemovesThePe) {
  EXPECT_EQ(ok("deregister", {{"handle", "echo"}, {"id", "0x2"}})["removed"], true);
  EXPECT_EQ(ok("pool", {{"handle", "echo"}})["pe_count"], 2);
  EXPECT_EQ(run("deregister", {{"handle", "echo"}, {"id", "0x2"}})["code"], "not_found");
  EXPECT_EQ(reg.asap->counters().removed_by_operator, 1u);
}

TEST_F(RegistrarCommandsTest, StatusStatsPeersTakeoverAudit) {
  json r = ok("status");
  EXPECT_EQ(r["registrar_id"], "0x10000001");
  EXPECT_EQ(r["mode"], "rfc");
  EXPECT_EQ(r["summary"]["pools"], 3);
  EXPECT_EQ(r["summary"]["pes"], 5);
  EXPECT_EQ(r["enrp"]["enabled"], true);
  EXPECT_EQ(r["listeners"].size(), 3u);
  EXPECT_GE(r["uptime_s"].get<double>(), 0.0);

  r = ok("stats");
  EXPECT_EQ(r["handlespace"]["pes"], 5);
  EXPECT_TRUE(r["asap"].contains("registrations"));
  EXPECT_TRUE(r["enrp"].contains("sync_bytes_sent"));
  EXPECT_TRUE(r["enrp"]["peers"].contains("alive"));
  EXPECT_TRUE(r["transport"].is_null());
  EXPECT_EQ(r["resolution_latency"]["count"], 5);
  EXPECT_EQ(r["resolution_latency"]["buckets"].back()["count"], 5);

  r = ok("peers");
  ASSERT_EQ(r["peers"].size(), 1u);
  EXPECT_EQ(r["peers"][0]["port"], 9902);
  EXPECT_EQ(r["peers"][0]["static"], true);
  EXPECT_EQ(r["peers"][0]["addresses"][0], "127.0.0.1");

  EXPECT_TRUE(ok("takeover-status")["takeovers"].is_array());
  r = ok("audit");
  EXPECT_EQ(r["started"], true);
  EXPECT_EQ(r["peers"], 1);
}

// The lane table's descriptor of `key` (static storage).
const CounterDescriptor* lane_descriptor(std::string_view key) {
  for (const auto& f : runtime::lane_counter_fields())
    if (f.describe.key == key) return &f.describe;
  return nullptr;
}

// SCTP lanes (kernel lanes or DPDK poll lcores): their counters under stats.lanes with the
// backend, and the resolutions they answered in the status summary (they never reach
// AsapServer). Without the hook: lanes null, summary unchanged.
TEST_F(RegistrarCommandsTest, LaneCountersInStatsAndStatus) {
  const std::uint64_t asap_only = ok("status")["summary"]["resolutions"].get<std::uint64_t>();
  EXPECT_TRUE(ok("stats")["lanes"].is_null());
  RegistrarBindings b = bindings;
  // Samples with the lane table's descriptors, as the daemon reads them from the lanes.
  const CounterDescriptor* rx = lane_descriptor("rx_packets");
  const CounterDescriptor* answered = lane_descriptor("resolutions_answered");
  ASSERT_NE(rx, nullptr);
  ASSERT_NE(answered, nullptr);
  b.lanes = [rx, answered] {
    return std::vector<LaneStats>{{0, "dpdk", 1, {{rx, {}, 10}, {answered, {}, 7}}, nullptr},
                                  {1, "dpdk", 2, {{rx, {}, 20}, {answered, {}, 5}}, nullptr}};
  };
  CommandRegistry r;
  register_registrar_commands(r, b);
  const json stats = r.dispatch({{"cmd", "stats"}})["result"];
  ASSERT_EQ(stats["lanes"].size(), 2u) << stats.dump();
  EXPECT_EQ(stats["lanes"][0]["lane"], 0);
  EXPECT_EQ(stats["lanes"][0]["backend"], "dpdk");
  EXPECT_EQ(stats["lanes"][0]["lcore"], 1);
  EXPECT_EQ(stats["lanes"][1]["rx_packets"], 20);
  EXPECT_EQ(stats["lanes"][1]["resolutions_answered"], 5);
  EXPECT_FALSE(stats.contains("dpdk")) << stats.dump();
  EXPECT_EQ(r.dispatch({{"cmd", "status"}})["result"]["summary"]["resolutions"], asap_only + 12);
}

TEST_F(RegistrarCommandsTest, EnrpOffAnswersUnavailable) {
  RegistrarBindings b = bindings;
  b.enrp = nullptr;
  CommandRegistry r;
  register_registrar_commands(r, b);
  for (const char* c : {"peers", "audit", "takeover-status"})
    EXPECT_EQ(r.dispatch({{"cmd", c}})["code"], "unavailable") << c;
  EXPECT_EQ(r.dispatch({{"cmd", "status"}})["result"]["enrp"]["enabled"], false);
  EXPECT_TRUE(r.dispatch({{"cmd", "stats"}})["result"]["enrp"].is_null());
  RegistrarBindings missing;
  EXPECT_THROW(register_registrar_commands(r, missing), std::invalid_argument);
}

// control.test_commands: test-corrupt-view exists only when asked for, and deletes a PE locally.
TEST_F(RegistrarCommandsTest, TestCorruptViewOnlyWithTestCommands) {
  EXPECT_FALSE(registry.has_command("test-corrupt-view"));
  RegistrarBindings b = bindings;
  b.test_commands = true;
  CommandRegistry r;
  register_registrar_commands(r, b);
  ASSERT_TRUE(r.has_command("test-corrupt-view"));
  json done = r.dispatch({{"cmd", "test-corrupt-view"}, {"args", {{"handle", "echo"}, {"id", 2}}}});
  EXPECT_EQ(done["ok"], true) << done.dump();
  EXPECT_EQ(ok("pool", {{"handle", "echo"}})["pe_count"], 2);
  EXPECT_EQ(r.dispatch({{"cmd", "test-corrupt-view"}, {"args", {{"handle", "echo"}, {"id", 2}}}})["code"], "not_found");
}

TEST_F(RegistrarCommandsTest, LogLevel) {
  logger.set_level(spdlog::level::info);
  json r = ok("log-level");
  EXPECT_EQ(r["level"], "info");
  r = ok("log-level", {{"level", "DEBUG"}});
  EXPECT_EQ(r["level"], "debug");
  EXPECT_EQ(r["previous"], "info");
  EXPECT_EQ(logger.level(), spdlog::level::debug);
  r = ok("log-level", {{"level", "warning"}});
  EXPECT_EQ(r["level"], "warn");
  EXPECT_EQ(ok("log-level")["level"], "warn");
  EXPECT_EQ(logger.level(), spdlog::level::warn);
}

// reload / config answer from the daemon's hooks; without them they are unavailable.
TEST_F(RegistrarCommandsTest, ReloadAndConfig) {
  EXPECT_EQ(run("reload")["code"], "unavailable");
  EXPECT_EQ(run("config")["code"], "unavailable");

  ReloadReport report;
  report.source = "/etc/poolreg/poolregd.toml";
  report.errors = {"/etc/poolreg/poolregd.toml:3:13: limits.max_pools: expected an integer"};
  RegistrarBindings b = bindings;
  b.reload = [&report] { return report; };
  b.running_config = [] {
    return std::make_pair(std::string("f.toml"), std::vector<config::ConfigValue>{{"limits.max_pools", "2"}});
  };
  CommandRegistry r;
  register_registrar_commands(r, b);
  json refused = r.dispatch({{"cmd", "reload"}});
  EXPECT_EQ(refused["code"], "invalid_config") << refused.dump();
  EXPECT_NE(refused["error"].get<std::string>().find("limits.max_pools: expected an integer"), std::string::npos);

  report.reloaded = true;
  report.errors.clear();
  report.applied = {{"registrar.log_level", "\"info\"", "\"debug\""}};
  report.refused = {{"asap.sctp_port", "3863", "3864"}};
  json done = r.dispatch({{"cmd", "reload"}});
  ASSERT_EQ(done["ok"], true) << done.dump();
  EXPECT_EQ(done["result"]["applied"][0]["key"], "registrar.log_level");
  EXPECT_EQ(done["result"]["applied"][0]["after"], "\"debug\"");
  EXPECT_EQ(done["result"]["refused"][0]["before"], "3863");
  EXPECT_TRUE(done["result"]["log_file_reopened"].is_null());
  json cfg = r.dispatch({{"cmd", "config"}});
  EXPECT_EQ(cfg["result"]["source"], "f.toml");
  EXPECT_EQ(cfg["result"]["keys"]["limits.max_pools"], "2");
}

TEST(OperatorArgumentsTest, HandlesAndIds) {
  EXPECT_EQ(parse_pool_handle("echo")->to_display(), "echo");
  EXPECT_EQ(parse_pool_handle("0x6563686f")->to_display(), "echo");
  EXPECT_EQ(parse_pool_handle("0X0102")->size(), 2u);
  EXPECT_EQ(parse_pool_handle("0x123")->to_display(), "0x123");  // odd digits: text
  EXPECT_EQ(parse_pool_handle("0xzz")->to_display(), "0xzz");
  EXPECT_EQ(parse_pool_handle("text:0x41")->to_display(), "0x41");
  EXPECT_EQ(parse_pool_handle("text:0x41")->size(), 4u);
  EXPECT_FALSE(parse_pool_handle(""));
  EXPECT_FALSE(parse_pool_handle(std::string(65, 'a')));
  EXPECT_TRUE(parse_pool_handle(std::string(64, 'a')));
  EXPECT_EQ(handle_hex(*parse_pool_handle("AB")), "0x4142");

  EXPECT_EQ(parse_id("0x10"), 16u);
  EXPECT_EQ(parse_id("16"), 16u);
  EXPECT_EQ(parse_id("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(parse_id("18446744073709551616"));
  EXPECT_EQ(parse_id("0xffffffffffffffff"), UINT64_MAX);
  EXPECT_FALSE(parse_id("0x1ffffffffffffffff"));
  EXPECT_FALSE(parse_id("-1"));
  EXPECT_FALSE(parse_id("0x"));
  EXPECT_FALSE(parse_id(""));
  EXPECT_EQ(format_id(1), "0x00000001");
  EXPECT_EQ(format_id(0x100000000ull), "0x0000000100000000");
}

// The stats JSON shows the histogram in its coarse log2 view (1 us .. 2^20 us, +Inf), exact
// per bound; the histogram itself is tested in tests/registrar/common.
TEST(HistogramJsonTest, CoarseLog2BucketsAndQuantiles) {
  LatencyHistogram h;
  EXPECT_EQ(histogram_json(h)["p50_ns"], 0);
  h.record(0);        // <= 1us
  h.record(1000);     // <= 1us
  h.record(1001);     // <= 2us
  h.record(3000);     // <= 4us
  h.record(4000);     // <= 4us
  h.record(5 * kNsPerSec);  // beyond the last coarse bound
  const json j = histogram_json(h);
  EXPECT_EQ(j["count"], 6);
  EXPECT_EQ(j["sum_ns"], 9001u + 5 * kNsPerSec);
  EXPECT_EQ(j["buckets"].size(), LatencyHistogram::kCoarseBounds + 1);
  EXPECT_EQ(j["buckets"][0]["le_ns"], 1000);
  EXPECT_EQ(j["buckets"][0]["count"], 2);  // cumulative
  EXPECT_EQ(j["buckets"][1]["count"], 3);
  EXPECT_EQ(j["buckets"][2]["le_ns"], 4000);
  EXPECT_EQ(j["buckets"][2]["count"], 5);
  EXPECT_EQ(j["buckets"][LatencyHistogram::kCoarseBounds - 1]["le_ns"], 1048576000u);
  EXPECT_EQ(j["buckets"][LatencyHistogram::kCoarseBounds - 1]["count"], 5);
  EXPECT_TRUE(j["buckets"].back()["le_ns"].is_null());
  EXPECT_EQ(j["buckets"].back()["count"], 6);
  EXPECT_GE(j["p50_ns"].get<TimeNs>(), 1000u);
  EXPECT_LE(j["p50_ns"].get<TimeNs>(), 3100u);
  // Fine buckets: within 1.6 % of the sample, not the coarse bound (8.4 s) nor its last finite one.
  EXPECT_NEAR(j["p99_ns"].get<double>(), 5e9, 5e9 * 0.016);
}

}  // namespace
}  // namespace poolreg::control
