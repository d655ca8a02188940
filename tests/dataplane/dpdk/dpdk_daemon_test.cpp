// poolregd --dpdk end to end: the daemon runs its DPDK backend on net_af_packet bound to a veth
// whose peer lives in a network namespace this test creates; poolreg-pe and poolreg-pu (the client
// library over usrsctp UDP encapsulation, kernel side) run inside that namespace, register and
// resolve through the DPDK registrar (ARP, SCTP over UDP, usrsctp AF_CONN, ASAP), over IPv4 and
// IPv6 (neighbour solicitation). The per-lcore
// counters are then read through DPDK's telemetry socket, including a malformed datagram the test
// sent. Finally SIGTERM must stop the daemon cleanly (exit 0). Also: two poll lcores (each
// association on the lane its peer steers to, lanes in poolctl stats), endpoint keep-alives on
// the poll lcores (a silent PE removed by their timeout), and ENRP from a two-lane
// DPDK registrar to a kernel one, over UDP encapsulation and over native SCTP.
// Skipped (with the reason) when not root or without netns/ethtool.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/dataplane/capture/tshark_check.hpp"
#include "tests/cli/client/child_process.hpp"
#include "tests/dataplane/dpdk/dpdk_daemon_support.hpp"
#include "tests/dataplane/dpdk/veth_namespace.hpp"
#include "tests/integration/daemon_test_support.hpp"
#include "dataplane/dpdk/steering.hpp"
#include "registrar/wire/asap_codec.hpp"

namespace poolreg::dpdk {
namespace {

// The kernel_sctp_peer helper in its "multihomed" mode (threaded usrsctp bound to several
// addresses, so its INIT lists them) run in a namespace: lines to its stdin, lines from its
// stdout. It gives up after 10 s without a line.
// The multi-homed peer's own UDP port (free in the test's namespace): the registrar steers the
// peer by its address and this port.
constexpr std::uint16_t kMultihomedPeerUdpPort = 40999;

class MultihomedPeer {
 public:
  MultihomedPeer(const std::string& helper, const std::string& ns, const std::string& destination,
                 const std::string& addresses) {
    if (::pipe(to_peer_) != 0) return;
    const std::string command = "ip netns exec " + ns + " " + helper + " multihomed 9899/" + std::to_string(kMultihomedPeerUdpPort) + " " + destination +
                                " " + addresses + " <&" + std::to_string(to_peer_[0]);
    f_ = ::popen(command.c_str(), "r");
    ::close(to_peer_[0]);
  }
  ~MultihomedPeer() {
    if (f_ == nullptr) return;
    tell("\n");
    ::close(to_peer_[1]);
    ::pclose(f_);
  }
  MultihomedPeer(const MultihomedPeer&) = delete;
  MultihomedPeer& operator=(const MultihomedPeer&) = delete;
  std::string line() {
    char buf[4096] = {};
    return f_ == nullptr || std::fgets(buf, sizeof buf, f_) == nullptr ? std::string() : std::string(buf);
  }
  bool tell(const std::string& text) {
    return ::write(to_peer_[1], text.data(), text.size()) == static_cast<ssize_t>(text.size());
  }
  // Sends the Registration `hex` and reads the answer: a "RECV <hex>" Registration Response
  // without the reject bit?
  bool registered(const std::string& hex) {
    if (!tell(hex + "\n")) return false;
    const std::string answer = line();
    // "RECV " + ASAP type 0x03 (Registration Response), flags 0x00 (R=0: accepted).
    return answer.rfind("RECV 0300", 0) == 0;
  }

 private:
  int to_peer_[2] = {-1, -1};
  FILE* f_ = nullptr;
};

// An ASAP Registration (RFC 5352) of PE `id` in `pool` with IPv4 user addresses, in hex.
std::string registration_hex(const char* pool, PoolElementId id, const std::vector<IpAddress>& addresses) {
  wire::Registration reg;
  reg.pool_handle = *PoolHandle::from_string(pool);
  reg.element.id = id;
  reg.element.registration_life_ms = 30000;
  reg.element.user_transport.protocol = TransportProtocol::kSctp;
  reg.element.user_transport.port = 7000;
  reg.element.user_transport.addresses = addresses;
  reg.element.policy.type = PolicyType::kRoundRobin;
  std::vector<std::uint8_t> message;
  if (!wire::encode(reg, wire::WireOptions{}, message).ok()) return {};
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (std::uint8_t b : message) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 15]);
  }
  return hex;
}

using client::testing::ChildProcess;
using poolreg::test::control_request;
using poolreg::test::env;
using poolreg::test::wait_until;
using namespace std::chrono_literals;
using namespace daemon_test;

// The programs every test runs (meson passes their paths).
class DpdkDaemon : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(poolregd.empty() || pe.empty() || pu.empty()) << "POOLREGD / POOLREG_PE / POOLREG_PU not set";
  }
  const std::string poolregd = env("POOLREGD"), pe = env("POOLREG_PE"), pu = env("POOLREG_PU");
  const std::string poolctl = env("POOLCTL");
};

