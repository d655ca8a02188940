// Integration: what a real poolregd sends on the wire, captured on lo with dumpcap and decoded by
// tshark (tests/dataplane/capture/tshark_check.hpp): the daemon's replies over usrsctp/UDP
// (RFC 6951, "decode as" SCTP on the daemon's UDP encapsulation port) and over TCP ("decode as"
// ASAP on its TCP port) must decode as ASAP with no malformed packet and no expert warning.
// Skipped (GTEST_SKIP with the reason) when dumpcap/tshark are missing or capturing on lo is not
// permitted.
#include <gtest/gtest.h>

#include <set>

#include "cli/client/pool_element_client.hpp"
#include "cli/client/pool_user_client.hpp"
#include "cli/client/sync_wait.hpp"
#include "tests/dataplane/capture/tshark_check.hpp"
#include "tests/integration/poolregd_harness.hpp"

namespace poolreg::integration {
namespace {

using client::ClientStatus;
using client::ClientTransport;

[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new StackEnvironment);

bool executable(const char* path) { return ::access(path, X_OK) == 0; }

// dumpcap on lo with a capture filter, writing a pcapng file; stopped with SIGINT (flushes).
class Dumpcap {
 public:
  Dumpcap(const std::string& filter, const std::string& file, const std::string& log) : file_(file), log_(log) {
    pid_ = spawn_with_parent_death({"/usr/bin/dumpcap", "-i", "lo", "-f", filter, "-w", file}, log);
  }
  ~Dumpcap() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::unlink(log_.c_str());
  }
  std::string output() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // Waits for "Capturing on" (dumpcap prints it once the capture is open); false when it died.
  bool wait_capturing(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (output().find("Capturing on") != std::string::npos) return true;
      int st = 0;
      if (pid_ <= 0 || ::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  // SIGINT and wait (dumpcap writes the remaining packets and exits 0).
  bool stop() {
    if (pid_ <= 0) return false;
    ::kill(pid_, SIGINT);
    int st = 0;
    for (int i = 0; i < 500; ++i) {
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(st) && WEXITSTATUS(st) == 0;
      }
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

 private:
  std::string file_;
  std::string log_;
  pid_t pid_ = -1;
};

client::PeRegistration registration(const PoolHandle& h, PoolElementId id) {
  client::PeRegistration r;
  r.handle = h;
  r.id = id;
  r.user_transport.protocol = TransportProtocol::kTcp;
  r.user_transport.port = 5000 + static_cast<std::uint16_t>(id % 1000);
  r.user_transport.addresses = {IpAddress::v4(0x7f000001u)};
  r.policy.type = PolicyType::kRoundRobin;
  return r;
}

// WIRE-08 / ASAP conformance of the daemon's output: registration, resolution, keep-alive and
// deregistration over SCTP/UDP and TCP, every frame decoded by tshark without a problem.
TEST(PoolregdCapture, RepliesOverSctpUdpAndTcpDecodeAsAsap) {
  ASSERT_FALSE(poolregd_path().empty()) << "POOLREGD must name the poolregd binary";
  if (!executable("/usr/bin/dumpcap")) GTEST_SKIP() << "dumpcap not installed (Debian package wireshark-common)";
  auto tshark = testing::find_tshark();
  if (!tshark) GTEST_SKIP() << "tshark not installed";

  const DaemonPorts ports = pick_ports();
  const std::string dir = temp_dir();
  const std::string pcap = dir + "/session.pcapng";
  Dumpcap dumpcap("udp port " + std::to_string(ports.udp) + " or tcp port " + std::to_string(ports.asap), pcap,
                  dir + "/dumpcap.log");
  if (!dumpcap.wait_capturing(10s)) {
    GTEST_SKIP() << "capturing on lo is not permitted here (dumpcap: " << dumpcap.output() << ")";
  }

  Poolregd daemon("capture", ports, {"--set", "asap.keepalive_interval_ms=300"});
  ASSERT_TRUE(daemon.start_and_wait()) << daemon.log();
  runtime::EventLoop loop;
  const PoolHandle h = *PoolHandle::from_string("capture-pool");
  {
    client::PoolElementClient pe(loop, StackEnvironment::stack.get(), daemon.client_options(ClientTransport::kSctp));
    client::PoolUserClient pu_sctp(loop, StackEnvironment::stack.get(), daemon.client_options(ClientTransport::kSctp));
    client::PoolUserClient pu_tcp(loop, StackEnvironment::stack.get(), daemon.client_options(ClientTransport::kTcp));
    ASSERT_EQ(client::connect_and_wait(pe, 5s), ClientStatus::kOk);
    ASSERT_EQ(client::connect_and_wait(pu_sctp, 5s), ClientStatus::kOk);
    ASSERT_EQ(client::connect_and_wait(pu_tcp, 5s), ClientStatus::kOk);
    ASSERT_TRUE(client::register_and_wait(pe, registration(h, 1001)).ok());
    ASSERT_TRUE(client::register_and_wait(pe, registration(h, 1002)).ok());
    EXPECT_EQ(client::resolve_and_wait(pu_sctp, h, 0).elements.size(), 2u);
    // One resolution at a time on TCP: tshark 4.0 decodes one ASAP message per TCP segment.
    EXPECT_EQ(client::resolve_and_wait(pu_tcp, h, 0).elements.size(), 2u);
    EXPECT_EQ(client::resolve_and_wait(pu_tcp, *PoolHandle::from_string("capture-none"), 0).cause(),
              ErrorCause::kUnknownPoolHandle);
    // A few keep-alive rounds (interval 300 ms).
    client::run_until(loop, [&] { return pe.counters().keep_alive_acks_sent >= 2; }, 5s);
    EXPECT_GE(pe.counters().keep_alive_acks_sent, 2u);
    ASSERT_TRUE(client::deregister_and_wait(pe, h, 1001).ok());
    client::close_and_wait(pu_tcp);
    client::close_and_wait(pu_sctp);
    client::close_and_wait(pe);
  }
  std::this_thread::sleep_for(300ms);  // let the last packets reach the capture
  ASSERT_TRUE(dumpcap.stop()) << dumpcap.output();
  ASSERT_TRUE(daemon.stops_cleanly());

  testing::TsharkOptions options;
  options.sctp_over_udp_ports = {ports.udp};
  // Checksums are not meaningful on lo: the kernel leaves TCP checksums to (absent) offload, and
  // usrsctp does not compute the SCTP CRC32c toward loopback addresses (its sysctl
  // sctp_no_csum_on_loopback defaults to 1). Everything else is checked.
  options.validate_checksums = false;
  options.extra_args = {"-d", "tcp.port==" + std::to_string(ports.asap) + ",asap"};
  options.fields = {"udp.srcport", "tcp.srcport"};
  auto report = testing::run_tshark(*tshark, pcap, options);
  ::unlink(pcap.c_str());
  ::rmdir(dir.c_str());
  ASSERT_TRUE(report.ok) << report.error << "\n" << report.stderr_text;
  ASSERT_FALSE(report.frames.empty());

  std::set<int> from_daemon_sctp;  // ASAP types the daemon sent over SCTP/UDP
  std::set<int> from_daemon_tcp;
  const std::string udp_port = std::to_string(ports.udp);
  const std::string tcp_port = std::to_string(ports.asap);
  for (const auto& f : report.frames) {
    EXPECT_TRUE(f.well_formed()) << f.describe();
    const bool udp_from_daemon = !f.field("udp.srcport").empty() && f.field("udp.srcport")[0] == udp_port;
    const bool tcp_from_daemon = !f.field("tcp.srcport").empty() && f.field("tcp.srcport")[0] == tcp_port;
    for (const auto& m : f.messages) {
      EXPECT_EQ(m.protocol, testing::RSerPoolProtocol::kAsap) << f.describe();
      if (udp_from_daemon) from_daemon_sctp.insert(m.type);
      if (tcp_from_daemon) from_daemon_tcp.insert(m.type);
    }
  }
  // Registration Response 0x03, Deregistration Response 0x04, HR Response 0x06, Keep-Alive 0x07.
  for (int type : {0x03, 0x04, 0x06, 0x07})
    EXPECT_TRUE(from_daemon_sctp.count(type)) << "no ASAP type " << type << " from the daemon over SCTP/UDP";
  EXPECT_TRUE(from_daemon_tcp.count(0x06)) << "no Handle Resolution Response decoded over TCP";
}

}  // namespace
}  // namespace poolreg::integration
