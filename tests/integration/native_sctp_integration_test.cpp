// Native SCTP (IP protocol 132) against a real poolregd on kernel sockets (issue 15 item 1):
// poolregd opens its raw socket (asap.sctp_native, on by default, root here), a PE registers and
// a PU resolves with `--sctp-native`, over 127.0.0.1 with two lanes (so lane 0's raw socket
// hands the other lane's peers over, and lane 1 sends through its send-only raw socket). What
// the test's own raw socket saw on the wire goes to a pcap file and through tshark (when
// installed): ASAP decoded, nothing malformed, CRC32c right. Bad input on the new path (a
// truncated SCTP common header, a bad CRC32c, a packet for a port that is not poolregd's, an INIT
// to a local address outside asap.listen, packets with a wrong verification tag on a PE's
// established association) is counted by reason and service goes on. Skipped
// unless root with raw sockets.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/sctp/native_sctp_packet.hpp"
#include "tests/cli/client/child_process.hpp"
#include "tests/dataplane/capture/tshark_check.hpp"
#include "tests/integration/daemon_test_support.hpp"
#include "tests/integration/poolregd_harness.hpp"

namespace poolreg::integration {
namespace {

using client::testing::ChildProcess;
using test::control_request;
using test::env;
using test::lane_sum;
using test::raw_sctp_available;
using test::wait_until;
using namespace std::chrono_literals;

// Sends `sctp` (common header + chunks) as a native SCTP packet to `to_address` (host order).
bool send_native(std::vector<std::uint8_t> sctp, std::uint32_t to_address = INADDR_LOOPBACK) {
  const int fd = ::socket(AF_INET, SOCK_RAW, IPPROTO_SCTP);
  if (fd < 0) return false;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(to_address);
  const bool ok = ::sendto(fd, sctp.data(), sctp.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
                  static_cast<ssize_t>(sctp.size());
  ::close(fd);
  return ok;
}

// An INIT from SCTP port 5000 to `port`, its CRC set (or broken).
std::vector<std::uint8_t> init_packet(std::uint16_t port, bool good_crc) {
  std::vector<std::uint8_t> p = {0x13, 0x88, static_cast<std::uint8_t>(port >> 8), static_cast<std::uint8_t>(port),
                                 0, 0, 0, 0, 0, 0, 0, 0,
                                 1, 0, 0, 20,                 // INIT, length 20
                                 0x11, 0x22, 0x33, 0x44,      // initiate tag
                                 0, 1, 0, 0,                  // a_rwnd
                                 0, 1, 0, 1,                  // streams
                                 0x55, 0x66, 0x77, 0x88};     // initial TSN
  sctp::set_sctp_crc(p);
  if (!good_crc) p[8] ^= 0xff;
  return p;
}

// A packet from SCTP port `from` to `to` with verification tag `tag` and one chunk, CRC32c set.
std::vector<std::uint8_t> tagged_packet(std::uint16_t from, std::uint16_t to, std::uint32_t tag,
                                        const std::vector<std::uint8_t>& chunk) {
  const std::uint8_t header[12] = {static_cast<std::uint8_t>(from >> 8),
                                   static_cast<std::uint8_t>(from),
                                   static_cast<std::uint8_t>(to >> 8),
                                   static_cast<std::uint8_t>(to),
                                   static_cast<std::uint8_t>(tag >> 24),
                                   static_cast<std::uint8_t>(tag >> 16),
                                   static_cast<std::uint8_t>(tag >> 8),
                                   static_cast<std::uint8_t>(tag),
                                   0,
                                   0,
                                   0,
                                   0};
  // Sized once and copied into: growing the vector by insert() trips GCC 12's -Warray-bounds and
  // -Wstringop-overflow false positives.
  std::vector<std::uint8_t> p(sizeof header + chunk.size());
  std::copy(std::begin(header), std::end(header), p.begin());
  std::copy(chunk.begin(), chunk.end(), p.begin() + sizeof header);
  sctp::set_sctp_crc(p);
  return p;
}

// Records every native SCTP packet on the host (IPv4, raw socket: IP header included) into a
// pcap file (LINKTYPE_RAW) while it runs.
class NativeCapture {
 public:
  explicit NativeCapture(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_SCTP);
    if (fd_ < 0) return;
    thread_ = std::thread([this] { run(); });
  }
  ~NativeCapture() { stop(); }
  NativeCapture(const NativeCapture&) = delete;
  NativeCapture& operator=(const NativeCapture&) = delete;
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  unsigned packets() const { return packets_; }

 private:
  void run() {
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    if (f == nullptr) return;
    const std::uint32_t header[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 65535, 101};  // v2.4, LINKTYPE_RAW
    std::fwrite(header, sizeof header, 1, f);
    std::vector<std::uint8_t> buffer(65536);
    const auto deadline = std::chrono::steady_clock::now() + 60s;  // bounded
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
      const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
      if (n <= 0) {
        std::this_thread::sleep_for(2ms);
        continue;
      }
      const auto now = std::chrono::system_clock::now().time_since_epoch();
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
      const std::uint32_t record[4] = {static_cast<std::uint32_t>(us / 1000000), static_cast<std::uint32_t>(us % 1000000),
                                       static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(n)};
      std::fwrite(record, sizeof record, 1, f);
      std::fwrite(buffer.data(), static_cast<std::size_t>(n), 1, f);
      ++packets_;
    }
    std::fclose(f);
  }
  std::string path_;
  int fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<unsigned> packets_{0};
};

// SIGTERM: poolregd stops with exit 0.
void expect_clean_stop(Poolregd& daemon) {
  const auto stopped = daemon.stop(SIGTERM, 10s);
  ASSERT_TRUE(stopped.has_value()) << daemon.log();
  EXPECT_TRUE(WIFEXITED(*stopped) && WEXITSTATUS(*stopped) == 0) << daemon.state() << "\n" << daemon.log();
}

class NativeSctp : public ::testing::Test {
 protected:
  void SetUp() override {
    pe_ = env("POOLREG_PE");
    pu_ = env("POOLREG_PU");
    if (pe_.empty() || pu_.empty()) GTEST_SKIP() << "POOLREG_PE / POOLREG_PU not set";
    if (::geteuid() != 0 || !raw_sctp_available()) GTEST_SKIP() << "needs root and raw IP sockets";
  }
  // One PU resolution over native SCTP; true when it saw `want` PEs.
  bool resolve(const std::string& registrar, const std::string& pool, std::size_t want, std::string& answer) {
    return wait_until(
        [&] {
          ChildProcess p({pu_, "-r", registrar, "--sctp-native", "--pool", pool, "-n", "5", "--json",
                          "--timeout-ms", "2000", "--connect-timeout-ms", "3000"});
          wait_until([&] { return p.poll(); }, 8s);
          answer = p.output();
          const nlohmann::json j = nlohmann::json::parse(answer, nullptr, false);
          return p.exit_code() == 0 && j.is_object() && j.contains("pes") && j["pes"].size() == want;
        },
        20s);
  }
  std::string pe_, pu_;
};

TEST_F(NativeSctp, PeRegistersAndPuResolvesOverNativeSctpOnTwoLanes) {
  const DaemonPorts ports = pick_ports();
  Poolregd daemon("native", ports, {"--lanes", "2", "--set", "enrp.enabled=false", "--set", "control.enabled=true"});
  ASSERT_TRUE(daemon.start_and_wait()) << daemon.log();
  ASSERT_NE(daemon.log().find("ASAP SCTP native 127.0.0.1:" + std::to_string(ports.asap)), std::string::npos)
      << daemon.log();
  EXPECT_NE(daemon.log().find("native SCTP on raw IP sockets"), std::string::npos) << daemon.log();
  const std::string registrar = "127.0.0.1:" + std::to_string(ports.asap);

  const std::string pcap = temp_dir() + "/native.pcap";
  NativeCapture capture(pcap);
  ChildProcess pe({pe_, "-r", registrar, "--sctp-native", "--pool", "NativePool", "--count", "3", "--port", "7",
                   "--duration", "30", "-q"});
  ASSERT_TRUE(pe.started());
  std::string answer;
  ASSERT_TRUE(resolve(registrar, "NativePool", 3, answer)) << answer << "\ndaemon: " << daemon.log()
                                                           << "\nPE: " << pe.output();
  // A second PU (another SCTP port, so possibly the other lane) resolves too.
  ASSERT_TRUE(resolve(registrar, "NativePool", 3, answer)) << answer;
  capture.stop();

  const nlohmann::json stats = control_request(daemon.control_socket_path(), "stats");
  ASSERT_TRUE(stats.value("ok", false)) << stats.dump();
  EXPECT_GT(lane_sum(stats, "native_in"), 0u) << stats.dump();
  EXPECT_GT(lane_sum(stats, "native_out"), 0u) << stats.dump();
  EXPECT_EQ(lane_sum(stats, "native_drop_bad_crc"), 0u) << stats.dump();
  EXPECT_EQ(lane_sum(stats, "native_drop_tx_failed"), 0u) << stats.dump();
  EXPECT_GE(stats["result"]["asap"].value("registrations", 0), 3) << stats.dump();
  // Every SCTP packet the engines got was native (the PE and PUs spoke nothing else).
  EXPECT_EQ(lane_sum(stats, "sctp_packets_in"), lane_sum(stats, "native_in")) << stats.dump();

  // What went over the wire decodes as ASAP over SCTP, CRC32c checked, nothing malformed.
  ASSERT_GT(capture.packets(), 0u);
  if (auto tshark = testing::find_tshark()) {
    const testing::TsharkReport report = testing::run_tshark(*tshark, pcap);
    ASSERT_TRUE(report.ok) << report.error << report.stderr_text;
    std::size_t asap = 0;
    for (const auto& f : report.frames) {
      EXPECT_TRUE(f.well_formed()) << f.describe();
      EXPECT_NE(f.protocols.find("sctp"), std::string::npos) << f.describe();
      for (const auto& m : f.messages) asap += m.protocol == testing::RSerPoolProtocol::kAsap ? 1 : 0;
    }
    EXPECT_GE(asap, 4u) << "registrations, responses, resolutions";  // 3 registrations at least
  }
  ::unlink(pcap.c_str());

  pe.signal(SIGTERM);
  wait_until([&] { return pe.poll(); }, 5s);
  expect_clean_stop(daemon);
}

TEST_F(NativeSctp, BadInputIsCountedAndServiceGoesOn) {
  const DaemonPorts ports = pick_ports();
  Poolregd daemon("native-bad", ports, {"--lanes", "1", "--set", "enrp.enabled=false", "--set", "control.enabled=true"});
  ASSERT_TRUE(daemon.start_and_wait()) << daemon.log();
  // A truncated common header (8 bytes), an INIT with a bad CRC32c, an INIT with a good one for
  // a port nobody here listens on (it must not be answered with an ABORT by poolregd).
  ASSERT_TRUE(send_native(std::vector<std::uint8_t>(8, 0x42)));
  ASSERT_TRUE(send_native(init_packet(ports.asap, false)));
  std::uint16_t unused = ports.asap == 65535 ? 1 : static_cast<std::uint16_t>(ports.asap + 1);
  if (unused == ports.enrp) unused = static_cast<std::uint16_t>(unused + 1);
  ASSERT_TRUE(send_native(init_packet(unused, true)));
  nlohmann::json stats;
  const bool counted = wait_until(
      [&] {
        stats = control_request(daemon.control_socket_path(), "stats");
        return lane_sum(stats, "native_drop_truncated") >= 1 && lane_sum(stats, "native_drop_bad_crc") >= 1 &&
               lane_sum(stats, "native_drop_not_our_port") >= 1;
      },
      5s);
  EXPECT_TRUE(counted) << stats.dump();
  EXPECT_EQ(lane_sum(stats, "native_in"), 0u) << stats.dump();
  EXPECT_EQ(lane_sum(stats, "native_out"), 0u) << "no ABORT for another port's INIT: " << stats.dump();

  // Service kept: a PE registers and a PU resolves over native SCTP afterwards.
  const std::string registrar = "127.0.0.1:" + std::to_string(ports.asap);
  ChildProcess pe({pe_, "-r", registrar, "--sctp-native", "--pool", "AfterBadInput", "--count", "1", "--port", "7",
                   "--duration", "20", "-q"});
  ASSERT_TRUE(pe.started());
  std::string answer;
  EXPECT_TRUE(resolve(registrar, "AfterBadInput", 1, answer)) << answer << "\ndaemon: " << daemon.log();

  // Wrong verification tag on the PE's established association (its address and SCTP port, as
  // the registrar stored its ASAP transport; a tag that is not poolregd's): an ABORT (T bit
  // clear) and a DATA chunk carrying an ASAP message. usrsctp drops both (lane counter
  // sctp_bad_vtag); the association and the PE's registration stay (an accepted ABORT would end
  // the association and so the registration).
  const nlohmann::json pool =
      control_request(daemon.control_socket_path(), "pool", {{"handle", "AfterBadInput"}});
  const nlohmann::json* pes = pool.contains("result") ? &pool["result"]["pes"] : nullptr;
  ASSERT_TRUE(pes != nullptr && pes->is_array() && pes->size() == 1) << pool.dump();
  const auto pe_port = (*pes)[0]["asap_transport"].value("port", 0);
  ASSERT_NE(pe_port, 0) << pool.dump();
  const nlohmann::json before = control_request(daemon.control_socket_path(), "stats");
  const std::uint64_t native_in_before = lane_sum(before, "native_in");
  const std::uint64_t bad_vtag_before = lane_sum(before, "sctp_bad_vtag");
  const std::uint32_t wrong = 0x5a5aa5a5u;
  ASSERT_TRUE(
      send_native(tagged_packet(static_cast<std::uint16_t>(pe_port), ports.asap, wrong, {6, 0, 0, 4})));
  ASSERT_TRUE(
      send_native(tagged_packet(static_cast<std::uint16_t>(pe_port), ports.asap, wrong,
                                {0,    3, 0, 24, 0x7f, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 11,  // DATA, PPID 11
                                 0x0b, 0, 0, 8,  9,    9, 9, 9})));
  EXPECT_TRUE(wait_until(
      [&] {
        stats = control_request(daemon.control_socket_path(), "stats");
        return lane_sum(stats, "sctp_bad_vtag") >= bad_vtag_before + 2 &&
               lane_sum(stats, "native_in") >= native_in_before + 2;
      },
      5s))
      << "PE's SCTP port " << pe_port << "\nbefore: " << before.dump() << "\nafter: " << stats.dump();
  EXPECT_EQ(lane_sum(stats, "sctp_bad_crc32c"), 0u) << stats.dump();
  std::this_thread::sleep_for(300ms);  // an accepted ABORT would have ended the association by now
  stats = control_request(daemon.control_socket_path(), "stats");
  for (const char* key : {"associations_aborted", "associations_up"})
    EXPECT_EQ(stats["result"]["asap"].value(key, -1), before["result"]["asap"].value(key, -1))
        << key << "\n"
        << stats.dump();
  EXPECT_FALSE(pe.poll()) << pe.output();
  EXPECT_TRUE(resolve(registrar, "AfterBadInput", 1, answer)) << "registration intact: " << answer;
  pe.signal(SIGTERM);
  wait_until([&] { return pe.poll(); }, 5s);
  expect_clean_stop(daemon);
}

// asap.listen = ["127.0.0.1"] (the harness's): the raw socket sees 127.0.0.2's packets too, but
// an INIT to 127.0.0.2 is dropped and counted (native_drop_not_listen_address), unanswered, as
// the UDP socket bound to 127.0.0.1 would never have read it; the same INIT to 127.0.0.1 is
// answered (an INIT ACK, native_out).
TEST_F(NativeSctp, InitToAnAddressOutsideAsapListenIsCountedAndUnanswered) {
  const DaemonPorts ports = pick_ports();
  Poolregd daemon("native-listen", ports,
                  {"--lanes", "1", "--set", "enrp.enabled=false", "--set", "control.enabled=true"});
  ASSERT_TRUE(daemon.start_and_wait()) << daemon.log();
  ASSERT_TRUE(send_native(init_packet(ports.asap, true), 0x7f000002));  // 127.0.0.2
  nlohmann::json stats;
  EXPECT_TRUE(wait_until(
      [&] {
        stats = control_request(daemon.control_socket_path(), "stats");
        return lane_sum(stats, "native_drop_not_listen_address") >= 1;
      },
      5s))
      << stats.dump();
  std::this_thread::sleep_for(200ms);  // an answer, if any, would be out by now
  stats = control_request(daemon.control_socket_path(), "stats");
  EXPECT_EQ(lane_sum(stats, "native_drop_not_listen_address"), 1u) << stats.dump();
  EXPECT_EQ(lane_sum(stats, "native_in"), 0u) << stats.dump();
  EXPECT_EQ(lane_sum(stats, "native_out"), 0u) << "no INIT ACK from 127.0.0.2: " << stats.dump();

  ASSERT_TRUE(send_native(init_packet(ports.asap, true)));  // 127.0.0.1
  EXPECT_TRUE(wait_until(
      [&] {
        stats = control_request(daemon.control_socket_path(), "stats");
        return lane_sum(stats, "native_in") >= 1 && lane_sum(stats, "native_out") >= 1;
      },
      5s))
      << "the INIT to 127.0.0.1 is answered: " << stats.dump();
  EXPECT_EQ(lane_sum(stats, "native_drop_not_listen_address"), 1u) << stats.dump();
  expect_clean_stop(daemon);
}

// Without CAP_NET_RAW poolregd says so in one line and serves SCTP over UDP.
TEST_F(NativeSctp, WithoutRawSocketsTheDaemonFallsBackToUdp) {
  const DaemonPorts ports = pick_ports();
  // setpriv drops CAP_NET_RAW from every set while staying root (UDP/TCP binds need nothing more).
  if (::access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "setpriv not installed";
  Poolregd daemon("native-off", ports, {"--set", "enrp.enabled=false"});
  daemon.wrap({"/usr/bin/setpriv", "--bounding-set=-net_raw", "--inh-caps=-net_raw", "--"});
  ASSERT_TRUE(daemon.start_and_wait()) << daemon.log();
  const std::string log = daemon.log();
  EXPECT_NE(log.find("native SCTP: raw IPv4 socket for SCTP (IP protocol 132)"), std::string::npos) << log;
  EXPECT_NE(log.find("native SCTP off, SCTP over UDP only"), std::string::npos) << log;
  EXPECT_EQ(log.find("ASAP SCTP native"), std::string::npos) << log;
  expect_clean_stop(daemon);
}

}  // namespace
}  // namespace poolreg::integration