TEST_F(DpdkDaemon, PeRegistersAndPuResolvesThroughTheDpdkRegistrar) {
  test::VethNamespace net("10.97.0.2/24", "fd97::2/64");
  if (!net.ok()) GTEST_SKIP() << net.reason();

  const std::string prefix = "poolreg-dpdk-it-" + std::to_string(::getpid());
  RuntimeDirCleanup runtime_dir{prefix};
  const std::uint16_t metrics_port = free_tcp_port();
  ASSERT_NE(metrics_port, 0);
  ChildProcess daemon(dpdk_daemon_command(poolregd, {"--listen", "10.97.0.1", "--listen", "fd97::1", "--set",
                                                      "enrp.enabled=false", "--set", "metrics.enabled=true", "--set",
                                                      "metrics.listen=\"127.0.0.1:" + std::to_string(metrics_port) + "\""},
                                          prefix, net));
  ASSERT_TRUE(listening(daemon));
  EXPECT_NE(daemon.output().find("DPDK backend: port 0 net_af_packet0"), std::string::npos)
      << daemon.output();

  ASSERT_FALSE(ip_binary().empty()) << "no ip(8) binary";
  // Everything on the wire is captured on the namespace's side of the veth and checked by tshark
  // at the end (our Ethernet/IPv4/IPv6/UDP framing, ARP and neighbour advertisements included).
  const std::optional<std::string> tshark = testing::find_tshark();
  const std::string pcap = "/tmp/poolreg-dpdk-it-" + std::to_string(::getpid()) + ".pcap";
  std::unique_ptr<ChildProcess> capture;
  if (tshark) {
    capture = std::make_unique<ChildProcess>(
        in_namespace(net, {*tshark, "-n", "-i", net.inner_interface(), "-w", pcap, "-q"}));
    ASSERT_TRUE(wait_until(
        [&] { return capture->poll() || capture->output().find("Capturing on") != std::string::npos; }, 10s))
        << capture->output();
    // "Capturing on" comes from tshark while dumpcap may still be arming the socket.
    std::this_thread::sleep_for(500ms);
  }
  ChildProcess pe_process(in_namespace(net, {pe, "-r", "10.97.0.1:3863", "--pool", "DpdkPool", "--count", "3",
                                             "--port", "7", "--duration", "8", "-q"}));
  ASSERT_TRUE(pe_process.started());

  // Resolve until the three PEs are there (registration is asynchronous to us). The PE's only
  // address on the registrar's side of the association is its veth address.
  std::string answer;
  ASSERT_TRUE(resolves(net, pu, "10.97.0.1:3863", "DpdkPool", 3, "10.97.0.2", &answer))
      << "PU answer: " << answer << "\nPE: " << pe_process.output() << "\ndaemon: " << daemon.output();
  // The same pool over IPv6 (neighbour solicitation answered, SCTP over UDP/IPv6).
  ASSERT_TRUE(resolves(net, pu, "[fd97::1]:3863", "DpdkPool", 3, "10.97.0.2", &answer))
      << "PU answer over IPv6: " << answer << "\ndaemon: " << daemon.output();
  const nlohmann::json result = nlohmann::json::parse(answer);
  EXPECT_EQ(result.value("handle", ""), "DpdkPool");

  if (capture) {  // stopped here: what follows is deliberately malformed
    // dumpcap hands packets over a ring block at a time (a block is retired when full or after its
    // timeout): a capture stopped at once loses the last block, which with a fast client can be
    // the whole exchange. Let the block retire first.
    std::this_thread::sleep_for(1500ms);
    capture->signal(SIGINT);
    ASSERT_TRUE(wait_until([&] { return capture->poll(); }, 10s)) << capture->output();
  }
  // 3000 random frames, paced (to our MAC and to broadcast; random EtherType among IPv4, IPv6, ARP, VLAN
  // and others; random bytes after it) from a raw socket in the namespace: all dropped or
  // answered, and the registrar keeps serving.
  const std::string garbage =
      "import os, random, socket\n"
      "mac = open('/proc/net/arp').read().split('\\n')[1].split()[3]\n"
      "ours = bytes.fromhex(mac.replace(':', ''))\n"
      "s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\n"
      "s.bind(('" + net.inner_interface() + "', 0))\n"
      "import time\n"
      "random.seed(5)\n"
      "for i in range(3000):\n"
      "    dst = ours if i % 2 else b'\\xff' * 6\n"
      "    et = random.choice([b'\\x08\\x00', b'\\x86\\xdd', b'\\x08\\x06', b'\\x81\\x00', os.urandom(2)])\n"
      "    s.send(dst + b'\\x02\\x00\\x00\\x00\\x00\\x09' + et + os.urandom(random.randint(0, 120)))\n"
      "    if i % 100 == 99: time.sleep(0.002)\n";
  ASSERT_EQ(run_python_in(net, garbage), 0) << "sending random frames failed";
  ASSERT_TRUE(resolves(net, pu, "10.97.0.1:3863", "DpdkPool", 3, "10.97.0.2", &answer))
      << "after random frames: " << answer << "\ndaemon: " << daemon.output();
  ASSERT_FALSE(daemon.poll()) << daemon.output();

  // A 3-byte datagram to the SCTP-over-UDP port: shorter than an SCTP header, dropped and counted.
  EXPECT_EQ(test::run_quiet("ip netns exec " + net.name() +
                            " python3 -c \"import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
                            ".sendto(b'abc', ('10.97.0.1', 9899))\""),
            0);

  const std::string telemetry_socket = "/var/run/dpdk/" + prefix + "/dpdk_telemetry.v2";
  nlohmann::json stats;
  ASSERT_TRUE(wait_until(
      [&] {
        stats = telemetry(telemetry_socket, "/poolreg/lcore_stats")["/poolreg/lcore_stats"];
        return stats.is_object() && stats.value("drop_sctp_too_short", 0) >= 1;
      },
      5s))
      << stats.dump() << "\n"
      << daemon.output();
  EXPECT_EQ(stats.value("lcore", 0), 1);
  EXPECT_GE(stats.value("arp_replies", 0), 1);
  EXPECT_GE(stats.value("neighbor_advertisements", 0), 1);
  EXPECT_GT(stats.value("sctp_packets_in", 0), 0);
  EXPECT_GT(stats.value("sctp_packets_out", 0), 0);
  EXPECT_GE(stats.value("asap_messages_in", 0), 5);  // 3 registrations + a resolution over v4 and v6
  EXPECT_GE(stats.value("messages_out", 0), 4);
  // net_af_packet's kernel ring may overflow under a burst: most, not all, frames arrive.
  EXPECT_GE(stats.value("rx_packets", 0), 2000);
  EXPECT_GE(stats.value("dropped_total", 0), 1000);  // most random frames fail a check
  EXPECT_GE(stats.value("asap_in_registration", 0), 3);
  EXPECT_GE(stats.value("asap_in_handle_resolution", 0), 2);
  EXPECT_GE(stats.value("asap_out_registration_response", 0), 3);
  EXPECT_GE(stats.value("asap_out_handle_resolution_response", 0), 2);
  // dpdk.resolve_on_poll_lcore (default): every resolution was answered on the poll lcore (the
  // three that found the PEs included), none went to the control lcore.
  EXPECT_GE(stats.value("resolutions_answered", 0), 3);
  EXPECT_EQ(stats.value("resolutions_forwarded", -1), 0);
  EXPECT_EQ(stats.value("resolutions_answered", 0) + stats.value("resolutions_unknown_pool", 0) +
                stats.value("resolutions_rate_limited", 0),
            stats.value("asap_in_handle_resolution", -1));
  EXPECT_GE(stats.value("resolution_pes_returned", 0), 9);
  const nlohmann::json latency =
      telemetry(telemetry_socket, "/poolreg/resolution_latency")["/poolreg/resolution_latency"];
  EXPECT_EQ(latency.value("count", 0), stats.value("asap_out_handle_resolution_response", -1))
      << latency.dump();
  const nlohmann::json lcores = telemetry(telemetry_socket, "/poolreg/lcores")["/poolreg/lcores"];
  EXPECT_EQ(lcores, nlohmann::json::array({1}));

  // /metrics, served on the control lcore: the NIC's statistics of the port (ethdev stats and
  // xstats) and the poll lcore's drops by reason, at least what telemetry saw before.
  const std::string metrics = scrape_metrics(metrics_port);
  ASSERT_FALSE(metrics.empty()) << daemon.output();
  EXPECT_NE(metrics.find("\npoolreg_dpdk_port_info{port=\"0\",name=\"net_af_packet0\"} 1\n"), std::string::npos)
      << metrics;
  EXPECT_GE(series_value(metrics, "poolreg_dpdk_port_rx_packets_total{port=\"0\"}"), 2000) << metrics;
  EXPECT_GT(series_value(metrics, "poolreg_dpdk_port_tx_packets_total{port=\"0\"}"), 0) << metrics;
  EXPECT_GE(series_value(metrics, "poolreg_dpdk_port_rx_missed_errors_total{port=\"0\"}"), 0) << metrics;
  EXPECT_GE(series_value(metrics, "poolreg_dpdk_port_rx_nombuf_total{port=\"0\"}"), 0) << metrics;
  EXPECT_GE(series_value(metrics, "poolreg_dpdk_port_xstats_total{port=\"0\",xstat=\"rx_good_packets\"}"), 2000)
      << metrics;
  EXPECT_GE(series_value(metrics, "poolreg_dpdk_dropped_frames_total{lane=\"0\",reason=\"sctp_too_short\"}"), 1)
      << metrics;
  EXPECT_GE(family_sum(metrics, "poolreg_dpdk_dropped_frames_total", "lane=\"0\""),
            static_cast<double>(stats.value("dropped_total", 0)))
      << metrics;
  EXPECT_EQ(metrics.find("_total_total"), std::string::npos);

  EXPECT_TRUE(stops_cleanly(daemon));
  EXPECT_NE(daemon.output().find("stopped"), std::string::npos) << daemon.output();

  if (!capture) {
    std::cout << "tshark not found: capture check skipped\n";
    return;
  }
  const testing::TsharkReport report = testing::run_tshark(*tshark, pcap);
  ASSERT_TRUE(report.ok) << report.error;
  std::map<int, int> asap_types;
  for (const auto& f : report.frames) {
    EXPECT_TRUE(f.well_formed(testing::ExpertSeverity::kError)) << f.describe();
    for (const auto& m : f.messages)
      if (m.protocol == testing::RSerPoolProtocol::kAsap) ++asap_types[m.type];
  }
  EXPECT_GE(asap_types[3], 3);  // Registration Responses built by the DPDK registrar
  EXPECT_GE(asap_types[6], 2);  // Handle Resolution Responses (IPv4 and IPv6)
  bool arp_reply = false, neighbor_advert = false;
  for (const auto& f : report.frames) {
    if (f.protocols.find("arp") != std::string::npos) arp_reply = true;
    if (f.protocols.find("icmpv6") != std::string::npos) neighbor_advert = true;
  }
  EXPECT_TRUE(arp_reply && neighbor_advert);
  if (!::testing::Test::HasFailure()) ::unlink(pcap.c_str());  // kept for a look when the test failed
}

