// poolgen end-to-end: a short poolgen run against a real poolregd (tests/integration harness),
// then its JSON report is checked for internal consistency and against the daemon's own
// counters, read over the control socket exactly as `poolctl stats` / `poolctl pools` read them:
// the PE count during steady state equals poolgen's living PEs (dead ones were removed by the
// keep-alive timeout, ASAP-KA), and after the run every registration, re-registration,
// deregistration, resolution and keep-alive acknowledgement poolgen counted was counted by the
// daemon too, and the handlespace is empty again. Also the verdicts (issue 19): exit codes of an
// unreachable registrar and of SLO gates, the timeseries and its plots, remote targets.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/control/control_client.hpp"
#include "tests/common/network_namespace.hpp"
#include "tests/dataplane/dpdk/veth_namespace.hpp"
#include "tests/integration/poolregd_harness.hpp"

namespace poolreg::poolgen {
namespace {

using namespace std::chrono_literals;
using integration::Poolregd;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// Runs poolgen with args (after `launcher`, e.g. {"/usr/sbin/ip", "netns", "exec", NS}, when
// given); returns the wait status. Output goes to log_path.
class PoolgenProcess {
 public:
  PoolgenProcess(std::vector<std::string> args, const std::string& log_path,
                 const std::vector<std::string>& launcher = {}) {
    args.insert(args.begin(), env("POOLGEN"));
    args.insert(args.begin(), launcher.begin(), launcher.end());
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    args_ = std::move(args);
  }
  ~PoolgenProcess() {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool started() const { return pid_ > 0; }
  bool running() {
    if (pid_ <= 0 || status_) return false;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      status_ = st;
      return false;
    }
    return true;
  }
  std::optional<int> wait(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (running() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    return status_;
  }

 private:
  std::vector<std::string> args_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// One control-socket command against the daemon (what poolctl sends); asserts on failure.
nlohmann::json control_call(const std::string& socket, const char* cmd) {
  control::ClientError error;
  auto client = control::ControlClient::connect(socket, 5000, &error);
  if (client == nullptr) {
    ADD_FAILURE() << "control socket " << socket << ": " << error.message;
    return {};
  }
  auto response = client->call(cmd, nlohmann::json::object(), &error);
  if (!response || !(*response)["ok"].get<bool>()) {
    ADD_FAILURE() << cmd << ": " << (response ? response->dump() : error.message);
    return {};
  }
  return (*response)["result"];
}

TEST(PoolgenTest, RefusesNonLoopbackRegistrar) {
  const std::string log = integration::temp_dir() + "/poolgen.log";
  PoolgenProcess p({"-r", "192.0.2.1:3863", "-d", "1"}, log);
  ASSERT_TRUE(p.started());
  const auto st = p.wait(10s);
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(WIFEXITED(*st));
  EXPECT_EQ(WEXITSTATUS(*st), 1);
  EXPECT_NE(read_file(log).find("only targets loopback"), std::string::npos) << read_file(log);
  EXPECT_NE(read_file(log).find("--allow-remote"), std::string::npos) << "the refusal names the flag";
}

// Runs poolgen to completion (bounded: killed after `limit`); the exit code, or -1 when it was
// killed or did not finish. `log` receives its stdout and stderr.
int run_poolgen(const std::vector<std::string>& args, const std::string& log,
                std::chrono::milliseconds limit = 20s, const std::vector<std::string>& launcher = {}) {
  PoolgenProcess p(args, log, launcher);
  if (!p.started()) return -1;
  const auto st = p.wait(limit);
  if (!st || !WIFEXITED(*st)) return -1;
  return WEXITSTATUS(*st);
}

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_file(path), nullptr, false); }

// Nothing listens: over SCTP (UDP encapsulation to a port nobody reads) the INIT is never
// answered, over TCP the connect is refused. Both are errors (exit 2), and the SCTP run names the
// association that never came up instead of blaming the address check.
TEST(PoolgenTest, UnreachableRegistrarIsAnErrorOverSctpAndTcp) {
  const std::string dir = integration::temp_dir();
  const std::string udp = std::to_string(integration::free_port(SOCK_DGRAM));
  const std::string tcp = std::to_string(integration::free_tcp_port());
  for (const bool over_tcp : {false, true}) {
    SCOPED_TRACE(over_tcp ? "tcp" : "sctp");
    const std::string log = dir + "/unreachable.log";
    const std::string report = dir + "/unreachable.json";
    std::vector<std::string> args{"-r", "127.0.0.1:" + tcp + "/" + udp, "-d", "2", "-n", "10", "--probes", "0",
                                  "--pus", "1", "--progress", "off", "--report", report};
    if (over_tcp) args.insert(args.end(), {"--transport", "tcp"});
    EXPECT_EQ(run_poolgen(args, log), 2) << read_file(log);
    const std::string out = read_file(log);
    EXPECT_EQ(out.find("errors: none"), std::string::npos) << out;
    EXPECT_EQ(out.find("address_check"), std::string::npos) << "wrong hint:\n" << out;
    const auto j = read_json(report);
    ASSERT_FALSE(j.is_discarded()) << out;
    EXPECT_GT(j["counts"]["connect_failures"].get<std::uint64_t>(), 0u) << j["counts"].dump();
    EXPECT_EQ(j["counts"]["connects"].get<std::uint64_t>(), 0u);
    EXPECT_EQ(j["verdict"]["exit_code"].get<int>(), 2);
    ::unlink(report.c_str());
    ::unlink(log.c_str());
  }
  ::rmdir(dir.c_str());
}

// A poolgen run of `seconds` against a fresh daemon with the given extra flags.
std::vector<std::string> short_run(const Poolregd& d, const std::string& prefix, int seconds,
                                   std::vector<std::string> extra) {
  std::vector<std::string> args{"-r", "127.0.0.1:" + std::to_string(d.ports().asap) + "/" + std::to_string(d.ports().udp),
                                "--pool-prefix", prefix, "-n", "40", "-p", "4", "--register-rate", "2000",
                                "--pus", "4", "--resolve-rate", "300", "--probes", "1", "--probe-move-every", "0.5",
                                "--move-interval", "2", "-d", std::to_string(seconds), "--progress", "plain"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// SLO gates: an impossible p99 limit fails the run with exit 3 (no errors happened), generous
// gates pass with exit 0; the verdict is in the report.
TEST(PoolgenTest, SloGateFailingExitsThreeAndPassingExitsZero) {
  Poolregd d("poolgen-gates", integration::pick_ports(), {"--set", "asap.address_check=false"});
  ASSERT_TRUE(d.start_and_wait()) << d.log();
  const std::string dir = integration::temp_dir();
  const std::string log = dir + "/gates.log";
  const std::string report = dir + "/gates.json";
  const std::string prefix = "pggate-" + std::to_string(::getpid()) + "-";
  EXPECT_EQ(run_poolgen(short_run(d, prefix, 2, {"--max-p99-ms", "resolve=0.000001", "--report", report}), log), 3)
      << read_file(log);
  auto j = read_json(report);
  ASSERT_FALSE(j.is_discarded()) << read_file(log);
  EXPECT_TRUE(j["errors"].empty()) << j["errors"].dump();
  ASSERT_EQ(j["verdict"]["gates"].size(), 1u) << j["verdict"].dump();
  EXPECT_FALSE(j["verdict"]["gates"][0]["passed"].get<bool>());
  EXPECT_NE(read_file(log).find("gate FAILED: p99(resolution)"), std::string::npos) << read_file(log);

  EXPECT_EQ(run_poolgen(short_run(d, prefix, 2,
                                  {"--max-p99-ms", "resolution=60000", "--max-p99-ms", "register=60000",
                                   "--min-rate-ratio", "0.5", "--report", report}),
                        log),
            0)
      << read_file(log);
  j = read_json(report);
  ASSERT_FALSE(j.is_discarded()) << read_file(log);
  ASSERT_EQ(j["verdict"]["gates"].size(), 3u) << j["verdict"].dump();  // two p99 gates, one rate (resolution)
  for (const auto& g : j["verdict"]["gates"]) EXPECT_TRUE(g["passed"].get<bool>()) << g.dump();
  // The histogram buckets add up to the count, and the raw (from send) p50 is not above the
  // corrected one (from the intended send time).
  const auto& res = j["latency"]["resolution"];
  std::uint64_t in_buckets = 0;
  for (const auto& b : res["buckets"]) in_buckets += b[1].get<std::uint64_t>();
  EXPECT_GT(res["count"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(in_buckets, res["count"].get<std::uint64_t>());
  EXPECT_EQ(j["latency"]["resolution_raw"]["count"], res["count"]);
  EXPECT_LE(j["latency"]["resolution_raw"]["p50_ms"].get<double>(), res["p50_ms"].get<double>() + 1e-9);
  // A malformed gate is a usage error.
  EXPECT_EQ(run_poolgen({"--max-p99-ms", "nosuchop=1", "-d", "1"}, log), 1) << read_file(log);
  EXPECT_NE(read_file(log).find("unknown operation 'nosuchop'"), std::string::npos) << read_file(log);
  ::unlink(report.c_str());
  ::unlink(log.c_str());
  ::rmdir(dir.c_str());
}

// --timeseries: one JSON line per second of the load phase with the documented fields; then
// poolgen-plot (Debian's /usr/bin/python3 with python3-matplotlib) draws it and the report to PNG.
TEST(PoolgenTest, TimeseriesHasOneLinePerSecondAndPlots) {
  Poolregd d("poolgen-ts", integration::pick_ports(), {"--set", "asap.address_check=false"});
  ASSERT_TRUE(d.start_and_wait()) << d.log();
  const std::string dir = integration::temp_dir();
  const std::string log = dir + "/ts.log";
  const std::string report = dir + "/ts.json";
  const std::string series = dir + "/ts.jsonl";
  const std::string prefix = "pgts-" + std::to_string(::getpid()) + "-";
  const int seconds = 3;
  ASSERT_EQ(run_poolgen(short_run(d, prefix, seconds, {"--timeseries", series, "--report", report}), log), 0)
      << read_file(log);
  std::ifstream in(series);
  std::string text;
  int load_lines = 0;
  double last_t = 0;
  std::uint64_t resolutions_seen = 0;
  while (std::getline(in, text)) {
    const auto line = nlohmann::json::parse(text, nullptr, false);
    ASSERT_FALSE(line.is_discarded()) << text;
    for (const char* field : {"t_s", "interval_s", "phase", "rate_per_s", "target_per_s", "latency_ms", "errors",
                              "errors_total", "timeouts", "resolutions_skipped", "pes_registered"})
      EXPECT_TRUE(line.contains(field)) << field << " missing in " << text;
    for (const char* op : {"registration", "reregistration", "deregistration", "resolution", "keepalive_ack"})
      EXPECT_TRUE(line["rate_per_s"].contains(op)) << op << " missing in " << text;
    const double t = line["t_s"].get<double>();
    EXPECT_NEAR(t - last_t, 1.0, 0.25) << "one line per second: " << text;
    last_t = t;
    if (line["phase"] == "load") ++load_lines;
    if (line["latency_ms"].contains("resolution")) {
      const auto& r = line["latency_ms"]["resolution"];
      for (const char* q : {"count", "p50", "p99", "p999", "max"}) EXPECT_TRUE(r.contains(q)) << q << ": " << text;
      EXPECT_LE(r["p50"].get<double>(), r["p99"].get<double>());
      EXPECT_LE(r["p99"].get<double>(), r["p999"].get<double>());
      resolutions_seen += r["count"].get<std::uint64_t>();
      // Offered all load phase long; answers still arriving in the cleanup second have no target.
      EXPECT_EQ(line["target_per_s"]["resolution"].get<double>(), line["phase"] == "load" ? 300.0 : 0.0) << text;
    }
  }
  EXPECT_GE(load_lines, seconds - 1);
  EXPECT_LE(load_lines, seconds);
  EXPECT_GT(resolutions_seen, 0u);

  // The plots. Debian's python3 (not a pyenv one in PATH): that is where python3-matplotlib is.
  const std::string python = "/usr/bin/python3";
  if (std::system((python + " -c 'import matplotlib' >/dev/null 2>&1").c_str()) != 0)
    GTEST_SKIP() << "python3-matplotlib missing for " << python << " (installed by .ci/setup.sh)";
  const std::string out = dir + "/plot";
  const std::string command = python + " " + env("POOLGEN_PLOT") + " --timeseries " + series + " --report " + report +
                              " -o " + out + " > " + dir + "/plot.log 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << read_file(dir + "/plot.log");
  for (const char* kind : {"latency", "rate", "spectrum"}) {
    const std::string png = out + "-" + kind + ".png";
    const std::string bytes = read_file(png);
    ASSERT_GT(bytes.size(), 1000u) << png;
    EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << png;
    ::unlink(png.c_str());
  }
  // Bad input is a clear error, not a traceback.
  const std::string bad = python + " " + env("POOLGEN_PLOT") + " --timeseries " + report + " -o " + out + " > " +
                          dir + "/plot.log 2>&1";
  const int rc = std::system(bad.c_str());
  EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 1) << read_file(dir + "/plot.log");
  EXPECT_NE(read_file(dir + "/plot.log").find("poolgen-plot: "), std::string::npos) << read_file(dir + "/plot.log");
  for (const std::string& f : {log, report, series, dir + "/plot.log"}) ::unlink(f.c_str());
  ::rmdir(dir.c_str());
}

// A registrar in a network namespace of its own on a veth address: refused without
// --allow-remote (before anything is sent), loaded with it; the PEs use the address this side of
// the veth (address_mode association), so the registrar's address check stays on.
TEST(PoolgenTest, RemoteRegistrarNeedsAllowRemote) {
  dpdk::test::VethNamespace net("10.92.0.2/24");
  if (!net.ok()) GTEST_SKIP() << net.reason();
  ASSERT_EQ(dpdk::test::run_quiet("ip addr add 10.92.0.1/24 dev " + net.outer_interface()), 0);
  const std::string dir = integration::temp_dir();
  const std::string daemon_log = dir + "/poolregd.log";
  const pid_t daemon = integration::spawn_with_parent_death(
      {"/usr/sbin/ip", "netns", "exec", net.name(), integration::poolregd_path(), "--set",
       "asap.listen=[\"10.92.0.2\"]", "--set", "control.enabled=false", "--set", "enrp.enabled=false"},
      daemon_log);
  ASSERT_GT(daemon, 0);
  const auto t0 = std::chrono::steady_clock::now();
  while (read_file(daemon_log).find("listening:") == std::string::npos &&
         std::chrono::steady_clock::now() - t0 < 10s)
    std::this_thread::sleep_for(20ms);
  const bool up = read_file(daemon_log).find("listening:") != std::string::npos;
  const std::string log = dir + "/remote.log";
  const std::string report = dir + "/remote.json";
  std::vector<std::string> args{"-r", "10.92.0.2:3863/9899", "--address-mode", "association", "-n", "20", "-p", "2",
                                "--pus", "2", "--resolve-rate", "100", "--probes", "0", "-d", "2",
                                "--progress", "off", "--report", report};
  int refused = -2, accepted = -2;
  if (up) {
    refused = run_poolgen(args, log);
    const std::string refusal = read_file(log);
    EXPECT_NE(refusal.find("--allow-remote"), std::string::npos) << refusal;
    args.push_back("--allow-remote");
    accepted = run_poolgen(args, log);
  }
  ::kill(daemon, SIGKILL);
  ::waitpid(daemon, nullptr, 0);
  ASSERT_TRUE(up) << read_file(daemon_log);
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(accepted, 0) << read_file(log) << read_file(daemon_log);
  const auto j = read_json(report);
  ASSERT_FALSE(j.is_discarded()) << read_file(log);
  EXPECT_EQ(j["counts"]["registrations_ok"].get<std::uint64_t>(), 20u) << j["counts"].dump();
  EXPECT_GT(j["counts"]["resolutions_ok"].get<std::uint64_t>(), 0u) << j["counts"].dump();
  EXPECT_TRUE(j["config"]["allow_remote"].get<bool>());
  for (const std::string& f : {log, report, daemon_log}) ::unlink(f.c_str());
  ::rmdir(dir.c_str());
}

// Real-address mobility (issue 19 item 3): poolgen --pe-addresses in a namespace of its own
// against a registrar in another one (both made by perf/poolgen/real_address_lab.sh, the lab of
// run_scenarios.sh mobility-real) with its address check ON (the default): 30 PEs, each on its
// own association from two of its own addresses, move for 4 s, alternately by ASCONF (ADD-IP,
// re-registration, DELETE-IP) and by a new association from the new address. Every move that
// ended in the load phase became visible and none was refused; the registrar's own counters show
// the ASCONF address changes, the new associations and no rejected or filtered address.
TEST(PoolgenTest, RealAddressMovesWithAddressCheckOn) {
  if (const std::string why = test_netns::namespaces_unavailable(); !why.empty()) GTEST_SKIP() << why;
  test_netns::remove_stale_namespaces("prpgr");
  const std::string lab = "prpgr-" + std::to_string(::getpid());
  const std::string script = env("POOLGEN_REAL_LAB");
  ASSERT_EQ(test_netns::run_quiet(script + " up " + lab + " 30"), 0) << script;
  struct LabDown {
    std::string command;
    ~LabDown() { test_netns::run_quiet(command); }
  } lab_down{script + " down " + lab};
  const std::string dir = integration::temp_dir();
  const std::string daemon_log = dir + "/poolregd.log", socket = dir + "/pr.sock";
  const pid_t daemon = integration::spawn_with_parent_death(
      {"/usr/sbin/ip", "netns", "exec", lab + "-reg", integration::poolregd_path(), "--set",
       "asap.listen=[\"10.98.0.1\"]", "--set", "control.socket_path=\"" + socket + "\"", "--set",
       "enrp.enabled=false"},
      daemon_log);
  ASSERT_GT(daemon, 0);
  const auto t0 = std::chrono::steady_clock::now();
  while (read_file(daemon_log).find("listening:") == std::string::npos &&
         std::chrono::steady_clock::now() - t0 < 10s)
    std::this_thread::sleep_for(20ms);
  const std::string log = dir + "/real.log", report = dir + "/real.json";
  int rc = -2;
  nlohmann::json stats;
  if (read_file(daemon_log).find("listening:") != std::string::npos) {
    rc = run_poolgen({"-r", "10.98.0.1:3863/9899", "--allow-remote", "--pe-addresses", "10.99.0.0/16", "-n",
                      "30", "--register-rate", "300", "--move-interval", "0.5", "-d", "4", "--progress",
                      "off", "--report", report},
                     log, 25s, {"/usr/sbin/ip", "netns", "exec", lab + "-gen"});
    stats = control_call(socket, "stats");
  }
  ::kill(daemon, SIGTERM);
  ::waitpid(daemon, nullptr, 0);
  ASSERT_EQ(rc, 0) << read_file(log) << read_file(daemon_log);
  const auto j = read_json(report);
  ASSERT_FALSE(j.is_discarded()) << read_file(log);
  const auto& c = j["counts"];
  const auto& m = j["real_address_moves"];
  EXPECT_TRUE(j["errors"].empty()) << j["errors"].dump();
  EXPECT_EQ(c["registrations_ok"].get<std::uint64_t>(), 30u) << c.dump();
  EXPECT_EQ(c["reregistrations_failed"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(c["probe_gave_up"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(c["probe_visible"].get<std::uint64_t>() + c["probe_cut_by_end"].get<std::uint64_t>(),
            c["probe_moves"].get<std::uint64_t>());
  const std::uint64_t asconf = m["asconf"]["visible"].get<std::uint64_t>();
  const std::uint64_t fresh = m["new_association"]["visible"].get<std::uint64_t>();
  EXPECT_GE(asconf, 10u) << m.dump();
  EXPECT_GE(fresh, 10u) << m.dump();
  EXPECT_EQ(j["latency"]["move_to_visible"]["count"].get<std::uint64_t>(), asconf + fresh);
  ASSERT_TRUE(stats.contains("asap")) << stats.dump();
  const auto& a = stats["asap"];
  EXPECT_EQ(a["registrations_rejected"].get<std::uint64_t>(), 0u) << a.dump();
  EXPECT_EQ(a["addresses_filtered"].get<std::uint64_t>(), 0u) << a.dump();
  EXPECT_GE(a["association_addresses_added"].get<std::uint64_t>(), asconf) << a.dump();
  EXPECT_GE(a["association_addresses_removed"].get<std::uint64_t>(), 1u) << a.dump();
  EXPECT_GE(a["associations_up"].get<std::uint64_t>(), 30u + fresh) << a.dump();
  for (const std::string& f : {log, report, daemon_log}) ::unlink(f.c_str());
  ::rmdir(dir.c_str());
}

// --threads 2 --assoc-per-pe: two generator lanes (two usrsctp copies), every PE on its own
// association. All 200 associations come up, every PE registers over its own and the registrar
// holds exactly 200 PEs on 200 ASAP associations mid-run; the report's association and memory
// fields are there and add up.
TEST(PoolgenTest, TwoLanesOneAssociationPerPe) {
  Poolregd d("poolgen-lanes", integration::pick_ports(),
             {"--set", "asap.address_check=false", "--set", "asap.keepalive_interval_ms=500"});
  ASSERT_TRUE(d.start_and_wait()) << d.log();
  const std::string dir = integration::temp_dir();
  const std::string log = dir + "/lanes.log";
  const std::string report = dir + "/lanes.json";
  const std::string prefix = "pglane-" + std::to_string(::getpid()) + "-";
  const std::string registrar = "127.0.0.1:" + std::to_string(d.ports().asap) + "/" + std::to_string(d.ports().udp);
  PoolgenProcess p({"-r", registrar, "--pool-prefix", prefix, "-n", "200", "-p", "4", "--threads", "2",
                    "--assoc-per-pe", "--register-rate", "2000", "--pus", "2", "--resolve-rate", "100", "--probes",
                    "0", "-d", "3", "--progress", "plain", "--report", report},
                   log);
  ASSERT_TRUE(p.started());
  // Mid-run (ramp 0.1 s, then steady): the registrar's view.
  const std::string socket = d.control_socket_path();
  std::uint64_t pes_mid = 0;
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < 2200ms && p.running()) {
    if (std::chrono::steady_clock::now() - t0 >= 1500ms) {
      const auto pools_now = control_call(socket, "pools");
      if (pools_now.is_object()) pes_mid = pools_now["pe_count"].get<std::uint64_t>();
    }
    std::this_thread::sleep_for(100ms);
  }
  const auto st = p.wait(30s);
  ASSERT_TRUE(st.has_value()) << "poolgen did not stop by itself\n" << read_file(log);
  ASSERT_TRUE(WIFEXITED(*st)) << read_file(log);
  EXPECT_EQ(WEXITSTATUS(*st), 0) << read_file(log);
  EXPECT_EQ(pes_mid, 200u) << "daemon PE count mid-run";
  const auto j = read_json(report);
  ASSERT_FALSE(j.is_discarded()) << read_file(log);
  EXPECT_EQ(j["config"]["threads"], 2);
  EXPECT_EQ(j["config"]["assoc_per_pe"], true);
  const auto& a = j["pe_associations"];
  EXPECT_EQ(a["lanes"], 2);
  EXPECT_EQ(a["attempted"], 200);
  EXPECT_EQ(a["up"], 200);
  EXPECT_EQ(a["failed"], 0);
  EXPECT_EQ(a["up_at_load_end"], 200);
  EXPECT_GT(a["setup_rate_per_s"].get<double>(), 0);
  const auto& c = j["counts"];
  EXPECT_EQ(c["registrations_ok"], 200);
  EXPECT_EQ(c["registrations_sent"], 200);
  EXPECT_EQ(c["deregistrations_ok"], 200);
  EXPECT_GT(c["keepalives_answered"].get<std::uint64_t>(), 0u);  // answered on the PEs' own associations
  EXPECT_EQ(c["keepalives_unknown"], 0);
  EXPECT_GT(c["resolutions_ok"].get<std::uint64_t>(), 0u);
  // 200 PE associations + one PU association per lane with PUs.
  EXPECT_EQ(c["connects"], 202);
  const auto& m = j["memory"];
  EXPECT_GT(m["vmrss_after_setup_bytes"].get<std::uint64_t>(), m["vmrss_before_setup_bytes"].get<std::uint64_t>());
  EXPECT_GT(m["vmrss_bytes_per_association"].get<double>(), 0);
  EXPECT_DOUBLE_EQ(m["vmrss_bytes_per_pe"].get<double>(), m["vmrss_bytes_per_association"].get<double>());
  EXPECT_TRUE(j["errors"].empty()) << j["errors"].dump();
  EXPECT_NE(read_file(log).find("PE associations (2 lane(s), one per PE): attempted 200 up 200 failed 0"),
            std::string::npos)
      << read_file(log);
  // The registrar saw every PE deregistered again.
  const auto stats = control_call(socket, "stats");
  ASSERT_TRUE(stats.is_object());
  EXPECT_EQ(stats["handlespace"]["pes"].get<std::uint64_t>(), 0u);
  ::unlink(report.c_str());
  ::unlink(log.c_str());
  ::rmdir(dir.c_str());
}

// poolgen --sctp-native (issue 15 item 1): the same short run over native SCTP (IP protocol 132,
// raw sockets on both sides) registers every PE, resolves and deregisters with no errors, and the
// daemon's lanes saw native packets only. Skipped unless root with raw IP sockets.
TEST(PoolgenTest, ShortRunOverNativeSctpRegistersAndResolves) {
  const int raw = ::socket(AF_INET, SOCK_RAW, IPPROTO_SCTP);
  if (::geteuid() != 0 || raw < 0) GTEST_SKIP() << "needs root and raw IP sockets";
  ::close(raw);
  Poolregd d("poolgen-native", integration::pick_ports(),
             {"--lanes", "2", "--set", "asap.address_check=false", "--set", "enrp.enabled=false"});
  ASSERT_TRUE(d.start_and_wait()) << d.log();
  ASSERT_NE(d.log().find("ASAP SCTP native"), std::string::npos) << d.log();
  const std::string dir = integration::temp_dir();
  const std::string log = dir + "/native.log";
  const std::string report = dir + "/native.json";
  const std::string prefix = "pgnative-" + std::to_string(::getpid()) + "-";
  // The UDP port in -r is a port nobody reads: a run that fell back to UDP would fail.
  const std::string unused_udp = std::to_string(integration::free_port(SOCK_DGRAM));
  std::vector<std::string> args{"-r", "127.0.0.1:" + std::to_string(d.ports().asap) + "/" + unused_udp,
                                "--sctp-native", "--pool-prefix", prefix, "-n", "40", "-p", "4",
                                "--register-rate", "2000", "--pus", "4", "--resolve-rate", "300", "--probes", "1",
                                "--probe-move-every", "0.5", "--move-interval", "2", "-d", "3", "--progress",
                                "plain", "--report", report};
  EXPECT_EQ(run_poolgen(args, log, 30s), 0) << read_file(log) << "\ndaemon: " << d.log();
  const auto j = read_json(report);
  ASSERT_FALSE(j.is_discarded()) << read_file(log);
  const auto& c = j["counts"];
  auto n = [&](const char* k) { return c[k].get<std::uint64_t>(); };
  EXPECT_TRUE(j["errors"].empty()) << j["errors"].dump();
  EXPECT_EQ(n("registrations_ok"), 41u) << c.dump();  // 40 PEs + 1 probe
  EXPECT_GT(n("resolutions_ok"), 0u) << c.dump();
  EXPECT_EQ(n("resolutions_timeout"), 0u) << c.dump();
  EXPECT_GT(n("probe_visible"), 0u) << c.dump();
  EXPECT_EQ(n("deregistrations_ok"), j["gauges"]["pes_alive_at_end_of_load"].get<std::uint64_t>());

  const auto stats = control_call(d.control_socket_path(), "stats");
  ASSERT_TRUE(stats.is_object());
  std::uint64_t native_in = 0, sctp_in = 0;
  for (const auto& lane : stats["lanes"]) {
    native_in += lane.value("native_in", std::uint64_t{0});
    sctp_in += lane.value("sctp_packets_in", std::uint64_t{0});
  }
  EXPECT_GT(native_in, 0u) << stats.dump();
  EXPECT_EQ(native_in, sctp_in) << "every SCTP packet was native: " << stats.dump();
  EXPECT_EQ(stats["asap"].value("registrations", std::uint64_t{0}), n("registrations_ok"));
  EXPECT_EQ(stats["handlespace"]["pes"].get<std::uint64_t>(), 0u);
  ::unlink(report.c_str());
  ::unlink(log.c_str());
  ::rmdir(dir.c_str());
}

// ASAP-REG / ASAP-KA consistency: poolgen's counts match the registrar's handlespace.
TEST(PoolgenTest, ShortRunReportMatchesDaemonState) {
  ASSERT_FALSE(env("POOLGEN").empty());
  ASSERT_FALSE(integration::poolregd_path().empty());
  Poolregd d("poolgen", integration::pick_ports(),
             {"--set", "asap.address_check=false", "--set", "asap.keepalive_interval_ms=300", "--set",
              "asap.keepalive_timeout_ms=300"});
  ASSERT_TRUE(d.start_and_wait()) << d.log();
  const std::string dir = integration::temp_dir();
  const std::string report = dir + "/report.json";
  const std::string log = dir + "/poolgen.log";
  const std::string pcap = dir + "/sample.pcap";
  const std::string prefix = "pgtest-" + std::to_string(::getpid()) + "-";
  const int pools = 3;
  const std::string registrar =
      "127.0.0.1:" + std::to_string(d.ports().asap) + "/" + std::to_string(d.ports().udp);
  PoolgenProcess p({"-s", env("POOLGEN_SCENARIOS") + "/smoke.toml", "-r", registrar, "--pool-prefix", prefix,
                    "-n", "90", "-p", std::to_string(pools), "--register-rate", "1000", "--move-interval", "1",
                    "--dead-fraction", "0.2", "--die-at", "0.2", "--die-spread", "0.2", "--pus", "5", "--resolve-rate", "200",
                    "--unreachable-fraction", "0", "--probes", "2", "--probe-move-every", "0.3", "-d", "6",
                    "--progress", "plain", "--report", report, "--pcap", pcap, "--pcap-every", "5"},
                   log);
  ASSERT_TRUE(p.started());

  // Sample the daemon's PE count while poolgen is in steady state (ramp-up done, dead PEs removed:
  // 0.4 s + keep-alive interval + timeout), until shortly before its load phase ends.
  const std::string socket = d.control_socket_path();
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::uint64_t> totals;
  while (std::chrono::steady_clock::now() - t0 < 4500ms && p.running()) {
    if (std::chrono::steady_clock::now() - t0 >= 3000ms) {
      const auto pools_now = control_call(socket, "pools");
      if (pools_now.is_object()) totals.push_back(pools_now["pe_count"].get<std::uint64_t>());
    }
    std::this_thread::sleep_for(100ms);
  }
  const auto st = p.wait(40s);
  ASSERT_TRUE(st.has_value()) << "poolgen did not stop by itself\n" << read_file(log);
  ASSERT_TRUE(WIFEXITED(*st)) << read_file(log);
  EXPECT_EQ(WEXITSTATUS(*st), 0) << read_file(log);
  const auto j = nlohmann::json::parse(read_file(report), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << read_file(log);
  const auto& c = j["counts"];
  auto n = [&](const char* k) { return c[k].get<std::uint64_t>(); };

  // Internal consistency of the report.
  EXPECT_EQ(n("registrations_sent"), 92u);  // 90 PEs + 2 probes
  EXPECT_EQ(n("registrations_ok"), 92u);
  EXPECT_EQ(n("registrations_sent"),
            n("registrations_ok") + n("registrations_failed") + n("registrations_timeout") + n("registrations_lost"));
  EXPECT_EQ(n("reregistrations_sent"), n("reregistrations_ok") + n("reregistrations_failed") +
                                           n("reregistrations_timeout") + n("reregistrations_lost"));
  EXPECT_GT(n("reregistrations_ok"), 0u);
  EXPECT_EQ(n("resolutions_sent"), n("resolutions_ok") + n("resolutions_unknown_pool") +
                                       n("resolutions_rejected_other") + n("resolutions_timeout") +
                                       n("resolutions_failed_other"));
  EXPECT_GT(n("resolutions_ok"), 0u);
  EXPECT_GT(n("pes_died"), 0u);
  EXPECT_GT(n("keepalives_answered"), 0u);
  EXPECT_GT(n("keepalives_ignored"), 0u);  // the dead PEs were probed
  EXPECT_GT(n("probe_visible"), 0u);
  EXPECT_EQ(j["latency"]["move_to_visible"]["count"].get<std::uint64_t>(), n("probe_visible"));
  EXPECT_EQ(j["latency"]["registration"]["count"].get<std::uint64_t>(), n("registrations_ok"));
  EXPECT_TRUE(j["errors"].empty()) << j["errors"].dump();
  const std::uint64_t alive = j["gauges"]["pes_alive_at_end_of_load"].get<std::uint64_t>();
  EXPECT_EQ(alive, 92u - n("pes_died"));
  EXPECT_EQ(n("deregistrations_ok"), alive);  // cleanup deregistered every living PE
  EXPECT_GT(n("pcap_messages"), 0u);

  // The daemon's view during the run: it held exactly the living PEs (load PEs and probes).
  ASSERT_GE(totals.size(), 2u) << read_file(log);
  EXPECT_EQ(totals.back(), alive) << "daemon PE count (last sample) vs poolgen report";
  EXPECT_EQ(totals[totals.size() - 2], totals.back()) << "daemon PE count not stable";

  // The daemon's counters after the run (poolctl stats): every answer poolgen counted.
  const auto stats = control_call(socket, "stats");
  ASSERT_TRUE(stats.is_object());
  const auto& asap = stats["asap"];
  auto a = [&](const char* k) { return asap.value(k, std::uint64_t{0}); };
  EXPECT_EQ(a("registrations"), n("registrations_ok")) << asap.dump();
  EXPECT_EQ(a("registrations_rejected"), n("registrations_failed") + n("reregistrations_failed"));
  EXPECT_EQ(a("reregistrations"), n("reregistrations_ok"));
  EXPECT_EQ(a("deregistrations"), n("deregistrations_ok"));
  EXPECT_EQ(a("removed_by_keepalive_timeout"), n("pes_died"));
  // Resolutions are answered by AsapServer or, on the SCTP lanes (registrar.resolve_on_lanes), by
  // the lanes themselves; Keep-Alive Acks of the PEs the lanes monitor (asap.keepalive_on_lanes)
  // are consumed there: their counters are per lane.
  std::uint64_t on_lanes = 0;
  std::uint64_t acks_on_lanes = 0;
  if (stats.contains("lanes") && stats["lanes"].is_array())
    for (const auto& lane : stats["lanes"]) {
      on_lanes += lane.value("resolutions_answered", std::uint64_t{0}) + lane.value("resolutions_unknown_pool", std::uint64_t{0});
      acks_on_lanes += lane.value("keepalive_acks", std::uint64_t{0});
    }
  EXPECT_GT(acks_on_lanes, 0u) << stats.dump();
  EXPECT_EQ(a("keepalive_acks") + a("keepalive_acks_unknown") + a("keepalive_acks_wrong_association") + acks_on_lanes,
            n("keepalives_answered"));
  EXPECT_EQ(a("resolutions") + a("resolutions_unknown_pool") + on_lanes,
            n("resolutions_sent") + n("probe_resolutions"));
  EXPECT_EQ(a("unreachable_reports"), n("unreachable_reports"));
  // And the handlespace is empty again: cleanup deregistered everything, keep-alives removed the dead.
  EXPECT_EQ(stats["handlespace"]["pes"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(stats["handlespace"]["pools"].get<std::uint64_t>(), 0u);
  ::unlink(report.c_str());
  ::unlink(log.c_str());
  ::unlink(pcap.c_str());
  ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace poolreg::poolgen
