// Helpers of the poolregd --dpdk end-to-end tests (dpdk_daemon_test.cpp, dpdk_gateway_test.cpp):
// DPDK telemetry and /metrics reads, the daemon's command line on net_af_packet over a veth,
// running tools in a namespace, bounded waits for "listening:", a clean SIGTERM stop and a PU
// resolution. Every wait is bounded.
#pragma once

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/cli/client/child_process.hpp"
#include "tests/dataplane/dpdk/veth_namespace.hpp"
#include "tests/integration/daemon_test_support.hpp"
#include "tests/common/free_port.hpp"

namespace poolreg::dpdk::daemon_test {

using client::testing::ChildProcess;
using poolreg::test::wait_until;
using namespace std::chrono_literals;

// One request on DPDK's telemetry socket (SOCK_SEQPACKET, JSON answers).
inline nlohmann::json telemetry(const std::string& socket_path, const std::string& command) {
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET, 0);
  if (fd < 0) return {};
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path.c_str());
  nlohmann::json out;
  char buffer[65536];
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::recv(fd, buffer, sizeof buffer, 0) > 0 &&  // the greeting
      ::send(fd, command.data(), command.size(), 0) == static_cast<ssize_t>(command.size())) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) out = nlohmann::json::parse(std::string(buffer, static_cast<std::size_t>(n)), nullptr, false);
  }
  ::close(fd);
  return out;
}

// A free TCP port on 127.0.0.1 for the metrics endpoint.
inline std::uint16_t free_tcp_port() { return test_ports::free_port(SOCK_STREAM); }

// The daemon's /metrics (Python's urllib, 5 s timeout; the wait is bounded too); empty on failure.
inline std::string scrape_metrics(std::uint16_t port) {
  ChildProcess p({"/usr/bin/python3", "-c",
                  "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen("
                  "'http://127.0.0.1:" + std::to_string(port) + "/metrics', timeout=5).read().decode())"});
  if (!p.started() || !wait_until([&] { return p.poll(); }, 10s)) return {};
  return p.exit_code() == 0 ? p.output() : std::string();
}

// The value of one series of an exposition ("name{labels}"), or -1 when absent.
inline double series_value(const std::string& text, const std::string& series) {
  const std::size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::strtod(text.c_str() + at + series.size() + 2, nullptr);
}

// The sum of every series of a family carrying `label` (e.g. lane="0").
inline double family_sum(const std::string& text, const std::string& family, const std::string& label) {
  double sum = 0;
  for (std::size_t at = text.find("\n" + family + "{"); at != std::string::npos;
       at = text.find("\n" + family + "{", at + 1)) {
    const std::size_t end = text.find('\n', at + 1);
    const std::string line = text.substr(at + 1, end - at - 1);
    if (line.find(label) == std::string::npos) continue;
    sum += std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
  }
  return sum;
}

inline std::string ip_binary() {
  for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"})
    if (::access(p, X_OK) == 0) return p;
  return "";
}

// The daemon started and says "listening:" (bounded); its output otherwise.
inline ::testing::AssertionResult listening(ChildProcess& daemon) {
  if (!daemon.started()) return ::testing::AssertionFailure() << "the daemon did not start";
  const bool up =
      wait_until([&] { return daemon.poll() || daemon.output().find("listening:") != std::string::npos; }, 15s);
  if (!up || daemon.exit_code().has_value()) return ::testing::AssertionFailure() << daemon.output();
  return ::testing::AssertionSuccess();
}

// SIGTERM stops the daemon with exit status 0 (bounded); its output otherwise.
inline ::testing::AssertionResult stops_cleanly(ChildProcess& daemon) {
  daemon.signal(SIGTERM);
  if (!wait_until([&] { return daemon.poll(); }, 10s)) return ::testing::AssertionFailure() << "still running\n" << daemon.output();
  if (daemon.exit_code() != 0) return ::testing::AssertionFailure() << "exit " << daemon.exit_code().value_or(-1) << "\n" << daemon.output();
  return ::testing::AssertionSuccess();
}

// Runs a poolreg tool or daemon inside the namespace (by name, or the VethNamespace's).
inline std::vector<std::string> in_namespace(const std::string& ns, std::vector<std::string> argv) {
  argv.insert(argv.begin(), {ip_binary(), "netns", "exec", ns});
  return argv;
}
inline std::vector<std::string> in_namespace(const test::VethNamespace& net, std::vector<std::string> argv) {
  return in_namespace(net.name(), std::move(argv));
}

