// Test harness for integration tests: a real poolregd process (binary from $POOLREGD) on
// 127.0.0.1 with random free ports, its log in a temp file, killed (SIGKILL) on destruction so a
// failing test never leaves a daemon behind; plus the process's shared usrsctp stack for clients.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/client/client_options.hpp"
#include "dataplane/kernel/sctp_stack.hpp"
#include "tests/common/free_port.hpp"

extern char** environ;

namespace poolreg::integration {

using namespace std::chrono_literals;

inline std::string poolregd_path() {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): tests read, never set, the environment
  const char* p = std::getenv("POOLREGD");
  return p != nullptr ? p : "";
}

using test_ports::free_port;  // tests/common/free_port.hpp

// A free TCP port whose number is also free for UDP (so asap.tcp_port and the SCTP port can be
// the same number, as in the default configuration).
inline std::uint16_t free_tcp_port() {
  for (int i = 0; i < 50; ++i) {
    const std::uint16_t p = free_port(SOCK_STREAM);
    if (p != 0) return p;
  }
  return 0;
}

inline std::string temp_dir() {
  char tmpl[] = "/tmp/poolreg-it-XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  return d != nullptr ? d : "/tmp";
}

struct DaemonPorts {
  std::uint16_t asap = 0;  // SCTP and TCP
  std::uint16_t udp = 0;   // usrsctp UDP encapsulation
  std::uint16_t enrp = 0;  // ENRP SCTP
};

inline DaemonPorts pick_ports() {
  DaemonPorts p;
  p.asap = free_tcp_port();
  p.udp = free_port(SOCK_DGRAM);
  do {
    p.enrp = free_tcp_port();
  } while (p.enrp == p.asap);
  return p;
}

// fork + exec of args[0] with stdout and stderr appended to log_path. The child gets SIGKILL
// when the test process dies (PR_SET_PDEATHSIG), so no daemon outlives a test killed by a
// timeout. Returns the pid, or -1.
inline pid_t spawn_with_parent_death(const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;  // parent (or -1)
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
  const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
  }
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

// One poolregd process. Output (stdout + stderr) goes to <dir>/poolregd-<name>.log.
class Poolregd {
 public:
  Poolregd(std::string name, DaemonPorts ports, std::vector<std::string> extra_args)
      : name_(std::move(name)), ports_(ports), dir_(temp_dir()) {
    log_path_ = dir_ + "/poolregd-" + name_ + ".log";
    args_ = {poolregd_path(),
             "--set", "asap.listen=[\"127.0.0.1\"]",
             "--set", "asap.sctp_port=" + std::to_string(ports.asap),
             "--set", "asap.tcp_port=" + std::to_string(ports.asap),
             "--set", "asap.udp_encapsulation_port=" + std::to_string(ports.udp),
             "--set", "enrp.sctp_port=" + std::to_string(ports.enrp),
             "--set", "control.socket_path=\"" + dir_ + "/poolregd.sock\""};
    for (auto& a : extra_args) args_.push_back(std::move(a));
  }
  ~Poolregd() {
    kill_now();
    ::unlink(log_path_.c_str());
    ::rmdir(dir_.c_str());
  }
  Poolregd(const Poolregd&) = delete;
  Poolregd& operator=(const Poolregd&) = delete;

  // Runs the daemon under `prefix` (e.g. {"/usr/bin/setpriv", ..., "--"}; absolute path first),
  // which must exec poolregd in its place (the pid stays the daemon's).
  void wrap(const std::vector<std::string>& prefix) { args_.insert(args_.begin(), prefix.begin(), prefix.end()); }

  // (Re)starts the process with the same arguments and ports.
  bool start() {
    kill_now();
    status_.reset();
    pid_ = spawn_with_parent_death(args_, log_path_);
    return pid_ > 0;
  }

  // Start and wait until it logged "listening:" (or it died / 10 s passed).
  bool start_and_wait() { return start() && wait_for_log("listening:", 10s); }

  std::string log() const {
    std::ifstream in(log_path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  bool wait_for_log(const std::string& needle, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (log().find(needle) != std::string::npos) return true;
      if (!running()) return log().find(needle) != std::string::npos;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  bool running() {
    if (pid_ <= 0 || status_) return false;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      status_ = st;
      return false;
    }
    return true;
  }
  // Sends a signal and waits for the exit; returns the wait status.
  std::optional<int> stop(int sig, std::chrono::milliseconds limit = 5s) {
    if (!running()) return status_;
    ::kill(pid_, sig);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!running()) return status_;
      std::this_thread::sleep_for(10ms);
    }
    return std::nullopt;
  }
  // SIGTERM, then success only for exit status 0 within `limit`; the failure names the state
  // and carries the daemon's log. Every test that stops a daemon expects this clean exit.
  ::testing::AssertionResult stops_cleanly(std::chrono::milliseconds limit = 5s) {
    const std::optional<int> st = stop(SIGTERM, limit);
    if (!st) return ::testing::AssertionFailure() << "poolregd did not stop within " << limit.count() << " ms\n" << log();
    if (WIFEXITED(*st) && WEXITSTATUS(*st) == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "poolregd ended with " << state() << "\n" << log();
  }
  void kill_now() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
      status_ = st;
    }
  }

  // "running", "exit N" or "signal N" (for failure messages).
  std::string state() {
    if (running()) return "running";
    if (!status_) return "not started";
    if (WIFEXITED(*status_)) return "exit " + std::to_string(WEXITSTATUS(*status_));
    if (WIFSIGNALED(*status_)) return "signal " + std::to_string(WTERMSIG(*status_));
    return "unknown";
  }

  const DaemonPorts& ports() const noexcept { return ports_; }
  const std::string& name() const noexcept { return name_; }
  pid_t pid() const noexcept { return pid_; }
  // The daemon's control socket (poolctl --socket, control::ControlClient).
  std::string control_socket_path() const { return dir_ + "/poolregd.sock"; }

  // Client options to reach this daemon.
  client::ClientOptions client_options(client::ClientTransport transport) const {
    client::ClientOptions o;
    o.registrar.address = IpAddress::v4(0x7f000001u);
    o.registrar.port = ports_.asap;
    o.registrar.transport = transport;
    o.registrar.remote_udp_port = ports_.udp;
    o.connect_timeout = 5 * kNsPerSec;
    o.request_timeout = 3 * kNsPerSec;
    return o;
  }

 private:
  std::string name_;
  DaemonPorts ports_;
  std::string dir_;
  std::string log_path_;
  std::vector<std::string> args_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// The test process's usrsctp stack (one per process), on a random free UDP port.
class StackEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    kernel::SctpStackConfig config;
    config.udp_port = 0;
    config.heartbeat_interval_ms = 1000;
    std::string error;
    stack = kernel::SctpStack::create(config, &error);
    ASSERT_NE(stack, nullptr) << error;
  }
  void TearDown() override { stack.reset(); }
  static inline std::unique_ptr<kernel::SctpStack> stack;
};

}  // namespace poolreg::integration