// Native SCTP (IP protocol 132) on the DPDK port: poolreg-pe and poolreg-pu --sctp-native (raw IP
// sockets in the namespace) register and resolve over IPv4 and IPv6; a native packet (correct
// CRC32c) for an SCTP port no socket of ours uses is dropped as sctp_not_our_port, one with a bad
// CRC32c as sctp_bad_checksum. With asap.sctp_native off, protocol 132 is dropped as unsupported.
TEST_F(DpdkDaemon, NativeSctpPeRegistersAndPuResolves) {
  test::VethNamespace net("10.94.0.2/24", "fd94::2/64");
  if (!net.ok()) GTEST_SKIP() << net.reason();
  if (std::filesystem::exists("/sys/module/sctp"))
    GTEST_SKIP() << "the kernel's SCTP module is loaded: it would answer our native packets with ABORTs";

  const std::string prefix = "poolreg-dpdk-native-" + std::to_string(::getpid());
  RuntimeDirCleanup runtime_dir{prefix};
  ChildProcess daemon(dpdk_daemon_command(
      poolregd, {"--listen", "10.94.0.1", "--listen", "fd94::1", "--set", "enrp.enabled=false"}, prefix, net));
  ASSERT_TRUE(listening(daemon));
  EXPECT_NE(daemon.output().find("ASAP SCTP native 10.94.0.1:3863"), std::string::npos) << daemon.output();
  EXPECT_NE(daemon.output().find(", native SCTP"), std::string::npos) << daemon.output();
  ChildProcess pe_process(in_namespace(net, {pe, "--sctp-native", "-r", "10.94.0.1:3863", "--pool", "NativePool",
                                             "--count", "2", "--port", "7", "--duration", "10", "-q"}));
  ASSERT_TRUE(pe_process.started());
  std::string answer;
  ASSERT_TRUE(resolves(net, pu, "10.94.0.1:3863", "NativePool", 2, "10.94.0.2", &answer, 15s, {"--sctp-native"}))
      << "PU answer: " << answer << "\nPE: " << pe_process.output() << "\ndaemon: " << daemon.output();
  ASSERT_TRUE(resolves(net, pu, "[fd94::1]:3863", "NativePool", 2, "10.94.0.2", &answer, 10s, {"--sctp-native"}))
      << "PU answer over IPv6: " << answer << "\ndaemon: " << daemon.output();

  // Two native packets from a raw socket in the namespace: an INIT-like packet with a correct
  // CRC32c (computed here, independently of our C++ code) to port 5060, and the same to 3863 with
  // its CRC32c broken.
  const std::string sender =
      "import socket, struct\n"
      "def crc32c(data):\n"
      "    crc = 0xffffffff\n"
      "    for b in data:\n"
      "        crc ^= b\n"
      "        for _ in range(8):\n"
      "            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)\n"
      "    return crc ^ 0xffffffff\n"
      "def packet(dst_port):\n"
      "    body = struct.pack('!HHII', 40123, dst_port, 0, 0) + bytes([1, 0, 0, 20]) + struct.pack('!IIHHI', 7, 65536, 1, 1, 9)\n"
      "    return body[:8] + struct.pack('<I', crc32c(body)) + body[12:]\n"
      "s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 132)\n"
      "s.sendto(packet(5060), ('10.94.0.1', 0))\n"
      "bad = bytearray(packet(3863)); bad[8] ^= 0xff\n"
      "s.sendto(bytes(bad), ('10.94.0.1', 0))\n";
  ASSERT_EQ(run_python_in(net, sender), 0) << "sending native packets failed";
  const std::string telemetry_socket = "/var/run/dpdk/" + prefix + "/dpdk_telemetry.v2";
  nlohmann::json stats;
  ASSERT_TRUE(wait_until(
      [&] {
        stats = telemetry(telemetry_socket, "/poolreg/lcore_stats")["/poolreg/lcore_stats"];
        return stats.is_object() && stats.value("drop_sctp_not_our_port", 0) >= 1 &&
               stats.value("drop_sctp_bad_checksum", 0) >= 1;
      },
      5s))
      << stats.dump() << "\n"
      << daemon.output();
  EXPECT_GT(stats.value("sctp_packets_in", 0), 0);
  EXPECT_GT(stats.value("sctp_packets_out", 0), 0);
  EXPECT_GE(stats.value("asap_in_registration", 0), 2);
  EXPECT_GE(stats.value("resolutions_answered", 0), 2);
  EXPECT_EQ(stats.value("drop_unsupported_protocol", -1), 0);
  ASSERT_TRUE(resolves(net, pu, "10.94.0.1:3863", "NativePool", 2, "10.94.0.2", &answer, 10s, {"--sctp-native"}))
      << "after the bad packets: " << answer << "\ndaemon: " << daemon.output();
  EXPECT_TRUE(stops_cleanly(daemon));

  // asap.sctp_native off: no native listener in the summary, protocol 132 dropped as unsupported,
  // SCTP over UDP still served.
  const std::string prefix_off = prefix + "-off";
  RuntimeDirCleanup runtime_dir_off{prefix_off};
  ChildProcess off(dpdk_daemon_command(poolregd,
                                       {"--listen", "10.94.0.1", "--set", "enrp.enabled=false", "--set",
                                        "asap.sctp_native=false"},
                                       prefix_off, net));
  ASSERT_TRUE(listening(off));
  EXPECT_EQ(off.output().find("SCTP native"), std::string::npos) << off.output();
  ChildProcess native_pu(in_namespace(net, {pu, "--sctp-native", "-r", "10.94.0.1:3863", "--pool", "NativePool",
                                            "--timeout-ms", "1000"}));
  ASSERT_TRUE(wait_until([&] { return native_pu.poll(); }, 10s)) << native_pu.output();
  EXPECT_NE(native_pu.exit_code(), 0) << native_pu.output();
  const std::string off_socket = "/var/run/dpdk/" + prefix_off + "/dpdk_telemetry.v2";
  EXPECT_TRUE(wait_until(
      [&] {
        stats = telemetry(off_socket, "/poolreg/lcore_stats")["/poolreg/lcore_stats"];
        return stats.is_object() && stats.value("drop_unsupported_protocol", 0) >= 1;
      },
      5s))
      << stats.dump();
  EXPECT_EQ(stats.value("sctp_packets_in", -1), 0);
  EXPECT_TRUE(stops_cleanly(off));
}

