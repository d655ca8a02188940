// ENRP between a native-SCTP registrar and a UDP-encapsulated one (issue 15 acceptance): two
// poolregd processes on 127.0.0.1, both with native SCTP and UDP encapsulation open.
// - A lists B as a static peer with `sctp_native = true`: A's ENRP associations to B are native
//   SCTP (IP protocol 132). A's default remote UDP port is 9899, not B's, so over UDP A could not
//   reach B at all: the peering stands only if the native connect works.
// - B lists A with A's UDP encapsulation port (udp_port): B's own associations to A start over
//   UDP (or go native once B learned from A's association that A speaks native).
// A PE registers at B over UDP encapsulation; PUs resolve it at A over native SCTP and over UDP;
// both registrars see each other alive with equal handle-table checksums. Two lanes at A, so its
// native connect is steered to the lane that owns B's answers. Skipped unless root with raw
// sockets.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/cli/client/child_process.hpp"
#include "tests/integration/cluster_integration_fixture.hpp"
#include "tests/integration/daemon_test_support.hpp"

namespace poolreg::integration {
namespace {

using client::testing::ChildProcess;
using test::env;
using test::raw_sctp_available;
using test::wait_until;

std::uint64_t lane_sum(const Poolregd& d, const std::string& key) {
  return test::lane_sum(control_call(d, "stats"), key);
}

std::vector<std::string> daemon_args(RegistrarId id, const std::string& peers, unsigned lanes) {
  std::vector<std::string> args = {"--lanes", std::to_string(lanes),
                                   "--set",   "registrar.id=" + std::to_string(id),
                                   "--set",   "control.enabled=true"};
  for (auto& a : fast_enrp_args()) args.push_back(std::move(a));
  args.insert(args.end(), {"--set", "enrp.peers=" + peers});
  return args;
}

TEST(NativeEnrp, NativeAndUdpRegistrarsPeerAndShareTheHandlespace) {
  const std::string pe = env("POOLREG_PE");
  const std::string pu = env("POOLREG_PU");
  if (pe.empty() || pu.empty()) GTEST_SKIP() << "POOLREG_PE / POOLREG_PU not set";
  if (::geteuid() != 0 || !raw_sctp_available()) GTEST_SKIP() << "needs root and raw IP sockets";

  const DaemonPorts pa = pick_ports();
  DaemonPorts pb = pick_ports();
  while (pb.asap == pa.asap || pb.asap == pa.enrp || pb.enrp == pa.asap || pb.enrp == pa.enrp ||
         pb.udp == pa.udp)
    pb = pick_ports();
  ASSERT_NE(pb.udp, 9899) << "B's UDP port must not be A's default remote UDP port";
  const std::string a_peers =
      "[{ address = \"127.0.0.1:" + std::to_string(pb.enrp) + "\", sctp_native = true }]";
  const std::string b_peers = "[{ address = \"127.0.0.1:" + std::to_string(pa.enrp) +
                              "\", udp_port = " + std::to_string(pa.udp) + " }]";
  Poolregd b("B", pb, daemon_args(kClusterIds[1], b_peers, 1));
  ASSERT_TRUE(b.start_and_wait()) << b.log();
  Poolregd a("A", pa, daemon_args(kClusterIds[0], a_peers, 2));
  ASSERT_TRUE(a.start_and_wait()) << a.log();
  ASSERT_NE(a.log().find("native SCTP on raw IP sockets"), std::string::npos) << a.log();

  std::string why;
  ASSERT_TRUE(eventually(
      [&] { return peers_alive_and_in_sync(a, 1, &why) && peers_alive_and_in_sync(b, 1, &why); }, 15s))
      << why << "\nA: " << a.log() << "\nB: " << b.log();

  // PE at B over UDP encapsulation (poolreg-pe's default), resolved at A.
  const std::string at_b = "127.0.0.1:" + std::to_string(pb.asap) + "/" + std::to_string(pb.udp);
  const std::string at_a = "127.0.0.1:" + std::to_string(pa.asap);
  ChildProcess element(
      {pe, "-r", at_b, "--pool", "NativeEnrpPool", "--count", "2", "--port", "7", "--duration", "30", "-q"});
  ASSERT_TRUE(element.started());
  auto resolves = [&](std::vector<std::string> extra, std::string& answer) {
    return wait_until(
        [&] {
          std::vector<std::string> args = {
              pu,  "-r",     at_a,           "--pool", "NativeEnrpPool",       "-n",
              "3", "--json", "--timeout-ms", "2000",   "--connect-timeout-ms", "3000"};
          args.insert(args.end(), extra.begin(), extra.end());
          ChildProcess p(args);
          wait_until([&] { return p.poll(); }, 8s);
          answer = p.output();
          const json j = json::parse(answer, nullptr, false);
          return p.exit_code() == 0 && j.is_object() && j.contains("pes") && j["pes"].size() == 2;
        },
        15s);
  };
  std::string answer;
  ASSERT_TRUE(resolves({"--sctp-native"}, answer))
      << answer << "\nA: " << a.log() << "\nPE: " << element.output();
  ASSERT_TRUE(resolves({"--udp-encaps-port", std::to_string(pa.udp)}, answer)) << answer;

  // Both handle tables agree (each side's checksum of the other's PEs equals what it announces).
  ASSERT_TRUE(eventually(
      [&] { return peers_alive_and_in_sync(a, 1, &why) && peers_alive_and_in_sync(b, 1, &why); }, 10s))
      << why;
  EXPECT_EQ(pool_pe_count(a, handle_of("NativeEnrpPool")), 2);
  EXPECT_EQ(pool_pe_count(b, handle_of("NativeEnrpPool")), 2);
  // B's only native traffic is A's ENRP (the PE speaks UDP to B, the PUs speak to A).
  EXPECT_GT(lane_sum(b, "native_in"), 0u);
  EXPECT_GT(lane_sum(b, "native_out"), 0u);
  EXPECT_GT(lane_sum(a, "native_out"), 0u);
  EXPECT_EQ(lane_sum(a, "native_drop_bad_crc") + lane_sum(b, "native_drop_bad_crc"), 0u);
  // A's packets over UDP come from B's ENRP and the UDP PU: recorded, not asserted (B's
  // associations to A go native once B learned A speaks native).
  std::printf("A: native_in %llu, sctp_packets_in %llu; B: native_in %llu, sctp_packets_in %llu\n",
              static_cast<unsigned long long>(lane_sum(a, "native_in")),
              static_cast<unsigned long long>(lane_sum(a, "sctp_packets_in")),
              static_cast<unsigned long long>(lane_sum(b, "native_in")),
              static_cast<unsigned long long>(lane_sum(b, "sctp_packets_in")));
  element.signal(SIGTERM);
}

}  // namespace
}  // namespace poolreg::integration
