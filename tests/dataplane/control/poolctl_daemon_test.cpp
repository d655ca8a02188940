// poolctl against a real poolregd ($POOLREGD) with its control socket and metrics endpoint on, a
// few PEs registered by poolreg-pe ($POOLREG_PE) over TCP: every subcommand, both output modes,
// and /metrics validated by promtool. Built only when dataplane/daemon declares
// poolregd_has_control = true (the daemon serves the control socket).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/dataplane/control/control_test_support.hpp"
#include "tests/dataplane/control/process_runner.hpp"
#include "tests/common/free_port.hpp"

namespace poolreg::control {
namespace {

using testing::BackgroundProcess;
using testing::ProcessResult;
using testing::run_process;
using testing::TempDir;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

using test_ports::free_port;

std::string http_get(std::uint16_t port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return {};
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response;
  char buffer[65536];
  for (int i = 0; i < 10000; ++i) {
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    response.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return response;
}

class PoolctlDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (env("POOLREGD").empty() || env("POOLCTL").empty()) GTEST_SKIP() << "POOLREGD / POOLCTL not set";
    socket_ = dir.file("run/poolregd.sock");
    asap_port_ = free_port(SOCK_STREAM);
    metrics_port_ = free_port(SOCK_STREAM);
    std::uint16_t enrp = free_port(SOCK_STREAM);
    while (enrp == asap_port_) enrp = free_port(SOCK_STREAM);
    daemon_ = std::make_unique<BackgroundProcess>(std::vector<std::string>{
        env("POOLREGD"), "--set", "asap.listen=[\"127.0.0.1\"]", "--set", "asap.sctp_port=" + std::to_string(asap_port_),
        "--set", "asap.tcp_port=" + std::to_string(asap_port_), "--set",
        "asap.udp_encapsulation_port=" + std::to_string(free_port(SOCK_DGRAM)), "--set",
        "enrp.sctp_port=" + std::to_string(enrp), "--set", "control.socket_path=\"" + socket_ + "\"", "--set",
        "metrics.enabled=true", "--set", "metrics.listen=\"127.0.0.1:" + std::to_string(metrics_port_) + "\""});
    ASSERT_TRUE(daemon_->started());
    bool up = false;
    for (int waited = 0; waited < 10000 && !up && daemon_->running(); waited += 20) {
      up = run_process({env("POOLCTL"), "--socket", socket_, "status"}).rc == 0;
      if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(up) << "poolregd control socket never answered\n" << daemon_->log();
  }
  void TearDown() override {
    pe_.reset();
    if (daemon_) {
      EXPECT_EQ(daemon_->stop(SIGTERM, 5000), 0) << daemon_->log();
      EXPECT_FALSE(std::filesystem::exists(socket_)) << "socket file removed at exit";
    }
  }
  ProcessResult poolctl(std::vector<std::string> args) {
    args.insert(args.begin(), {env("POOLCTL"), "--socket", socket_});
    return run_process(args);
  }
  // Starts poolreg-pe with 3 PEs in pool "echo" over TCP and waits until they are registered.
  void register_pes() {
    if (env("POOLREG_PE").empty()) GTEST_SKIP() << "POOLREG_PE not set";
    pe_ = std::make_unique<BackgroundProcess>(std::vector<std::string>{
        env("POOLREG_PE"), "--tcp", "--registrar", "127.0.0.1:" + std::to_string(asap_port_), "--pool", "echo",
        "--id", "0x100", "--count", "3", "--user-transport", "tcp", "--port", "7000", "--duration", "60"});
    bool registered = false;
    for (int waited = 0; waited < 10000 && !registered; waited += 50) {
      ProcessResult r = poolctl({"--json", "pool", "echo"});
      registered = r.rc == 0 && json::parse(r.out, nullptr, false).value("pe_count", 0) == 3;
      if (!registered) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(registered) << pe_->log();
  }

  TempDir dir;
  std::string socket_;
  std::uint16_t asap_port_ = 0, metrics_port_ = 0;
  std::unique_ptr<BackgroundProcess> daemon_;
  std::unique_ptr<BackgroundProcess> pe_;
};

TEST_F(PoolctlDaemonTest, SocketFileHasTheConfiguredMode) {
  struct stat st {};
  ASSERT_EQ(::stat(socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
}

TEST_F(PoolctlDaemonTest, EverySubcommandAgainstPoolregd) {
  register_pes();
  const std::vector<std::vector<std::string>> commands = {
      {"status"}, {"pools"}, {"pool", "echo"}, {"pe", "echo", "0x100"}, {"peers"}, {"resolve", "echo", "-n", "2"},
      {"audit"}, {"audit", "--verify"}, {"takeover-status"}, {"stats"}, {"log-level"}, {"log-level", "debug"}};
  for (const auto& c : commands) {
    for (bool as_json : {false, true}) {
      std::vector<std::string> args = c;
      if (as_json) args.insert(args.begin(), "--json");
      ProcessResult r = poolctl(args);
      EXPECT_EQ(r.rc, 0) << c[0] << (as_json ? " --json" : "") << ": " << r.err << r.out;
      if (as_json) {
        EXPECT_FALSE(json::parse(r.out, nullptr, false).is_discarded()) << r.out;
      }
    }
  }
  ProcessResult r = poolctl({"--json", "status"});
  const json status = json::parse(r.out);
  EXPECT_EQ(status["summary"]["pes"], 3);
  r = poolctl({"pool", "echo"});
  EXPECT_NE(r.out.find("0x00000100"), std::string::npos) << r.out;
  r = poolctl({"--json", "resolve", "echo", "-n", "2"});
  EXPECT_EQ(json::parse(r.out)["pes"].size(), 2u);
  r = poolctl({"deregister", "echo", "0x101"});
  EXPECT_EQ(r.rc, 0) << r.err;
  // Issue 17: the removal sticks for asap.deregister_hold_ms, and poolregd logs who asked.
  EXPECT_NE(r.out.find("re-registration is refused for"), std::string::npos) << r.out;
  const std::string audit = "control command deregister from uid " + std::to_string(::getuid()) + " pid ";
  bool logged = false;
  for (int waited = 0; waited < 2000 && !logged; waited += 20) {
    logged = daemon_->log().find(audit) != std::string::npos;
    if (!logged) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(logged) << daemon_->log();
  r = poolctl({"--json", "pool", "echo"});
  EXPECT_EQ(json::parse(r.out)["pe_count"], 2);
  EXPECT_EQ(poolctl({"pool", "nope"}).rc, 1);
  EXPECT_EQ(poolctl({"pe", "echo", "0x101"}).rc, 1);
  r = poolctl({"watch", "--interval", "0.1", "--count", "2"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("echo"), std::string::npos);
}

TEST_F(PoolctlDaemonTest, HealthTurnsHealthyOnceEnrpStartUpIsDone) {
  // No ENRP peers configured: healthy once the mentor discovery window has passed (bounded wait).
  ProcessResult r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  do {
    r = poolctl({"health"});
    if (r.rc == 0) break;
    EXPECT_EQ(r.rc, 1) << r.err << r.out;
    EXPECT_NE(r.out.find("enrp_startup"), std::string::npos) << r.out;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(r.rc, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("healthy"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no ENRP peers"), std::string::npos) << r.out;
  // The metrics listener's probes agree.
  EXPECT_EQ(http_get(metrics_port_, "/healthz").rfind("HTTP/1.1 200", 0), 0u);
  const std::string ready = http_get(metrics_port_, "/readyz");
  EXPECT_EQ(ready.rfind("HTTP/1.1 200", 0), 0u) << ready;
}

TEST_F(PoolctlDaemonTest, MetricsEndpointPassesPromtool) {
  const std::string response = http_get(metrics_port_, "/metrics");
  ASSERT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
  const std::string body = response.substr(response.find("\r\n\r\n") + 4);
  EXPECT_NE(body.find("poolreg_pools"), std::string::npos);
  EXPECT_NE(body.find("poolreg_resolution_latency_seconds_bucket"), std::string::npos);
  if (::access("/usr/bin/promtool", X_OK) == 0) {
    const std::string file = dir.file("metrics.txt");
    { std::ofstream(file) << body; }
    EXPECT_EQ(std::system(("/usr/bin/promtool check metrics < " + file + " >/dev/null 2>&1").c_str()), 0);
  }
  EXPECT_EQ(http_get(metrics_port_, "/").rfind("HTTP/1.1 404", 0), 0u);
}

}  // namespace
}  // namespace poolreg::control