// dpdk.resolve_on_poll_lcore = false: the old path (every ASAP message crosses the rings to the
// control lcore's AsapServer) still answers, and the poll lcore answered nothing itself.
TEST_F(DpdkDaemon, ResolutionsGoToTheControlLcoreWhenConfigured) {
  test::VethNamespace net("10.95.0.2/24", "fd95::2/64");
  if (!net.ok()) GTEST_SKIP() << net.reason();

  const std::string prefix = "poolreg-dpdk-ctl-" + std::to_string(::getpid());
  RuntimeDirCleanup runtime_dir{prefix};
  ChildProcess daemon(dpdk_daemon_command(poolregd, {"--listen", "10.95.0.1", "--set", "enrp.enabled=false",
                                                      "--set", "dpdk.resolve_on_poll_lcore=false"},
                                          prefix, net));
  ASSERT_TRUE(listening(daemon));
  ChildProcess pe_process(in_namespace(net, {pe, "-r", "10.95.0.1:3863", "--pool", "CtlPool", "--count", "2",
                                             "--port", "7", "--duration", "6", "-q"}));
  ASSERT_TRUE(pe_process.started());
  std::string answer;
  ASSERT_TRUE(resolves(net, pu, "10.95.0.1:3863", "CtlPool", 2, "10.95.0.2", &answer))
      << "PU answer: " << answer << "\nPE: " << pe_process.output() << "\ndaemon: " << daemon.output();

  const std::string telemetry_socket = "/var/run/dpdk/" + prefix + "/dpdk_telemetry.v2";
  const nlohmann::json stats = telemetry(telemetry_socket, "/poolreg/lcore_stats")["/poolreg/lcore_stats"];
  ASSERT_TRUE(stats.is_object()) << stats.dump();
  EXPECT_GE(stats.value("asap_in_handle_resolution", 0), 1);
  EXPECT_GE(stats.value("asap_out_handle_resolution_response", 0), 1);
  EXPECT_EQ(stats.value("resolutions_answered", -1), 0);
  EXPECT_EQ(stats.value("resolutions_unknown_pool", -1), 0);
  EXPECT_EQ(stats.value("resolutions_forwarded", -1), 0);  // no resolver at all
  const nlohmann::json latency =
      telemetry(telemetry_socket, "/poolreg/resolution_latency")["/poolreg/resolution_latency"];
  EXPECT_EQ(latency.value("count", 0), stats.value("asap_out_handle_resolution_response", -1))
      << latency.dump();

  EXPECT_TRUE(stops_cleanly(daemon));
}

// ENRP over the DPDK path: registrar A runs --dpdk on the veth, registrar B runs on kernel
// sockets inside the namespace; each lists the other as static peer. A PE registered at B is
// resolved at A and one registered at A is resolved at B (Handle Updates both ways; A opens its
// association to B itself, which needs ARP from the DPDK side). A runs two poll lcores: the ARP
// reply may arrive on the lane that does not own B's association (shared neighbour knowledge).
TEST_F(DpdkDaemon, EnrpBetweenADpdkAndAKernelRegistrar) {
  test::VethNamespace net("10.97.0.2/24");
  if (!net.ok()) GTEST_SKIP() << net.reason();
  ASSERT_FALSE(ip_binary().empty()) << "no ip(8) binary";

  const std::string prefix = "poolreg-dpdk-enrp-" + std::to_string(::getpid());
  RuntimeDirCleanup runtime_dir{prefix};
  ChildProcess a(dpdk_daemon_command(poolregd, {"--listen", "10.97.0.1", "--set", "enrp.profile=fast", "--set",
                                                 "enrp.peers=[\"10.97.0.2:9901\"]"},
                                     prefix, net, /*lanes=*/2));
  ChildProcess b(in_namespace(
      net, {poolregd, "--listen", "10.97.0.2", "--set", "asap.tcp=false", "--set", "enrp.profile=fast",
            "--set", "enrp.peers=[\"10.97.0.1:9901\"]", "--set", "control.enabled=false"}));
  ASSERT_TRUE(a.started() && b.started());
  ASSERT_TRUE(wait_until(
      [&] {
        return a.poll() || b.poll() ||
               (a.output().find("is alive") != std::string::npos &&
                b.output().find("is alive") != std::string::npos);
      },
      20s))
      << "A: " << a.output() << "\nB: " << b.output();
  ASSERT_FALSE(a.exit_code().has_value() || b.exit_code().has_value()) << a.output() << b.output();

  ChildProcess pe_at_b(in_namespace(net, {pe, "-r", "10.97.0.2:3863", "--pool", "AtB", "--count", "2",
                                          "--port", "7", "--duration", "10", "-q"}));
  ChildProcess pe_at_a(in_namespace(net, {pe, "-r", "10.97.0.1:3863", "--pool", "AtA", "--count", "2",
                                          "--port", "7", "--duration", "10", "-q"}));
  std::string answer;
  EXPECT_TRUE(resolves(net, pu, "10.97.0.1:3863", "AtB", 2, "10.97.0.2", &answer, 15s))
      << "at A: " << answer << "\nA: " << a.output() << "\nB: " << b.output();
  EXPECT_TRUE(resolves(net, pu, "10.97.0.2:3863", "AtA", 2, "10.97.0.2", &answer, 15s))
      << "at B: " << answer << "\nA: " << a.output() << "\nB: " << b.output();

  a.signal(SIGTERM);
  b.signal(SIGTERM);
  ASSERT_TRUE(wait_until([&] { return a.poll() && b.poll(); }, 10s)) << a.output() << b.output();
  EXPECT_EQ(a.exit_code(), 0) << a.output();
  EXPECT_EQ(b.exit_code(), 0) << b.output();
}

// Every peer in the `peers` answer of the daemon behind `socket` is alive, in sync (the checksum
// it announces is the one computed for its PEs here) and not syncing; `expected` of them.
bool peers_in_sync(const std::string& socket, std::size_t expected, std::string* why) {
  const nlohmann::json r = control_request(socket, "peers");
  if (!r.value("ok", false) || !r["result"].contains("peers")) {
    *why = socket + ": " + r.dump();
    return false;
  }
  std::size_t alive = 0;
  for (const auto& p : r["result"]["peers"]) {
    if (p.value("state", "") != "alive" || !p.value("in_sync", false) || p.value("sync_running", true)) {
      *why = socket + ": " + p.dump();
      return false;
    }
    ++alive;
  }
  *why = socket + ": " + r.dump();
  return alive == expected;
}

