// Every tool as a real process: usage errors give the documented exit code (not CLI11's own
// 105/106/109), --version prints "<tool> <version>" and exits 0, and a failed connection names
// its cause (errno, or the UDP encapsulation port for SCTP without an answer).
// Program paths come from the environment (set by meson); a tool that is not built (poolgen
// without Google Benchmark) is skipped.
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "tests/cli/client/child_process.hpp"
#include "tests/integration/poolregd_harness.hpp"

namespace poolreg::client {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
// A loopback port of the type with nothing listening on it.
using integration::free_port;

struct ProcessRun {
  int exit_code = -1;
  std::string output;
};

// Runs argv to completion (bounded: killed after `limit`).
ProcessRun run_process(std::vector<std::string> argv, std::chrono::milliseconds limit = 10s) {
  ChildProcess child(argv);
  EXPECT_TRUE(child.started()) << argv.front();
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!child.poll() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  if (!child.poll()) {
    child.signal(SIGKILL);
    while (!child.poll()) std::this_thread::sleep_for(5ms);
  }
  return {child.exit_code().value_or(-1), child.output()};
}

struct Tool {
  const char* env;
  const char* name;
  int usage_exit;                      // the documented code for a usage error
  std::vector<std::string> bad_value;  // an option with a value the tool rejects
  std::vector<std::string> required;   // what the tool needs before it looks at other options
};

const std::vector<Tool>& tools() {
  static const std::vector<Tool> t = {
      {"POOLREGD", "poolregd", 2, {"--log-level", "warning"}, {}},
      {"POOLCTL", "poolctl", 2, {"--timeout", "0", "status"}, {}},
      {"POOLREG_PE", "poolreg-pe", 1, {"--pool", "P", "--connect-timeout-ms", "x"}, {"--pool", "P"}},
      {"POOLREG_PU", "poolreg-pu", 1, {"--pool", "P", "--repeat", "0"}, {"--pool", "P"}},
      {"POOLGEN", "poolgen", 1, {"--progress", "rainbow"}, {}},
  };
  return t;
}

std::string path_of(const Tool& t) {
  const char* p = std::getenv(t.env);
  return p != nullptr ? p : "";
}

TEST(ToolUsage, UnknownOptionGivesTheDocumentedUsageExitCode) {
  for (const Tool& t : tools()) {
    const std::string path = path_of(t);
    if (path.empty()) continue;
    std::vector<std::string> argv = {path};
    argv.insert(argv.end(), t.required.begin(), t.required.end());
    argv.emplace_back("--bogus-option");
    const ProcessRun r = run_process(argv);
    EXPECT_EQ(r.exit_code, t.usage_exit) << t.name << ": " << r.output;
    EXPECT_NE(r.output.find("bogus-option"), std::string::npos) << t.name << " names the option: " << r.output;
  }
}

TEST(ToolUsage, BadOptionValueGivesTheDocumentedUsageExitCode) {
  for (const Tool& t : tools()) {
    const std::string path = path_of(t);
    if (path.empty()) continue;
    std::vector<std::string> argv = {path};
    argv.insert(argv.end(), t.bad_value.begin(), t.bad_value.end());
    const ProcessRun r = run_process(argv);
    EXPECT_EQ(r.exit_code, t.usage_exit) << t.name << ": " << r.output;
  }
}

TEST(ToolUsage, MissingRequiredOptionIsAUsageError) {
  for (const char* env : {"POOLREG_PE", "POOLREG_PU"}) {
    const char* path = std::getenv(env);
    ASSERT_NE(path, nullptr) << env;
    const ProcessRun r = run_process({path});  // --pool is required
    EXPECT_EQ(r.exit_code, 1) << env << ": " << r.output;
    EXPECT_NE(r.output.find("--pool"), std::string::npos) << r.output;
  }
}

TEST(ToolUsage, VersionEverywhere) {
  for (const Tool& t : tools()) {
    const std::string path = path_of(t);
    if (path.empty()) continue;
    const ProcessRun r = run_process({path, "--version"});
    EXPECT_EQ(r.exit_code, 0) << t.name << ": " << r.output;
    EXPECT_EQ(r.output, std::string(t.name) + " " + POOLREG_VERSION + "\n") << t.name;
  }
}

TEST(ToolUsage, PoolctlUnknownCommandIsNamed) {
  const char* path = std::getenv("POOLCTL");
  ASSERT_NE(path, nullptr);
  const ProcessRun r = run_process({path, "frob"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("frob"), std::string::npos) << r.output;
}

TEST(ToolConnectErrors, TcpRefusedNamesTheErrno) {
  const std::uint16_t port = free_port(SOCK_STREAM);
  ASSERT_NE(port, 0);
  const std::string registrar = "127.0.0.1:" + std::to_string(port);
  const ProcessRun pu = run_process({std::getenv("POOLREG_PU"), "--tcp", "-r", registrar, "--pool", "P"});
  EXPECT_EQ(pu.exit_code, 1) << pu.output;
  EXPECT_NE(pu.output.find("ECONNREFUSED"), std::string::npos) << pu.output;
  const ProcessRun pe = run_process({std::getenv("POOLREG_PE"), "--tcp", "-r", registrar, "--pool", "P", "--no-reconnect"});
  EXPECT_EQ(pe.exit_code, 1) << pe.output;
  EXPECT_NE(pe.output.find("ECONNREFUSED"), std::string::npos) << pe.output;
}

TEST(ToolConnectErrors, SctpWithoutAnswerHintsAtTheEncapsulationPort) {
  const std::uint16_t udp = free_port(SOCK_DGRAM);
  ASSERT_NE(udp, 0);
  const ProcessRun pu = run_process({std::getenv("POOLREG_PU"), "-r", "127.0.0.1:3863", "--udp-encaps-port", std::to_string(udp),
                      "--connect-timeout-ms", "300", "--pool", "P"});
  EXPECT_EQ(pu.exit_code, 1) << pu.output;
  EXPECT_NE(pu.output.find("UDP to port " + std::to_string(udp)), std::string::npos) << pu.output;
  EXPECT_NE(pu.output.find("--udp-encaps-port"), std::string::npos) << pu.output;
}

// --tls flag combinations that cannot work are usage errors (exit 1) with a message naming the
// flag, before any connection is tried.
TEST(ToolUsage, TlsFlagCombinationsAreCheckedUpFront) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--tls"}, "--tls needs --tls-ca"},
      {{"--tls-ca", "/tmp/ca.pem"}, "need --tls"},
      {{"--tls", "--tls-ca", "/tmp/ca.pem", "--tls-cert", "/tmp/c.pem"}, "--tls-cert and --tls-key go together"},
      {{"--tls", "--tls-ca", "/tmp/ca.pem", "--mptcp"}, "drop --mptcp"},
  };
  for (const char* tool : {"POOLREG_PU", "POOLREG_PE"}) {
    for (const auto& c : cases) {
      std::vector<std::string> argv = {std::getenv(tool), "--pool", "P"};
      argv.insert(argv.end(), c.first.begin(), c.first.end());
      const ProcessRun run = run_process(argv);
      EXPECT_EQ(run.exit_code, 1) << tool << " " << c.second << ": " << run.output;
      EXPECT_NE(run.output.find(c.second), std::string::npos) << tool << ": " << run.output;
    }
  }
  // A CA file that is not there: the TLS reason, not a bare connect failure.
  const ProcessRun pu = run_process({std::getenv("POOLREG_PU"), "--pool", "P", "--tls", "--tls-ca", "/nonexistent/ca.pem"});
  EXPECT_EQ(pu.exit_code, 1) << pu.output;
  EXPECT_NE(pu.output.find("over tls"), std::string::npos) << pu.output;
  EXPECT_NE(pu.output.find("TLS: cannot read CA file /nonexistent/ca.pem"), std::string::npos) << pu.output;
}

}  // namespace
}  // namespace poolreg::client
