// poolregd --dpdk with a default gateway (issue 15 item 2): the DPDK port (net_af_packet on a
// veth) faces a router namespace (IPv4 forwarding on); poolreg-pe, poolreg-pu and a kernel-socket
// registrar run in a client namespace on another subnet behind the router. With
// dpdk.addresses = 10.61.0.1/24 and dpdk.gateway = 10.61.0.254 the PE registers, the PU resolves
// it (over IPv4 and IPv6: neighbour solicitation for the IPv6 gateway) and ENRP between the two
// registrars comes up, all through the gateway (ARP for the gateway, no_route drops stay 0). Without the gateway the same PU gets no answer and the
// registrar counts no_route drops: the client is reached only through the gateway.
// Skipped (with the reason) when not root or without netns/ethtool.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "tests/dataplane/dpdk/dpdk_daemon_support.hpp"
#include "tests/dataplane/dpdk/routed_namespace.hpp"
#include "tests/dataplane/dpdk/veth_namespace.hpp"

namespace poolreg::dpdk {
namespace {

using namespace daemon_test;
using poolreg::test::env;

class DpdkGateway : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(poolregd.empty() || pe.empty() || pu.empty()) << "POOLREGD / POOLREG_PE / POOLREG_PU not set";
  }
  const std::string poolregd = env("POOLREGD"), pe = env("POOLREG_PE"), pu = env("POOLREG_PU");
};

constexpr const char* kRegistrar = "10.61.0.1:3863";
constexpr const char* kClient = "10.62.0.2";

// The poll lcore's counters over DPDK telemetry.
nlohmann::json lcore_stats(const std::string& prefix) {
  return telemetry("/var/run/dpdk/" + prefix + "/dpdk_telemetry.v2", "/poolreg/lcore_stats")["/poolreg/lcore_stats"];
}