// Runs the Python program `code` inside the namespace (through a temporary file); its exit status.
inline int run_python_in(const test::VethNamespace& net, const std::string& code) {
  const std::string script = "/tmp/poolreg-dpdk-py-" + std::to_string(::getpid()) + ".py";
  {
    std::ofstream(script) << code;
  }
  const int rc = test::run_quiet("ip netns exec " + net.name() + " python3 " + script);
  ::unlink(script.c_str());
  return rc;
}

// Resolves `pool` at `registrar` from inside the namespace until `count` PEs with `address` and
// port 7 come back (bounded); the last answer in *answer. `options`: more poolreg-pu options.
inline bool resolves(const std::string& ns, const std::string& pu, const std::string& registrar,
              const std::string& pool, std::size_t count, const std::string& address, std::string* answer,
              std::chrono::milliseconds timeout = 10s, const std::vector<std::string>& options = {}) {
  return wait_until(
      [&] {
        std::vector<std::string> argv{pu, "-r", registrar, "--pool", pool, "-n", "5", "--json", "--timeout-ms", "2000"};
        argv.insert(argv.end(), options.begin(), options.end());
        ChildProcess pu_process(in_namespace(ns, std::move(argv)));
        wait_until([&] { return pu_process.poll(); }, 5s);
        *answer = pu_process.output();
        const nlohmann::json j = nlohmann::json::parse(*answer, nullptr, false);
        if (pu_process.exit_code() != 0 || !j.is_object() || !j.contains("pes") || j["pes"].size() != count)
          return false;
        for (const auto& e : j["pes"]) {
          const auto& a = e["user_transport"]["addresses"];
          if (std::find(a.begin(), a.end(), address) == a.end() || e["user_transport"]["port"] != 7) return false;
        }
        return true;
      },
      timeout);
}

inline bool resolves(const test::VethNamespace& net, const std::string& pu, const std::string& registrar,
                     const std::string& pool, std::size_t count, const std::string& address, std::string* answer,
                     std::chrono::milliseconds timeout = 10s, const std::vector<std::string>& options = {}) {
  return resolves(net.name(), pu, registrar, pool, count, address, answer, timeout, options);
}

// Removes EAL's runtime directory of a file prefix (EAL leaves it behind).
struct RuntimeDirCleanup {
  std::string prefix;
  ~RuntimeDirCleanup() {
    std::error_code ec;
    std::filesystem::remove_all("/var/run/dpdk/" + prefix, ec);
  }
};

// `poolregd --dpdk` on net_af_packet over the veth's outer end (the main lcore + `lanes` poll
// lcores, as many af_packet queue pairs; no hugepages, no PCI, no TCP, no control socket):
// `options` are the registrar options before the EAL's "--".
inline std::vector<std::string> dpdk_daemon_command(const std::string& poolregd, std::vector<std::string> options,
                                             const std::string& prefix, const test::VethNamespace& net,
                                             unsigned lanes = 1, const test::VethNamespace* second_port = nullptr) {
  std::vector<std::string> command{poolregd, "--dpdk"};
  for (const char* o : {"--set", "asap.tcp=false", "--set", "control.enabled=false", "--set", "dpdk.idle_sleep_us=200"})
    command.emplace_back(o);
  command.insert(command.end(), options.begin(), options.end());  // after the defaults: may override them
  command.emplace_back("--");
  if (lanes == 1) {
    command.insert(command.end(), {"-l", "0-1"});
  } else {
    // More lcores than this machine may have CPUs: every lcore floats over the CPUs there are.
    const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
    command.push_back("--lcores=(0-" + std::to_string(lanes) + ")@(0-" + std::to_string(cpus - 1) + ")");
  }
  for (const char* o : {"--no-huge", "-m", "256", "--no-pci", "--no-shconf"}) command.emplace_back(o);
  command.push_back("--file-prefix=" + prefix);
  const std::string qpairs = lanes > 1 ? ",qpairs=" + std::to_string(lanes) : "";
  command.push_back("--vdev=net_af_packet0,iface=" + net.outer_interface() + qpairs);
  if (second_port != nullptr) command.push_back("--vdev=net_af_packet1,iface=" + second_port->outer_interface() + qpairs);
  command.emplace_back("--log-level=lib.eal:error");
  return command;
}

}  // namespace poolreg::dpdk::daemon_test