// Native ENRP on the DPDK backend (issue 15 item 1): the DPDK registrar A lists the kernel
// registrar B with `sctp_native = true`, so A's lane opens its ENRP association as IP + SCTP
// frames on the port (no UDP); B lists A over UDP encapsulation. They find each other, PEs
// registered at either side are resolved at the other, and both handle tables agree (each
// side's peer is in sync: its announced checksum equals the one computed locally). B's lane
// counted native SCTP packets: A's ENRP.
TEST_F(DpdkDaemon, NativeEnrpBetweenADpdkAndAKernelRegistrar) {
  test::VethNamespace net("10.96.0.2/24");
  if (!net.ok()) GTEST_SKIP() << net.reason();
  ASSERT_FALSE(ip_binary().empty()) << "no ip(8) binary";

  const std::string prefix = "poolreg-dpdk-nenrp-" + std::to_string(::getpid());
  RuntimeDirCleanup runtime_dir{prefix};
  const std::string socket_a = "/tmp/poolreg-dpdk-nenrp-a-" + std::to_string(::getpid()) + ".sock";
  const std::string socket_b = "/tmp/poolreg-dpdk-nenrp-b-" + std::to_string(::getpid()) + ".sock";
  ChildProcess a(
      dpdk_daemon_command(poolregd,
                          {"--listen", "10.96.0.1", "--set", "enrp.profile=fast", "--set",
                           "enrp.peers=[{ address = \"10.96.0.2:9901\", sctp_native = true }]", "--set",
                           "control.enabled=true", "--set", "control.socket_path=\"" + socket_a + "\""},
                          prefix, net));
  ChildProcess b(
      in_namespace(net, {poolregd, "--listen", "10.96.0.2", "--set", "asap.tcp=false", "--set",
                         "enrp.profile=fast", "--set", "enrp.peers=[\"10.96.0.1:9901\"]", "--set",
                         "control.enabled=true", "--set", "control.socket_path=\"" + socket_b + "\""}));
  ASSERT_TRUE(a.started() && b.started());
  ASSERT_TRUE(listening(a));
  ASSERT_TRUE(listening(b));
  EXPECT_NE(a.output().find(", native SCTP"), std::string::npos) << a.output();
  // net_af_packet offers no SCTP checksum offload: the start-up line says the software path runs.
  EXPECT_NE(a.output().find("CRC32c in software"), std::string::npos) << a.output();
  EXPECT_NE(b.output().find("native SCTP on raw IP sockets"), std::string::npos) << b.output();
  std::string why;
  ASSERT_TRUE(
      wait_until([&] { return peers_in_sync(socket_a, 1, &why) && peers_in_sync(socket_b, 1, &why); }, 20s))
      << why << "\nA: " << a.output() << "\nB: " << b.output();

  ChildProcess pe_at_b(in_namespace(net, {pe, "-r", "10.96.0.2:3863", "--pool", "NativeAtB", "--count", "2",
                                          "--port", "7", "--duration", "20", "-q"}));
  ChildProcess pe_at_a(in_namespace(net, {pe, "-r", "10.96.0.1:3863", "--pool", "NativeAtA", "--count", "2",
                                          "--port", "7", "--duration", "20", "-q"}));
  std::string answer;
  EXPECT_TRUE(resolves(net, pu, "10.96.0.1:3863", "NativeAtB", 2, "10.96.0.2", &answer, 15s))
      << "at A: " << answer << "\nA: " << a.output() << "\nB: " << b.output();
  EXPECT_TRUE(resolves(net, pu, "10.96.0.2:3863", "NativeAtA", 2, "10.96.0.2", &answer, 15s))
      << "at B: " << answer << "\nA: " << a.output() << "\nB: " << b.output();
  // The handle tables agree once the updates went through (checksums equal on both sides).
  EXPECT_TRUE(
      wait_until([&] { return peers_in_sync(socket_a, 1, &why) && peers_in_sync(socket_b, 1, &why); }, 10s))
      << why;
  // A's ENRP reached B as native SCTP (B's raw socket), and B answered natively.
  const nlohmann::json stats_b = control_request(socket_b, "stats");
  std::uint64_t native_in = 0, native_out = 0, bad_crc = 0;
  for (const auto& l : stats_b["result"]["lanes"]) {
    native_in += l.value("native_in", std::uint64_t{0});
    native_out += l.value("native_out", std::uint64_t{0});
    bad_crc += l.value("native_drop_bad_crc", std::uint64_t{0});
  }
  EXPECT_GT(native_in, 0u) << stats_b.dump();
  EXPECT_GT(native_out, 0u) << stats_b.dump();
  EXPECT_EQ(bad_crc, 0u) << stats_b.dump();

  pe_at_a.signal(SIGTERM);
  pe_at_b.signal(SIGTERM);
  a.signal(SIGTERM);
  b.signal(SIGTERM);
  ASSERT_TRUE(wait_until([&] { return a.poll() && b.poll(); }, 10s)) << a.output() << b.output();
  EXPECT_EQ(a.exit_code(), 0) << a.output();
  EXPECT_EQ(b.exit_code(), 0) << b.output();
  ::unlink(socket_a.c_str());
  ::unlink(socket_b.c_str());
}

