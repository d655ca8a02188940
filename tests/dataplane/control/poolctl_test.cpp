// poolctl in-process (run_poolctl) against a test control daemon: every subcommand as a table and
// as --json, and the error cases (no daemon, unknown pool, bad handle, bad ID, usage errors).
#include "cli/poolctl/poolctl_app.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli/poolctl/events_view.hpp"
#include "cli/poolctl/result_text.hpp"
#include "cli/poolctl/text_table.hpp"
#include "cli/poolctl/watch_view.hpp"
#include "tests/dataplane/control/poolctl_test_server.hpp"

namespace poolreg::poolctl {
namespace {

using control::testing::TempDir;
using control::testing::TestControlDaemon;

struct Outcome {
  int rc = -1;
  std::string out, err;
};

class PoolctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir.path().empty());
    daemon = std::make_unique<TestControlDaemon>(dir.file("poolregd.sock"));
    ASSERT_TRUE(daemon->start());
  }
  Outcome run(std::vector<std::string> args, bool with_socket = true) {
    std::vector<std::string> argv = {"poolctl"};
    if (with_socket) {
      argv.push_back("--socket");
      argv.push_back(daemon->path());
    }
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<const char*> c;
    for (auto& a : argv) c.push_back(a.c_str());
    std::ostringstream out, err;
    Outcome r;
    r.rc = run_poolctl(static_cast<int>(c.size()), c.data(), out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }
  // Runs `args` as a table and with --json; checks both succeed and returns the JSON.
  json both(const std::vector<std::string>& args, const std::vector<std::string>& table_needles) {
    Outcome t = run(args);
    if (std::getenv("POOLCTL_TEST_SHOW") != nullptr) std::cout << "$ poolctl " << args[0] << "\n" << t.out << "\n";
    EXPECT_EQ(t.rc, 0) << t.err;
    EXPECT_TRUE(t.err.empty()) << t.err;
    for (const auto& n : table_needles) EXPECT_NE(t.out.find(n), std::string::npos) << "missing '" << n << "' in:\n" << t.out;
    std::vector<std::string> with_json = args;
    with_json.push_back("--json");  // global flag after the subcommand works too
    Outcome j = run(with_json);
    EXPECT_EQ(j.rc, 0) << j.err;
    json parsed = json::parse(j.out, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << j.out;
    return parsed;
  }

  TempDir dir;
  std::unique_ptr<TestControlDaemon> daemon;
};

TEST_F(PoolctlTest, Status) {
  json j = both({"status"}, {"poolregd 0x10000001", "mode rfc", "ASAP TCP 127.0.0.1:3863", "pools 3  PEs 5 (owned",
                             "ENRP on", "metrics off"});
  EXPECT_EQ(j["registrar_id"], "0x10000001");
  EXPECT_EQ(j["summary"]["pes"], 5);
}

TEST_F(PoolctlTest, HealthExitsOneWithReasonsWhileEnrpStartsUp) {
  // The test daemon's ENRP is inside its mentor discovery window: not healthy.
  const Outcome t = run({"health"});
  EXPECT_EQ(t.rc, 1) << t.err;
  EXPECT_NE(t.out.find("NOT healthy"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("FAIL  enrp_startup"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("ok    listening"), std::string::npos) << t.out;
  const Outcome j = run({"--json", "health"});
  EXPECT_EQ(j.rc, 1);
  EXPECT_EQ(json::parse(j.out)["healthy"], false) << j.out;
}

TEST_F(PoolctlTest, AuditVerify) {
  const Outcome t = run({"audit", "--verify"});
  EXPECT_EQ(t.rc, 0) << t.err;
  EXPECT_NE(t.out.find("checksums verified: 2 owner(s), 5 PEs"), std::string::npos) << t.out;
}

TEST(PoolctlRenderTest, AuditVerifyMismatchIsShown) {
  const json r = {{"verify",
                   {{"ok", false}, {"shards", 4}, {"pes", 10}, {"owners", 2}, {"elapsed_ms", 0.3},
                    {"mismatches",
                     {{{"owner", "0x10000002"}, {"kept_pes", 3}, {"counted_pes", 2}, {"kept_checksum32", 1},
                       {"counted_checksum32", 2}, {"kept_checksum16", 3}, {"counted_checksum16", 4}}}}}}};
  const std::string text = render_audit(r);
  EXPECT_NE(text.find("CHECKSUM MISMATCH"), std::string::npos) << text;
  EXPECT_NE(text.find("0x10000002"), std::string::npos) << text;
}

TEST_F(PoolctlTest, Pools) {
  json j = both({"pools"}, {"HANDLE", "POLICY", "echo", "RR", "web", "LU", "0x0102", "3 pools, 5 PEs"});
  EXPECT_EQ(j["pools"].size(), 3u);
  Outcome limited = run({"pools", "--limit", "1"});
  EXPECT_NE(limited.out.find("list truncated"), std::string::npos) << limited.out;
}

TEST_F(PoolctlTest, Pool) {
  json j = both({"pool", "echo"}, {"pool echo (0x6563686f)", "RoundRobin", "PE ID", "0x00000001", "0x0000001234567890",
                                   "0x10000002", "sctp 127.0.0.1:7001"});
  EXPECT_EQ(j["pe_count"], 3);
  EXPECT_EQ(run({"pool", "0x6563686f"}).rc, 0);
  Outcome lu = run({"pool", "web"});
  EXPECT_NE(lu.out.find("LU load=25.0%"), std::string::npos) << lu.out;
  Outcome binary = run({"pool", "0x0102"});
  EXPECT_EQ(binary.rc, 0) << binary.err;
  EXPECT_NE(binary.out.find("pool 0x0102"), std::string::npos);
}

TEST_F(PoolctlTest, Pe) {
  json j = both({"pe", "echo", "2"}, {"PE ID", "0x00000002", "home registrar", "(this registrar)", "user transport",
                                      "sctp 127.0.0.1:7002", "registration life 30000 ms"});
  EXPECT_EQ(j["pe"]["id"], "0x00000002");
  EXPECT_EQ(run({"pe", "echo", "0x1234567890"}).rc, 0);
}

TEST_F(PoolctlTest, Peers) {
  json j = both({"peers"}, {"PR ID", "0x10000002", "alive", "sctp 127.0.0.1:9902", "1.5s ago", "0xbeef/0xbeef",
                            "in sync", "static mentor", "dead", "7.0s ago", "taken-over-by=0x10000001",
                            "0x10000003", "4 at death"});
  ASSERT_EQ(j["peers"].size(), 2u);
  EXPECT_EQ(j["peers"][1]["id"], "0x00000000");
  EXPECT_EQ(j["peers"][1]["last_id"], "0x10000003");
  EXPECT_EQ(j["peers"][1]["last_pe_count"], 4);
  EXPECT_TRUE(j["peers"][0]["last_id"].is_null());  // this fake snapshot sets no last_id
}

TEST_F(PoolctlTest, Resolve) {
  json j = both({"resolve", "echo", "-n", "2"}, {"pool echo: 2 PE(s) selected", "PE ID"});
  EXPECT_EQ(j["pes"].size(), 2u);
  EXPECT_EQ(run({"resolve", "echo"}).rc, 0);
}

TEST_F(PoolctlTest, Deregister) {
  Outcome r = run({"deregister", "echo", "1"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "removed PE 0x00000001 from pool echo\n");
  r = run({"deregister", "echo", "2", "--json"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(json::parse(r.out)["removed"], true);
  r = run({"deregister", "echo", "2"});
  EXPECT_EQ(r.rc, kExitDaemonError);
  EXPECT_EQ(r.err, "poolctl: deregister: no PE 0x00000002 in pool 'echo'\n");
  EXPECT_EQ(json::parse(run({"pool", "echo", "--json"}).out)["pe_count"], 1);
}

TEST_F(PoolctlTest, Audit) {
  json j = both({"audit"}, {"audit started: 1 peer(s) known"});
  EXPECT_EQ(j["started"], true);
}

TEST_F(PoolctlTest, TakeoverStatus) {
  json j = both({"takeover-status"}, {"TARGET", "0x10000003", "0x10000001", "yes", "0x10000002", "ms"});
  EXPECT_EQ(j["takeovers"][0]["target"], "0x10000003");
}

TEST_F(PoolctlTest, Stats) {
  json j = both({"stats"}, {"handlespace:", "asap:", "registrations", "enrp:", "sync_bytes_sent", "peers.alive",
                            "resolution latency: 5 samples, p50"});
  EXPECT_EQ(j["resolution_latency"]["count"], 5);
}

TEST_F(PoolctlTest, LogLevel) {
  json j = both({"log-level"}, {"log level: info"});
  EXPECT_EQ(j["level"], "info");
  j = both({"log-level", "debug"}, {"log level: debug (was info)"});
  EXPECT_EQ(j["previous"], "debug");  // the --json run came second
  EXPECT_EQ(j["level"], "debug");
  Outcome r = run({"log-level", "loud"});
  EXPECT_EQ(r.rc, kExitUsage);
  EXPECT_TRUE(r.out.empty());
}

TEST_F(PoolctlTest, WatchPrintsFrames) {
  Outcome r = run({"watch", "--interval", "0.05", "--count", "2"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("poolctl watch - poolregd 0x10000001"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("per second: (measuring...)"), std::string::npos);
  EXPECT_NE(r.out.find("per second: registrations"), std::string::npos);
  EXPECT_NE(r.out.find("echo"), std::string::npos);
  EXPECT_EQ(r.out.find("\x1b["), std::string::npos) << "no escape codes outside a terminal";
  EXPECT_NE(r.out.find("resolution latency since start"), std::string::npos) << r.out;
  // Piped: lines are not cut at 80 columns.
  bool long_line = false;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) long_line = long_line || line.size() > 80;
  EXPECT_TRUE(long_line) << r.out;
}

TEST_F(PoolctlTest, WatchJsonPrintsOneObjectPerLine) {
  Outcome r = run({"--json", "watch", "--interval", "0.05", "--count", "2"});
  EXPECT_EQ(r.rc, 0) << r.err;
  std::istringstream lines(r.out);
  std::vector<json> frames;
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) frames.push_back(json::parse(line));
  ASSERT_EQ(frames.size(), 2u) << r.out;
  EXPECT_TRUE(frames[0]["per_second"].is_null());
  EXPECT_TRUE(frames[1]["per_second"].is_object()) << frames[1].dump();
  EXPECT_TRUE(frames[1]["latency_window"].is_object()) << frames[1].dump();
  EXPECT_EQ(frames[1]["pes"], 5);
}

TEST(PoolctlWatchTest, WindowLatencyIsTheIntervalNotTheHistory) {
  // 1000 fast samples before, then 10 slow ones in the interval: the window shows only the slow.
  const json before = {{"count", 1000}, {"fine", json::array({json::array({1000, 1000})})}};
  const json now = {{"count", 1010},
                    {"fine", json::array({json::array({1000, 1000}), json::array({50000, 9}), json::array({900000, 1})})}};
  const WindowLatency w = window_latency(now, &before);
  EXPECT_EQ(w.count, 10u);
  EXPECT_EQ(w.p50_ns, 50000u);
  EXPECT_EQ(w.p90_ns, 50000u);
  EXPECT_EQ(w.p99_ns, 900000u);
  EXPECT_EQ(w.max_ns, 900000u);
  const WindowLatency all = window_latency(now, nullptr);
  EXPECT_EQ(all.count, 1010u);
  EXPECT_EQ(all.p50_ns, 1000u);
  EXPECT_EQ(window_latency(before, &before).count, 0u);
  EXPECT_EQ(window_latency(json(nullptr), nullptr).count, 0u);  // an old daemon without "fine"
}

TEST_F(PoolctlTest, ErrorsFromTheDaemon) {
  Outcome r = run({"pool", "nope"});
  EXPECT_EQ(r.rc, kExitDaemonError);
  EXPECT_EQ(r.err, "poolctl: pool: unknown pool handle 'nope'\n");
  EXPECT_TRUE(r.out.empty());
  r = run({"--json", "pe", "echo", "99"});
  EXPECT_EQ(r.rc, kExitDaemonError);
  const json j = json::parse(r.out);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["code"], "not_found");
  EXPECT_EQ(run({"resolve", "nope"}).rc, kExitDaemonError);
}

TEST_F(PoolctlTest, UsageErrors) {
  Outcome r = run({"pool", std::string(65, 'x')});
  EXPECT_EQ(r.rc, kExitUsage);
  EXPECT_NE(r.err.find("bad pool handle"), std::string::npos);
  r = run({"pe", "echo", "zz"});
  EXPECT_EQ(r.rc, kExitUsage);
  EXPECT_NE(r.err.find("bad PE ID 'zz'"), std::string::npos);
  EXPECT_EQ(run({"pe", "echo", "0"}).rc, kExitUsage);
  EXPECT_EQ(run({"pool"}).rc, kExitUsage);
  EXPECT_EQ(run({"frobnicate"}).rc, kExitUsage);
  EXPECT_EQ(run({}).rc, kExitUsage);
}

TEST_F(PoolctlTest, HelpForEveryCommand) {
  for (const char* c : {"status", "pools", "pool", "pe", "peers", "resolve", "deregister", "audit", "takeover-status",
                        "stats", "log-level", "reload", "config", "watch", "events", "capture"}) {
    Outcome r = run({c, "--help"}, false);
    EXPECT_EQ(r.rc, 0) << c;
    EXPECT_NE(r.out.find(std::string("Usage: poolctl ") + c), std::string::npos) << r.out;
  }
  Outcome r = run({"--help"}, false);
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("takeover-status"), std::string::npos);
}

// poolctl events in-process: subscribed before the operator removes two PEs, it prints both
// removals with their cause in order (text and --json), then stops at --count.
TEST_F(PoolctlTest, EventsShowsRemovalsInOrder) {
  for (bool as_json : {false, true}) {
    std::vector<std::string> args = {"events", "--kind", "pe_removed", "--pool", "echo", "--count", "2",
                                     "--timeout-ms", "10000"};
    if (as_json) args.push_back("--json");
    // The previous round's subscriber leaves when the daemon sees its connection close, which may
    // come after that poolctl exited: wait for it, or its stale count would pass the wait below.
    for (int i = 0; i < 500 && daemon->event_subscribers() != 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(daemon->event_subscribers(), 0u);
    Outcome result;
    std::thread watcher([&] { result = run(args); });
    for (int i = 0; i < 500 && daemon->event_subscribers() == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(daemon->event_subscribers(), 1u);
    const PoolElementId first = as_json ? 3 : 1, second = as_json ? 4 : 2;
    daemon->with_registrar([&](control::testing::MiniRegistrar& r) {
      if (as_json) {
        r.add_pe("echo", 3);
        r.add_pe("echo", 4);
      }
      r.asap->operator_deregister(*PoolHandle::from_string("echo"), first);
      r.asap->operator_deregister(*PoolHandle::from_string("web"), 7);  // another pool: filtered out
      r.asap->operator_deregister(*PoolHandle::from_string("echo"), second);
    });
    watcher.join();
    ASSERT_EQ(result.rc, kExitOk) << result.err;
    std::istringstream lines(result.out);
    std::string l1, l2, extra;
    std::getline(lines, l1);
    std::getline(lines, l2);
    EXPECT_FALSE(std::getline(lines, extra)) << result.out;
    if (as_json) {
      EXPECT_EQ(json::parse(l1)["id"], "0x00000003");
      EXPECT_EQ(json::parse(l1)["cause"], "operator");
      EXPECT_EQ(json::parse(l2)["id"], "0x00000004");
    } else {
      EXPECT_NE(l1.find("pe_removed"), std::string::npos) << l1;
      EXPECT_NE(l1.find("pool echo pe 0x00000001"), std::string::npos) << l1;
      EXPECT_NE(l1.find("cause operator"), std::string::npos) << l1;
      EXPECT_NE(l2.find("pe 0x00000002"), std::string::npos) << l2;
    }
  }
}

// Without the DPDK backend (the in-process registrar binds no capture) the daemon says what to
// use instead; poolctl's own checks come first.
TEST_F(PoolctlTest, CaptureWithoutDpdkIsRefusedWithAHint) {
  Outcome r = run({"capture", "-w", "/tmp/poolctl-test-capture.pcapng"});
  EXPECT_EQ(r.rc, kExitDaemonError);
  EXPECT_NE(r.err.find("capture needs the DPDK backend"), std::string::npos) << r.err;
  r = run({"capture", "--status"});
  EXPECT_EQ(r.rc, kExitDaemonError);
  r = run({"capture"});
  EXPECT_EQ(r.rc, kExitUsage);
  EXPECT_NE(r.err.find("-w FILE"), std::string::npos) << r.err;
  EXPECT_EQ(run({"capture", "--stop", "--status"}).rc, kExitUsage);
  EXPECT_EQ(run({"capture", "-w", "x", "--snaplen", "4000"}).rc, kExitUsage);
}

TEST_F(PoolctlTest, EventsUsageErrors) {
  Outcome r = run({"events", "--kind", "pe_exploded"});
  EXPECT_EQ(r.rc, kExitUsage);
  EXPECT_NE(r.err.find("unknown event kind 'pe_exploded'"), std::string::npos) << r.err;
  EXPECT_EQ(run({"events", "--pool", ""}).rc, kExitUsage);
  EXPECT_EQ(run({"events", "--count", "x"}).rc, kExitUsage);
  EXPECT_EQ(daemon->event_subscribers(), 0u);
}

TEST(PoolctlEventLine, HumanFormatPerKind) {
  const json removed = json::parse(R"({"seq":3,"time":"2026-12-07T01:42:50.123Z","kind":"pe_removed","handle":"echo",
    "id":"0x00000100","cause":"keepalive_timeout","pe":{"home":"0x10000001","user_transport":{"protocol":"tcp",
    "port":7000,"use":"data","addresses":["127.0.0.1"]}}})");
  const std::string line = render_event_line(removed);
  EXPECT_EQ(line.rfind("2026-12-07T01:42:50.123Z", 0), 0u) << line;
  EXPECT_NE(line.find("pe_removed"), std::string::npos);
  EXPECT_NE(line.find("pool echo pe 0x00000100 home 0x10000001 tcp 127.0.0.1:7000 cause keepalive_timeout"),
            std::string::npos)
      << line;
  const std::string takeover = render_event_line(json::parse(
      R"({"time":"t","kind":"takeover_won","peer":"0x10000002","peer_endpoint":null,"taker":"0x10000001","pes":5})"));
  EXPECT_NE(takeover.find("peer 0x10000002 taker 0x10000001 pes 5"), std::string::npos) << takeover;
  const std::string dropped = render_event_line(json::parse(R"({"kind":"dropped","count":12})"));
  EXPECT_NE(dropped.find("dropped"), std::string::npos);
  EXPECT_NE(dropped.find("12 event(s) lost"), std::string::npos) << dropped;
}

TEST(PoolctlNoDaemonTest, MissingSocketIsExplained) {
  TempDir dir;
  const std::string path = dir.file("poolregd.sock");
  const char* argv[] = {"poolctl", "--socket", path.c_str(), "status"};
  std::ostringstream out, err;
  EXPECT_EQ(run_poolctl(4, argv, out, err), kExitUnreachable);
  EXPECT_EQ(err.str(), "poolctl: cannot reach poolregd at " + path + ": no such socket file — is poolregd running?\n");
  // Same for watch: scripts see the failure at once.
  const char* watch[] = {"poolctl", "--socket", path.c_str(), "watch", "--count", "1"};
  std::ostringstream out2, err2;
  EXPECT_EQ(run_poolctl(6, watch, out2, err2), kExitUnreachable);
}

TEST(PoolctlNoDaemonTest, MessagesNameTheCause) {
  EXPECT_EQ(unreachable_message("/run/x.sock", ECONNREFUSED, "connection refused"),
            "poolctl: cannot reach poolregd at /run/x.sock: connection refused — is poolregd running?");
  EXPECT_NE(unreachable_message("/run/x.sock", EACCES, "permission denied").find("socket's group, or with sudo"),
            std::string::npos);
}

TEST(PoolctlRenderTest, StatsShowEveryLane) {
  const json stats = {{"handlespace", {{"pes", 3}}},
                      {"asap", {{"resolutions", 2}}},
                      {"enrp", nullptr},
                      {"transport", nullptr},
                      {"resolution_latency", nullptr},
                      {"lanes", json::array({{{"lane", 0}, {"backend", "dpdk"}, {"lcore", 1}, {"resolutions_answered", 40}},
                                             {{"lane", 1}, {"backend", "dpdk"}, {"lcore", 2}, {"resolutions_answered", 17}}})}};
  const std::string text = render_stats(stats);
  const std::size_t one = text.find("lane 0 (dpdk lcore 1):"), two = text.find("lane 1 (dpdk lcore 2):");
  ASSERT_NE(one, std::string::npos) << text;
  ASSERT_NE(two, std::string::npos) << text;
  EXPECT_NE(text.find("40", one), std::string::npos);
  EXPECT_NE(text.find("17", two), std::string::npos);
  EXPECT_EQ(text.find("backend"), std::string::npos) << text;  // in the title, not a counter row
  EXPECT_EQ(render_stats(json{{"lanes", nullptr}}).find("lane"), std::string::npos);
  const std::string kernel = render_stats(json{{"lanes", json::array({{{"lane", 0}, {"backend", "kernel"}, {"rx_packets", 5}}})}});
  EXPECT_NE(kernel.find("lane 0 (kernel):"), std::string::npos) << kernel;
  // DPDK ports: one section each, the xstats nested as xstats.<name>.
  const std::string ports = render_stats(json{{"ports", json::array({{{"port", 0}, {"name", "net_af_packet0"},
                                                                      {"rx_missed_errors", 9},
                                                                      {"xstats", {{"rx_q0_packets", 31}}}}})}});
  const std::size_t port = ports.find("port 0 (net_af_packet0):");
  ASSERT_NE(port, std::string::npos) << ports;
  EXPECT_NE(ports.find("rx_missed_errors", port), std::string::npos) << ports;
  EXPECT_NE(ports.find("xstats.rx_q0_packets", port), std::string::npos) << ports;
  EXPECT_EQ(ports.find("name "), std::string::npos) << "in the title, not a counter row: " << ports;
}

TEST(PoolctlRenderTest, ReloadNamesAppliedAndRefusedKeys) {
  const json r = {{"source", "/etc/poolreg/poolregd.toml"},
                  {"reloaded", true},
                  {"applied", json::array({{{"key", "limits.max_pools"}, {"before", "1000"}, {"after", "2"}}})},
                  {"refused", json::array({{{"key", "asap.sctp_port"}, {"before", "3863"}, {"after", "3864"}}})},
                  {"log_file_reopened", false},
                  {"log_error", "Permission denied"}};
  const std::string text = render_reload(r);
  EXPECT_NE(text.find("configuration /etc/poolreg/poolregd.toml reloaded"), std::string::npos) << text;
  const auto applied = text.find("applied:"), refused = text.find("refused (restart");
  ASSERT_NE(applied, std::string::npos) << text;
  ASSERT_NE(refused, std::string::npos) << text;
  EXPECT_LT(applied, text.find("limits.max_pools"));
  EXPECT_GT(text.find("asap.sctp_port"), refused);
  EXPECT_NE(text.find("log file NOT reopened: Permission denied"), std::string::npos) << text;
  EXPECT_NE(render_reload({{"source", "x"}, {"applied", json::array()}, {"refused", json::array()}}).find("no changes"),
            std::string::npos);
  EXPECT_EQ(render_config({{"source", "f.toml"}, {"keys", {{"limits.max_pools", "2"}}}}),
            "# f.toml as running\nlimits.max_pools = 2\n");
}

TEST(PoolctlRenderTest, MissingMembersNeverCrash) {
  for (auto f : {render_status, render_pools, render_pool, render_pe, render_peers, render_resolve, render_deregister,
                 render_audit, render_takeovers, render_stats, render_log_level, render_reload, render_config}) {
    EXPECT_NO_THROW(f(json::object()));
    EXPECT_NO_THROW(f(json()));
    EXPECT_NO_THROW(f(json::array()));
  }
  TextTable t({"A", "B"}, 5);
  t.add({"1234567", "x"});
  EXPECT_EQ(t.render(), "A      B\n12...  x\n");
  EXPECT_EQ(format_duration_s(3723), "1h02m03s");
  EXPECT_EQ(format_ns(1500), "1.5us");
}

}  // namespace
}  // namespace poolreg::poolctl
