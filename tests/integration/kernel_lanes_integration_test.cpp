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