// Two poll lcores, each with its own usrsctp copy: PUs whose UDP ports steer them to lane 0 and
// to lane 1 both get their answers, each lane answered the resolutions of its own associations
// (none forwarded), and every association stayed on one lane (what a lane sent out it also took
// in: no lane answered for an association whose packets went to the other).
// SCTP multi-homing on the DPDK path (dataplane/sctp/README.md "Multi-homing"): a PE bound to
// two addresses of the namespace's veth (10.93.0.2 and `second`; its INIT lists both) registers; then
// its first address is deleted. The registrar's answers to it find no neighbour any more; after
// asap.sctp_path_max_retrans usrsctp reports the path unreachable and the lane sends to the
// second address (ARP, then SCTP's retransmission): the re-registration sent at the cut is
// answered on the same association, the PE stays registered, the lane counts the failover.
// On `lanes` poll lcores, `second` in 10.93.0.0/24; returns the lanes' sctp_alias_steered sum.
std::uint64_t multihomed_pe_survives(const std::string& poolregd, unsigned lanes, const std::string& second) {
  std::uint64_t alias_steered = 0;
  [&] {
    test::VethNamespace net("10.93.0.2/24");
    if (!net.ok()) GTEST_SKIP() << net.reason();
    const std::string helper = env("KERNEL_SCTP_PEER");
    ASSERT_FALSE(helper.empty()) << "KERNEL_SCTP_PEER not set";
    // A helper that exited early must not kill the test with SIGPIPE when it is told to close.
    std::signal(SIGPIPE, SIG_IGN);
    // The second address is a secondary one of the subnet: it must take over the subnet's route
    // when the first goes (Linux deletes the secondaries with the primary otherwise).
    ASSERT_EQ(test::run_quiet("ip netns exec " + net.name() + " sysctl -qw net.ipv4.conf." +
                              net.inner_interface() + ".promote_secondaries=1"),
              0);
    ASSERT_EQ(test::run_quiet("ip netns exec " + net.name() + " ip addr add " + second + "/24 dev " +
                              net.inner_interface()),
              0);

    const std::string prefix = "poolreg-dpdk-mh-" + std::to_string(::getpid());
    RuntimeDirCleanup runtime_dir{prefix};
    const std::string control_socket = "/tmp/poolreg-dpdk-mh-" + std::to_string(::getpid()) + ".sock";
    ChildProcess daemon(
        dpdk_daemon_command(poolregd,
                            {"--listen", "10.93.0.1", "--set", "enrp.enabled=false", "--set",
                             "control.enabled=true", "--set", "control.socket_path=" + control_socket, "--set",
                             "asap.sctp_path_max_retrans=2"},
                            prefix, net, lanes));
    ASSERT_TRUE(listening(daemon));
    // The lanes steer by runtime::steer_lane (what the caller computed): no RSS to program.
    if (lanes > 1) {
      ASSERT_NE(daemon.output().find("software steering"), std::string::npos) << daemon.output();
    }
    const std::vector<IpAddress> both = {IpAddress::v4({10, 93, 0, 2}), *IpAddress::parse(second)};
    const std::string registration = registration_hex("MultihomedPool", 1601, both);
    ASSERT_FALSE(registration.empty());
    MultihomedPeer peer(helper, net.name(), "10.93.0.1:3863", "10.93.0.2 " + second);
    const std::string up = peer.line();
    ASSERT_EQ(up.rfind("UP ", 0), 0u) << up << daemon.output();
    ASSERT_TRUE(peer.registered(registration)) << daemon.output();

    ASSERT_EQ(test::run_quiet("ip netns exec " + net.name() + " ip addr del 10.93.0.2/24 dev " +
                              net.inner_interface()),
              0);
    const auto cut = std::chrono::steady_clock::now();
    ASSERT_TRUE(peer.registered(registration)) << "no answer after the first address died\n"
                                               << daemon.output();
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - cut).count();
    std::cout << "DPDK multi-homing: the re-registration sent at the cut was answered after " << ms
              << " ms\n";
    EXPECT_LT(ms, 8000);

    const nlohmann::json stats = control_request(control_socket, "stats");
    ASSERT_TRUE(stats.value("ok", false)) << stats.dump();
    std::uint64_t unreachable = 0, failovers = 0;
    for (const auto& lane : stats["result"]["lanes"]) {
      unreachable += lane.value("sctp_paths_unreachable", std::uint64_t{0});
      failovers += lane.value("sctp_path_failovers", std::uint64_t{0});
      alias_steered += lane.value("sctp_alias_steered", std::uint64_t{0});
    }
    EXPECT_EQ(unreachable, 1u) << stats.dump();
    EXPECT_EQ(failovers, 1u) << stats.dump();
    // Still one PE in the pool (on the same association).
    EXPECT_TRUE(peer.registered(registration)) << daemon.output();
  }();
  return alias_steered;
}

TEST_F(DpdkDaemon, MultihomedPeKeepsItsAssociationWhenOneAddressDies) {
  const std::uint64_t alias_steered = multihomed_pe_survives(poolregd, 1, "10.93.0.3");
  if (IsSkipped() || HasFatalFailure()) return;
  EXPECT_EQ(alias_steered, 0u);
}

// Two poll lcores, the PE's addresses steering to different lanes (asserted; net_af_packet has no
// RSS to program: software steering by runtime::steer_lane): the lane holding the association
// published the second address, the other lane hands its frames over.
TEST_F(DpdkDaemon, MultihomedPeOnTwoPollLcoresKeepsItsAssociationWhenOneAddressDies) {
  const std::uint8_t first[4] = {10, 93, 0, 2};
  const std::uint8_t second[4] = {10, 93, 0, 4};
  ASSERT_NE(runtime::steer_lane(first, false, kMultihomedPeerUdpPort, 2),
            runtime::steer_lane(second, false, kMultihomedPeerUdpPort, 2));
  const std::uint64_t alias_steered = multihomed_pe_survives(poolregd, 2, "10.93.0.4");
  if (IsSkipped() || HasFatalFailure()) return;
  EXPECT_GT(alias_steered, 0u);
}

TEST_F(DpdkDaemon, TwoPollLcoresEachServeTheirOwnAssociations) {
  test::VethNamespace net("10.94.0.2/24");
  if (!net.ok()) GTEST_SKIP() << net.reason();
  ASSERT_FALSE(ip_binary().empty()) << "no ip(8) binary";

  const std::string prefix = "poolreg-dpdk-lanes-" + std::to_string(::getpid());
  RuntimeDirCleanup runtime_dir{prefix};
  const std::string control_socket = "/tmp/poolreg-dpdk-lanes-" + std::to_string(::getpid()) + ".sock";
  ChildProcess daemon(dpdk_daemon_command(poolregd,
                                          {"--listen", "10.94.0.1", "--set", "enrp.enabled=false", "--set",
                                           "control.enabled=true", "--set", "control.socket_path=" + control_socket},
                                          prefix, net, /*lanes=*/2));
  ASSERT_TRUE(listening(daemon));
  EXPECT_NE(daemon.output().find("poll lcores 1,2"), std::string::npos) << daemon.output();
  // net_af_packet has no programmable RSS: ownership stays with software steering, and says why.
  EXPECT_NE(daemon.output().find("software steering (port 0: the port offers no IP/UDP RSS)"), std::string::npos)
      << daemon.output();

  ChildProcess pe_process(in_namespace(net, {pe, "-r", "10.94.0.1:3863", "--pool", "LanePool", "--count", "3",
                                             "--port", "7", "--duration", "10", "-q"}));
  ASSERT_TRUE(pe_process.started());
  // Local UDP ports that steer to lane 0 and to lane 1 (the registrar's own function).
  const std::uint8_t pu_ip[4] = {10, 94, 0, 2};
  std::uint16_t port_for_lane[2] = {0, 0};
  for (std::uint16_t p = 40000; p < 41000 && (port_for_lane[0] == 0 || port_for_lane[1] == 0); ++p)
    if (port_for_lane[steer_lane(pu_ip, false, p, 2)] == 0) port_for_lane[steer_lane(pu_ip, false, p, 2)] = p;
  ASSERT_TRUE(port_for_lane[0] != 0 && port_for_lane[1] != 0);
  for (unsigned lane = 0; lane < 2; ++lane) {
    std::string answer;
    const std::string port = std::to_string(port_for_lane[lane]);
    const bool ok = wait_until(
        [&] {
          ChildProcess p(in_namespace(net, {pu, "-r", "10.94.0.1:3863", "--pool", "LanePool", "-n", "5", "--json",
                                            "--timeout-ms", "2000", "--local-udp-port", port}));
          wait_until([&] { return p.poll(); }, 5s);
          answer = p.output();
          const nlohmann::json j = nlohmann::json::parse(answer, nullptr, false);
          return p.exit_code() == 0 && j.is_object() && j.contains("pes") && j["pes"].size() == 3;
        },
        10s);
    ASSERT_TRUE(ok) << "PU on lane " << lane << ": " << answer << "\ndaemon: " << daemon.output();
  }

  const std::string telemetry_socket = "/var/run/dpdk/" + prefix + "/dpdk_telemetry.v2";
  EXPECT_EQ(telemetry(telemetry_socket, "/poolreg/lcores")["/poolreg/lcores"], nlohmann::json::array({1, 2}));
  std::uint64_t answered_on_lanes = 0;
  for (int lcore : {1, 2}) {
    const std::string command = "/poolreg/lcore_stats," + std::to_string(lcore);
    const nlohmann::json stats = telemetry(telemetry_socket, command)["/poolreg/lcore_stats"];
    ASSERT_TRUE(stats.is_object()) << stats.dump();
    EXPECT_EQ(stats.value("lcore", 0), lcore);
    EXPECT_GT(stats.value("sctp_packets_in", 0), 0) << stats.dump();
    EXPECT_GT(stats.value("sctp_packets_out", 0), 0) << stats.dump();
    EXPECT_GE(stats.value("resolutions_answered", 0), 1) << stats.dump();
    EXPECT_EQ(stats.value("resolutions_forwarded", -1), 0) << stats.dump();
    EXPECT_EQ(stats.value("asap_in_handle_resolution", 0), stats.value("asap_out_handle_resolution_response", -1))
        << stats.dump();
    EXPECT_EQ(stats.value("drop_steer_full", -1), 0) << stats.dump();
    answered_on_lanes += stats.value("resolutions_answered", 0);
    std::cout << "lcore " << lcore << ": rx " << stats.value("rx_packets", 0) << ", steered out "
              << stats.value("sctp_steered_out", 0) << ", steered in " << stats.value("steered_in", 0)
              << ", resolutions answered " << stats.value("resolutions_answered", 0) << "\n";
  }

  // The operator sees the lanes in poolctl stats, and their resolutions in the status summary.
  const nlohmann::json stats = control_request(control_socket, "stats");
  ASSERT_TRUE(stats.value("ok", false)) << stats.dump();
  const nlohmann::json& lanes = stats["result"]["lanes"];
  ASSERT_EQ(lanes.size(), 2u) << stats.dump();
  EXPECT_EQ(lanes[0]["lane"], 0);
  EXPECT_EQ(lanes[0]["backend"], "dpdk");
  EXPECT_EQ(lanes[0]["lcore"], 1);
  EXPECT_EQ(lanes[1]["lane"], 1);
  EXPECT_EQ(lanes[1]["lcore"], 2);
  EXPECT_EQ(lanes[0].value("resolutions_answered", 0) + lanes[1].value("resolutions_answered", 0), answered_on_lanes);
  const nlohmann::json status = control_request(control_socket, "status");
  EXPECT_GE(status["result"]["summary"].value("resolutions", 0), answered_on_lanes) << status.dump();

  EXPECT_TRUE(stops_cleanly(daemon));
}