TEST_F(DpdkGateway, PeAndPuBehindARouterAreReachedThroughTheGateway) {
  test::VethNamespace router("10.61.0.254/24", "fd61::fe/64");
  if (!router.ok()) GTEST_SKIP() << router.reason();
  test::RoutedClientNamespace client(router, "10.62.0.254/24", std::string(kClient) + "/24", "10.62.0.254",
                                     "fd62::fe/64", "fd62::2/64", "fd62::fe");
  ASSERT_TRUE(client.ok()) << client.reason();
  ASSERT_FALSE(ip_binary().empty()) << "no ip(8) binary";

  // 1. No gateway: the port's prefix is 10.61.0.0/24, the client is off-link and unroutable. The
  // client's INIT reaches the registrar through the router, the answer has no route.
  {
    const std::string prefix = "poolreg-dpdk-nogw-" + std::to_string(::getpid());
    RuntimeDirCleanup runtime_dir{prefix};
    ChildProcess daemon(dpdk_daemon_command(
        poolregd,
        {"--listen", "10.61.0.1", "--set", "enrp.enabled=false", "--set", "dpdk.addresses=[\"10.61.0.1/24\"]"},
        prefix, router));
    ASSERT_TRUE(listening(daemon));
    EXPECT_NE(daemon.output().find("10.61.0.1/24"), std::string::npos) << daemon.output();
    ChildProcess pe_process(in_namespace(client.name(), {pe, "-r", kRegistrar, "--pool", "RoutedPool", "--count",
                                                         "2", "--port", "7", "--duration", "5", "-q"}));
    std::string answer;
    EXPECT_FALSE(resolves(client.name(), pu, kRegistrar, "RoutedPool", 2, kClient, &answer, 4s)) << answer;
    nlohmann::json stats;
    EXPECT_TRUE(wait_until(
        [&] {
          stats = lcore_stats(prefix);
          return stats.is_object() && stats.value("drop_no_route", 0) >= 1;
        },
        5s))
        << stats.dump() << "\n"
        << daemon.output();
    EXPECT_EQ(stats.value("sctp_packets_out", -1), 0);  // nothing left towards the client
    EXPECT_TRUE(stops_cleanly(daemon));
  }

  // 2. With the gateway: registration, resolution and ENRP with a registrar behind the router.
  const std::string prefix = "poolreg-dpdk-gw-" + std::to_string(::getpid());
  RuntimeDirCleanup runtime_dir{prefix};
  ChildProcess a(dpdk_daemon_command(
      poolregd,
      {"--listen", "10.61.0.1", "--listen", "fd61::1", "--set", "dpdk.addresses=[\"10.61.0.1/24\", \"fd61::1/64\"]",
       "--set", "dpdk.gateway=[\"10.61.0.254\", \"fd61::fe\"]", "--set", "enrp.profile=fast", "--set",
       "enrp.peers=[\"10.62.0.2:9901\"]"},
      prefix, router));
  ASSERT_TRUE(listening(a));
  EXPECT_NE(a.output().find("10.61.0.1/24, fd61::1/64, default via 10.61.0.254, default via fd61::fe"),
            std::string::npos)
      << a.output();
  ChildProcess b(in_namespace(client.name(), {poolregd, "--listen", kClient, "--set", "asap.tcp=false", "--set",
                                              "enrp.profile=fast", "--set", "enrp.peers=[\"10.61.0.1:9901\"]", "--set",
                                              "control.enabled=false"}));
  ASSERT_TRUE(b.started());

  ChildProcess pe_process(in_namespace(client.name(), {pe, "-r", kRegistrar, "--pool", "RoutedPool", "--count", "2",
                                                       "--port", "7", "--duration", "15", "-q"}));
  ASSERT_TRUE(pe_process.started());
  std::string answer;
  // The PE's address as the registrar saw it: the client's, two hops away.
  ASSERT_TRUE(resolves(client.name(), pu, kRegistrar, "RoutedPool", 2, kClient, &answer, 15s))
      << "PU answer: " << answer << "\nPE: " << pe_process.output() << "\nA: " << a.output();

  // The same pool over IPv6 from the client subnet: the registrar solicits its IPv6 gateway.
  ASSERT_TRUE(resolves(client.name(), pu, "[fd61::1]:3863", "RoutedPool", 2, kClient, &answer, 15s))
      << "PU answer over IPv6: " << answer << "\nA: " << a.output();

  // ENRP: the DPDK registrar's own outgoing association goes through the gateway too; PEs
  // registered at the kernel registrar behind the router are resolved at the DPDK one.
  ASSERT_TRUE(wait_until(
      [&] {
        return a.poll() || b.poll() ||
               (a.output().find("is alive") != std::string::npos && b.output().find("is alive") != std::string::npos);
      },
      20s))
      << "A: " << a.output() << "\nB: " << b.output();
  ChildProcess pe_at_b(in_namespace(client.name(), {pe, "-r", std::string(kClient) + ":3863", "--pool", "AtB",
                                                    "--count", "2", "--port", "7", "--duration", "10", "-q"}));
  EXPECT_TRUE(resolves(client.name(), pu, kRegistrar, "AtB", 2, kClient, &answer, 15s))
      << "AtB at A: " << answer << "\nA: " << a.output() << "\nB: " << b.output();

  const nlohmann::json stats = lcore_stats(prefix);
  ASSERT_TRUE(stats.is_object()) << stats.dump();
  EXPECT_GE(stats.value("arp_requests_sent", 0), 1);  // the gateway, asked before the first answer
  EXPECT_GE(stats.value("neighbor_solicitations_sent", 0), 1);  // the IPv6 gateway
  EXPECT_GT(stats.value("sctp_packets_out", 0), 0);
  EXPECT_EQ(stats.value("drop_no_route", -1), 0);
  EXPECT_GE(stats.value("asap_in_registration", 0), 2);

  EXPECT_TRUE(stops_cleanly(a));
  b.signal(SIGTERM);
  ASSERT_TRUE(wait_until([&] { return b.poll(); }, 10s)) << b.output();
  EXPECT_EQ(b.exit_code(), 0) << b.output();
}

}  // namespace
}  // namespace poolreg::dpdk
