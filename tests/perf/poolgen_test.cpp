// poolgen end-to-end: a short poolgen run against a real poolregd (tests/integration harness),
// then its JSON report is checked for internal consistency and against the daemon's own
// counters, read over the control socket exactly as `poolctl stats` / `poolctl pools` read them:
// the PE count during steady state equals poolgen's living PEs (dead ones were removed by the
// keep-alive timeout, ASAP-KA), and after the run every registration, re-registration,
// deregistration, resolution and keep-alive acknowledgement poolgen counted was counted by the
// daemon too, and the handlespace is empty again.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/control/control_client.hpp"
#include "tests/integration/poolregd_harness.hpp"

namespace poolreg::poolgen {
namespace {

using namespace std::chrono_literals;
using integration::Poolregd;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// Runs poolgen with args; returns the wait status. Output goes to log_path.
class PoolgenProcess {
 public:
  PoolgenProcess(std::vector<std::string> args, const std::string& log_path) {
    args.insert(args.begin(), env("POOLGEN"));
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
  EXPECT_EQ(a("keepalive_acks") + a("keepalive_acks_unknown") + a("keepalive_acks_wrong_association"),
            n("keepalives_answered"));
  // Resolutions are answered by AsapServer or, on the SCTP lanes (registrar.resolve_on_lanes), by
  // the lanes themselves: their counters are per lane.
  std::uint64_t on_lanes = 0;
  if (stats.contains("lanes") && stats["lanes"].is_array())
    for (const auto& lane : stats["lanes"])
      on_lanes += lane.value("resolutions_answered", std::uint64_t{0}) + lane.value("resolutions_unknown_pool", std::uint64_t{0});
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