// Endpoint keep-alives on the poll lcores (asap.keepalive_on_lanes, LaneKeepAlives::for_engine on
// the DPDK backend): a PE process answering them keeps its 3 PEs, their Keep-Alives are sent and
// their Acks consumed on the lanes (the control thread's own keep-alive counters stay 0); a silent
// PE process's 3 PEs time out on the lanes and the control thread removes exactly them.
TEST_F(DpdkDaemon, KeepAlivesRunOnThePollLcoresAndASilentPeIsRemoved) {
  test::VethNamespace net("10.89.0.2/24");
  if (!net.ok()) GTEST_SKIP() << net.reason();
  ASSERT_FALSE(ip_binary().empty()) << "no ip(8) binary";

  const std::string prefix = "poolreg-dpdk-ka-" + std::to_string(::getpid());
  RuntimeDirCleanup runtime_dir{prefix};
  const std::string control_socket = "/tmp/poolreg-dpdk-ka-" + std::to_string(::getpid()) + ".sock";
  ChildProcess daemon(
      dpdk_daemon_command(poolregd,
                          {"--listen", "10.89.0.1", "--set", "enrp.enabled=false", "--set",
                           "control.enabled=true", "--set", "control.socket_path=" + control_socket, "--set",
                           "asap.keepalive_interval_ms=300", "--set", "asap.keepalive_timeout_ms=300"},
                          prefix, net, /*lanes=*/2));
  ASSERT_TRUE(listening(daemon));
  ChildProcess live(in_namespace(net, {pe, "-r", "10.89.0.1:3863", "--pool", "KaLive", "--count", "3",
                                       "--port", "7", "--duration", "30", "-q", "--no-reconnect"}));
  ChildProcess silent(
      in_namespace(net, {pe, "-r", "10.89.0.1:3863", "--pool", "KaSilent", "--count", "3", "--port", "7",
                         "--duration", "30", "-q", "--no-reconnect", "--silent"}));
  ASSERT_TRUE(live.started() && silent.started());

  auto lane_sum = [](const nlohmann::json& stats, const char* key) {
    std::uint64_t sum = 0;
    for (const auto& l : stats["result"]["lanes"]) sum += l.value(key, 0ull);
    return sum;
  };
  nlohmann::json stats;
  const bool settled = wait_until(
      [&] {
        stats = control_request(control_socket, "stats");
        if (!stats.value("ok", false) || stats["result"]["lanes"].size() != 2) return false;
        return lane_sum(stats, "keepalive_acks") >= 9 &&
               stats["result"]["asap"].value("removed_by_keepalive_timeout", 0) >= 3;
      },
      20s);
  ASSERT_TRUE(settled) << stats.dump() << "\ndaemon: " << daemon.output();
  const nlohmann::json& asap = stats["result"]["asap"];
  EXPECT_GT(lane_sum(stats, "keepalives_sent"), lane_sum(stats, "keepalive_acks") - 1) << stats.dump();
  EXPECT_EQ(lane_sum(stats, "keepalive_timeouts"), 3u) << stats.dump();
  EXPECT_EQ(lane_sum(stats, "keepalive_not_ours"), 0u) << stats.dump();
  EXPECT_EQ(lane_sum(stats, "keepalive_acks_forwarded"), 0u) << stats.dump();
  EXPECT_EQ(asap.value("keepalive_lane_timeouts", 0), 3) << asap.dump();
  EXPECT_EQ(asap.value("removed_by_keepalive_timeout", 0), 3) << asap.dump();
  EXPECT_EQ(asap.value("keepalives_sent", -1), 0) << asap.dump();
  EXPECT_EQ(asap.value("keepalive_acks", -1), 0) << asap.dump();
  const nlohmann::json status = control_request(control_socket, "status");
  EXPECT_EQ(status["result"]["summary"].value("pes", 0), 3) << status.dump();

  for (ChildProcess* p : {&live, &silent}) p->signal(SIGTERM);
  for (ChildProcess* p : {&live, &silent}) wait_until([&] { return p->poll(); }, 5s);
  EXPECT_TRUE(stops_cleanly(daemon));
}

