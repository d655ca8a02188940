// poolregd on kernel sockets with two SCTP lanes (registrar.lanes = 2): PEs register through the
// control thread (registrations are forwarded by the lanes), PUs whose UDP ports steer to lane 0
// and to lane 1 (runtime::steer_lane, the registrar's own function) each get their Handle
// Resolutions answered on their own lane: the per-lane counters over the control socket (what
// `poolctl stats` shows) say so, and with the kernel's cBPF steering no packet crossed lanes. Also: asking for more lanes than usrsctp copies can be loaded
// fails at start with a message naming the limit and the glibc tunable.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/runtime/steer_lane.hpp"
#include "tests/cli/client/child_process.hpp"
#include "tests/integration/daemon_test_support.hpp"
#include "tests/integration/poolregd_harness.hpp"

namespace poolreg::integration {
namespace {

using client::testing::ChildProcess;
using test::control_request;
using test::env;
using test::wait_until;
using namespace std::chrono_literals;

class KernelLanes : public ::testing::Test {
 protected:
  void SetUp() override {
    pe_ = env("POOLREG_PE");
    pu_ = env("POOLREG_PU");
    if (pe_.empty() || pu_.empty()) GTEST_SKIP() << "POOLREG_PE / POOLREG_PU not set";
  }
  std::string pe_, pu_;
};

TEST_F(KernelLanes, EachLaneAnswersTheResolutionsOfItsPeers) {
  const DaemonPorts ports = pick_ports();
  Poolregd daemon("lanes", ports, {"--lanes", "2", "--set", "enrp.enabled=false", "--set", "control.enabled=true"});
  ASSERT_TRUE(daemon.start_and_wait()) << daemon.log();
  EXPECT_NE(daemon.log().find("2 kernel lanes on UDP " + std::to_string(ports.udp)), std::string::npos)
      << daemon.log();
  const std::string registrar = "127.0.0.1:" + std::to_string(ports.asap);
  const std::string udp = std::to_string(ports.udp);

  ChildProcess pe({pe_, "-r", registrar, "--udp-encaps-port", udp, "--pool", "LanePool", "--count", "3", "--port",
                   "7", "--duration", "20", "-q"});
  ASSERT_TRUE(pe.started());
  // Local UDP ports of the PU that steer to lane 0 and to lane 1.
  const std::uint8_t loopback[4] = {127, 0, 0, 1};
  std::uint16_t port_for_lane[2] = {0, 0};
  for (std::uint16_t p = 41000; p < 42000 && (port_for_lane[0] == 0 || port_for_lane[1] == 0); ++p) {
    const unsigned lane = runtime::steer_lane(loopback, false, p, 2);
    if (port_for_lane[lane] == 0 && p != ports.udp) port_for_lane[lane] = p;
  }
  ASSERT_TRUE(port_for_lane[0] != 0 && port_for_lane[1] != 0);
  for (unsigned lane = 0; lane < 2; ++lane) {
    std::string answer;
    const std::string local = std::to_string(port_for_lane[lane]);
    const bool ok = wait_until(
        [&] {
          ChildProcess p({pu_, "-r", registrar, "--udp-encaps-port", udp, "--pool", "LanePool", "-n", "5", "--json",
                          "--timeout-ms", "2000", "--local-udp-port", local});
          wait_until([&] { return p.poll(); }, 5s);
          answer = p.output();
          const nlohmann::json j = nlohmann::json::parse(answer, nullptr, false);
          return p.exit_code() == 0 && j.is_object() && j.contains("pes") && j["pes"].size() == 3;
        },
        15s);
    ASSERT_TRUE(ok) << "PU on lane " << lane << ": " << answer << "\ndaemon: " << daemon.log();
  }

  // Per-lane counters, as `poolctl stats` shows them: each lane answered the resolutions of the
  // PU steered to it, none went to the control thread.
  const nlohmann::json stats = control_request(daemon.control_socket_path(), "stats");
  ASSERT_TRUE(stats.value("ok", false)) << stats.dump();
  const nlohmann::json& lanes = stats["result"]["lanes"];
  ASSERT_EQ(lanes.size(), 2u) << stats.dump();
  // With the cBPF program attached (the default where the kernel takes it) every datagram
  // arrived on its owner's socket: nothing was handed between the lanes.
  const bool kernel_steering = daemon.log().find("steered by cBPF") != std::string::npos;
  std::uint64_t answered = 0;
  for (unsigned lane = 0; lane < 2; ++lane) {
    const nlohmann::json& l = lanes[lane];
    EXPECT_EQ(l.value("lane", 99u), lane);
    EXPECT_EQ(l.value("backend", ""), "kernel");
    EXPECT_FALSE(l.contains("lcore")) << l.dump();  // kernel lanes run on threads, not lcores
    EXPECT_GE(l.value("resolutions_answered", 0), 1) << l.dump();
    EXPECT_EQ(l.value("resolutions_forwarded", -1), 0) << l.dump();
    // The PUs resolve on associations that never wrote: nothing waited behind a write.
    EXPECT_EQ(l.value("resolutions_after_write_forwarded", -1), 0) << l.dump();
    EXPECT_GT(l.value("sctp_packets_in", 0), 0) << l.dump();
    EXPECT_EQ(l.value("drop_steer_full", -1), 0) << l.dump();
    if (kernel_steering) {
      EXPECT_EQ(l.value("sctp_steered_out", -1), 0) << l.dump();
    }
    answered += l.value("resolutions_answered", 0);
  }
  // The PE's registrations went through the control thread (the asap counters are AsapServer's).
  EXPECT_GE(stats["result"]["asap"].value("registrations", 0), 3) << stats.dump();
  const nlohmann::json status = control_request(daemon.control_socket_path(), "status");
  EXPECT_GE(status["result"]["summary"].value("resolutions", 0), answered) << status.dump();
  // The resolution latency histogram holds the ones the lanes answered (SCTP), not only the
  // control thread's (TCP: none here).
  EXPECT_GE(stats["result"]["resolution_latency"].value("count", 0), answered) << stats.dump();

  pe.signal(SIGTERM);
  wait_until([&] { return pe.poll(); }, 5s);
  const auto stopped = daemon.stop(SIGTERM, 10s);
  ASSERT_TRUE(stopped.has_value()) << daemon.log();
  EXPECT_TRUE(WIFEXITED(*stopped) && WEXITSTATUS(*stopped) == 0) << daemon.state() << "\n" << daemon.log();
}

// Local UDP ports on 127.0.0.1 that steer to lane 0 and lane 1 of 2 (`per_lane` each), never `avoid`.
std::vector<std::vector<std::uint16_t>> ports_per_lane(std::uint16_t avoid, std::size_t per_lane) {
  const std::uint8_t loopback[4] = {127, 0, 0, 1};
  std::vector<std::vector<std::uint16_t>> out(2);
  for (std::uint16_t p = 43000; p < 45000 && (out[0].size() < per_lane || out[1].size() < per_lane); ++p) {
    const unsigned lane = runtime::steer_lane(loopback, false, p, 2);
    if (p != avoid && out[lane].size() < per_lane) out[lane].push_back(p);
  }
  return out;
}

std::uint64_t lane_sum(const nlohmann::json& stats, const char* key) {
  std::uint64_t n = 0;
  for (const auto& l : stats["result"]["lanes"]) n += l.value(key, std::uint64_t{0});
  return n;
}

// Issue 16 item 2 (asap.keepalive_on_lanes, the default): the endpoint keep-alives of PEs whose
// association lives on a lane are sent and acked on that lane: both lanes count Keep-Alives and
// consumed Acks, the control thread's ASAP keep-alive counters stay at 0. A PE that stops
// answering (--silent) is removed after the timeout, as a keep-alive timeout (the lane reports
// it, AsapServer removes it); the answering PEs stay.
TEST_F(KernelLanes, KeepAlivesRunOnTheLanesAndASilentPeIsRemoved_ASAP_KA_02) {
  const DaemonPorts ports = pick_ports();
  Poolregd daemon("lane-ka", ports,
                  {"--lanes", "2", "--set", "enrp.enabled=false", "--set", "control.enabled=true", "--set",
                   "asap.keepalive_interval_ms=300", "--set", "asap.keepalive_timeout_ms=300"});
  ASSERT_TRUE(daemon.start_and_wait()) << daemon.log();
  const std::string registrar = "127.0.0.1:" + std::to_string(ports.asap);
  const std::string udp = std::to_string(ports.udp);
  const auto local = ports_per_lane(ports.udp, 2);
  ASSERT_EQ(local[0].size(), 2u);
  ASSERT_EQ(local[1].size(), 2u);
  auto pe_on = [&](std::uint16_t port, const char* pool, bool silent) {
    std::vector<std::string> args{pe_,
                                  "-r",
                                  registrar,
                                  "--udp-encaps-port",
                                  udp,
                                  "--local-udp-port",
                                  std::to_string(port),
                                  "--pool",
                                  pool,
                                  "--count",
                                  "3",
                                  "--port",
                                  "7",
                                  "--duration",
                                  "30",
                                  "-q",
                                  "--no-reconnect"};
    if (silent) args.push_back("--silent");
    return std::make_unique<ChildProcess>(args);
  };
  auto live0 = pe_on(local[0][0], "LiveA", false);
  auto live1 = pe_on(local[1][0], "LiveB", false);
  auto silent = pe_on(local[1][1], "Silent", true);
  ASSERT_TRUE(live0->started() && live1->started() && silent->started());

  nlohmann::json stats;
  const bool settled = wait_until(
      [&] {
        stats = control_request(daemon.control_socket_path(), "stats");
        if (!stats.value("ok", false) || stats["result"]["lanes"].size() != 2) return false;
        const auto& lanes = stats["result"]["lanes"];
        return lanes[0].value("keepalive_acks", 0) >= 6 && lanes[1].value("keepalive_acks", 0) >= 6 &&
               stats["result"]["asap"].value("removed_by_keepalive_timeout", 0) >= 3;
      },
      20s);
  ASSERT_TRUE(settled) << stats.dump() << "\n" << daemon.log();
  const nlohmann::json& asap = stats["result"]["asap"];
  for (unsigned lane = 0; lane < 2; ++lane) {
    const nlohmann::json& l = stats["result"]["lanes"][lane];
    EXPECT_GT(l.value("keepalives_sent", 0), 0) << l.dump();
    EXPECT_EQ(l.value("keepalive_not_ours", -1), 0) << l.dump();
  }
  // The silent PEs (3, on lane 1) timed out there; the control thread removed exactly them.
  EXPECT_EQ(stats["result"]["lanes"][1].value("keepalive_timeouts", 0), 3) << stats.dump();
  EXPECT_EQ(stats["result"]["lanes"][0].value("keepalive_timeouts", -1), 0) << stats.dump();
  EXPECT_EQ(asap.value("keepalive_lane_timeouts", 0), 3) << asap.dump();
  EXPECT_EQ(asap.value("removed_by_keepalive_timeout", 0), 3) << asap.dump();
  EXPECT_GE(asap.value("keepalive_lane_watches", 0), 9) << asap.dump();
  // Nothing of it reached the control thread's own keep-alive path.
  EXPECT_EQ(asap.value("keepalives_sent", -1), 0) << asap.dump();
  EXPECT_EQ(asap.value("keepalive_acks", -1), 0) << asap.dump();
  EXPECT_EQ(lane_sum(stats, "keepalive_acks_forwarded"), 0u) << stats.dump();
  // The answering PEs are all still there.
  const nlohmann::json status = control_request(daemon.control_socket_path(), "status");
  EXPECT_EQ(status["result"]["summary"].value("pes", 0), 6) << status.dump();

  for (auto* p : {live0.get(), live1.get(), silent.get()}) p->signal(SIGTERM);
  for (auto* p : {live0.get(), live1.get(), silent.get()}) wait_until([&] { return p->poll(); }, 5s);
  const auto stopped = daemon.stop(SIGTERM, 10s);
  ASSERT_TRUE(stopped.has_value()) << daemon.log();
  EXPECT_TRUE(WIFEXITED(*stopped) && WEXITSTATUS(*stopped) == 0) << daemon.state() << "\n" << daemon.log();
}

// asap.keepalive_on_lanes = false: the old path, every Keep-Alive and Ack on the control thread.
TEST_F(KernelLanes, KeepAlivesOnTheControlThreadWhenSwitchedOff) {
  const DaemonPorts ports = pick_ports();
  Poolregd daemon("lane-ka-off", ports,
                  {"--lanes", "2", "--set", "enrp.enabled=false", "--set", "control.enabled=true", "--set",
                   "asap.keepalive_interval_ms=300", "--set", "asap.keepalive_on_lanes=false"});
  ASSERT_TRUE(daemon.start_and_wait()) << daemon.log();
  const std::string registrar = "127.0.0.1:" + std::to_string(ports.asap);
  ChildProcess pe({pe_, "-r", registrar, "--udp-encaps-port", std::to_string(ports.udp), "--pool", "Ctl",
                   "--count", "2", "--port", "7", "--duration", "20", "-q"});
  ASSERT_TRUE(pe.started());
  nlohmann::json stats;
  ASSERT_TRUE(wait_until(
      [&] {
        stats = control_request(daemon.control_socket_path(), "stats");
        return stats.value("ok", false) && stats["result"]["asap"].value("keepalive_acks", 0) >= 4;
      },
      15s))
      << stats.dump() << "\n"
      << daemon.log();
  EXPECT_EQ(lane_sum(stats, "keepalives_sent"), 0u) << stats.dump();
  EXPECT_EQ(lane_sum(stats, "keepalive_acks"), 0u) << stats.dump();
  EXPECT_EQ(stats["result"]["asap"].value("keepalive_lane_watches", -1), 0) << stats.dump();
  pe.signal(SIGTERM);
  wait_until([&] { return pe.poll(); }, 5s);
  const auto stopped = daemon.stop(SIGTERM, 10s);
  ASSERT_TRUE(stopped.has_value()) << daemon.log();
}

// More lanes than glibc can give usrsctp copies: poolregd refuses to start and says why.
TEST_F(KernelLanes, TooManyLanesFailAtStartWithTheLimitAndTheTunable) {
  const DaemonPorts ports = pick_ports();
  Poolregd daemon("too-many", ports, {"--lanes", "16", "--set", "enrp.enabled=false"});
  ASSERT_TRUE(daemon.start());
  ASSERT_TRUE(wait_until([&] { return !daemon.running(); }, 20s)) << daemon.log();
  const std::string log = daemon.log();
  EXPECT_NE(daemon.state(), "exit 0") << log;
  EXPECT_NE(log.find("needs its own usrsctp copy"), std::string::npos) << log;
  EXPECT_NE(log.find("GLIBC_TUNABLES=glibc.rtld.nns"), std::string::npos) << log;
  EXPECT_EQ(log.find("listening:"), std::string::npos) << log;
}

}  // namespace
}  // namespace poolreg::integration