// Two ports, each a veth into its own namespace and subnet: a PE registers through port 0, a PU
// resolves through port 1 and gets it; each side's answers leave through the port its packets
// came in on (the namespaces cannot reach each other, so any other way would not arrive).
TEST_F(DpdkDaemon, TwoPortsServeTwoSubnets) {
  test::VethNamespace pe_net("10.91.0.2/24");
  if (!pe_net.ok()) GTEST_SKIP() << pe_net.reason();
  test::VethNamespace pu_net("10.90.0.2/24");
  if (!pu_net.ok()) GTEST_SKIP() << pu_net.reason();
  ASSERT_FALSE(ip_binary().empty()) << "no ip(8) binary";

  const std::string prefix = "poolreg-dpdk-ports-" + std::to_string(::getpid());
  RuntimeDirCleanup runtime_dir{prefix};
  ChildProcess daemon(dpdk_daemon_command(
      poolregd, {"--listen", "10.91.0.1", "--listen", "10.90.0.1", "--set", "enrp.enabled=false"}, prefix, pe_net,
      /*lanes=*/2, &pu_net));
  ASSERT_TRUE(listening(daemon));
  EXPECT_NE(daemon.output().find("port 0 net_af_packet0"), std::string::npos) << daemon.output();
  EXPECT_NE(daemon.output().find("; port 1 net_af_packet1"), std::string::npos) << daemon.output();

  ChildProcess pe_process(in_namespace(pe_net, {pe, "-r", "10.91.0.1:3863", "--pool", "PortPool", "--count", "2",
                                                "--port", "7", "--duration", "10", "-q"}));
  ASSERT_TRUE(pe_process.started());
  std::string answer;
  EXPECT_TRUE(resolves(pu_net, pu, "10.90.0.1:3863", "PortPool", 2, "10.91.0.2", &answer))
      << "PU through port 1: " << answer << "\nPE: " << pe_process.output() << "\ndaemon: " << daemon.output();
  EXPECT_TRUE(resolves(pe_net, pu, "10.91.0.1:3863", "PortPool", 2, "10.91.0.2", &answer))
      << "PU through port 0: " << answer << "\ndaemon: " << daemon.output();

  EXPECT_TRUE(stops_cleanly(daemon));
}

// Operator capture (issue 15 item 4): `poolctl capture` makes poolregd write the DPDK port's
// frames into a pcapng file (rte_pcapng: received and sent, with direction). While a PU resolves
// from the namespace, a capture of 8 frames ends by its count; tshark reads every frame as well
// formed, with both directions and SCTP among them. An existing file is never overwritten, an
// unknown port is refused, and a capture with no frame limit ends by its duration.
TEST_F(DpdkDaemon, OperatorCaptureWritesAPcapngTsharkReads) {
  test::VethNamespace net("10.93.0.2/24", "fd93::2/64");
  if (!net.ok()) GTEST_SKIP() << net.reason();
  const std::optional<std::string> tshark = testing::find_tshark();
  if (!tshark) GTEST_SKIP() << "tshark not installed";
  ASSERT_FALSE(poolctl.empty()) << "POOLCTL not set";

  const std::string prefix = "poolreg-dpdk-cap-" + std::to_string(::getpid());
  RuntimeDirCleanup runtime_dir{prefix};
  const std::string socket = "/tmp/" + prefix + ".sock";
  const std::string file = "/tmp/" + prefix + ".pcapng", second = "/tmp/" + prefix + "-2.pcapng";
  ::unlink(file.c_str());
  ::unlink(second.c_str());
  ChildProcess daemon(dpdk_daemon_command(poolregd, {"--listen", "10.93.0.1", "--set", "enrp.enabled=false", "--set",
                                                      "control.enabled=true", "--set", "control.socket_path=\"" + socket + "\""},
                                          prefix, net));
  ASSERT_TRUE(listening(daemon));
  ChildProcess pe_process(in_namespace(net, {pe, "-r", "10.93.0.1:3863", "--pool", "CapPool", "--count", "2", "--port",
                                             "7", "--duration", "20", "-q"}));
  std::string answer;
  ASSERT_TRUE(resolves(net, pu, "10.93.0.1:3863", "CapPool", 2, "10.93.0.2", &answer))
      << "PU answer: " << answer << "\ndaemon: " << daemon.output();

  auto run_poolctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {poolctl, "-s", socket});
    auto p = std::make_unique<ChildProcess>(args);
    return p;
  };
  auto finished = [](ChildProcess& p) { return wait_until([&] { return p.poll(); }, 15s); };

  auto capture = run_poolctl({"capture", "-w", file, "--count", "8", "--duration-ms", "10000"});
  ASSERT_TRUE(wait_until(
      [&] {
        auto status = run_poolctl({"--json", "capture", "--status"});
        return finished(*status) && status->output().find("\"active\": true") != std::string::npos;
      },
      5s))
      << capture->output() << daemon.output();
  ASSERT_TRUE(resolves(net, pu, "10.93.0.1:3863", "CapPool", 2, "10.93.0.2", &answer)) << answer;
  ASSERT_TRUE(finished(*capture)) << capture->output();
  EXPECT_EQ(capture->exit_code(), 0) << capture->output();
  EXPECT_NE(capture->output().find("capture " + file + ": 8 frames"), std::string::npos) << capture->output();
  EXPECT_NE(capture->output().find("ended: count"), std::string::npos) << capture->output();

  testing::TsharkOptions options;
  options.fields = {"frame.packet_flags_direction", "frame.time_epoch"};
  const testing::TsharkReport report = testing::run_tshark(*tshark, file, options);
  ASSERT_TRUE(report.ok) << report.error;
  EXPECT_EQ(report.frames.size(), 8u);
  std::set<std::string> directions;
  bool sctp = false;
  for (const auto& f : report.frames) {
    EXPECT_TRUE(f.well_formed(testing::ExpertSeverity::kError)) << f.describe();
    for (const std::string& d : f.field("frame.packet_flags_direction")) directions.insert(d);
    // rte_pcapng turns the lane's TSC stamps into wall-clock time: within minutes of now.
    ASSERT_EQ(f.field("frame.time_epoch").size(), 1u) << f.describe();
    EXPECT_NEAR(std::strtod(f.field("frame.time_epoch")[0].c_str(), nullptr), static_cast<double>(::time(nullptr)), 300.0);
    sctp = sctp || f.protocols.find("sctp") != std::string::npos;
  }
  EXPECT_TRUE(sctp);
  EXPECT_EQ(directions.size(), 2u) << "expected inbound and outbound frames";

  auto again = run_poolctl({"capture", "-w", file});  // exists: refused, the file is kept
  ASSERT_TRUE(finished(*again));
  EXPECT_EQ(again->exit_code(), 1) << again->output();
  EXPECT_NE(again->output().find("File exists"), std::string::npos) << again->output();
  auto bad_port = run_poolctl({"capture", "-w", second, "--port", "9"});
  ASSERT_TRUE(finished(*bad_port));
  EXPECT_EQ(bad_port->exit_code(), 1) << bad_port->output();
  EXPECT_NE(bad_port->output().find("port 9 is not one of"), std::string::npos) << bad_port->output();
  EXPECT_FALSE(std::filesystem::exists(second));
  auto timed = run_poolctl({"capture", "-w", second, "--duration-ms", "300"});
  ASSERT_TRUE(finished(*timed));
  EXPECT_EQ(timed->exit_code(), 0) << timed->output();
  EXPECT_NE(timed->output().find("ended: duration"), std::string::npos) << timed->output();
  EXPECT_TRUE(std::filesystem::exists(second));
  EXPECT_TRUE(stops_cleanly(daemon));
  if (!::testing::Test::HasFailure()) {
    ::unlink(file.c_str());
    ::unlink(second.c_str());
  }
}

}  // namespace
}  // namespace poolreg::dpdk
