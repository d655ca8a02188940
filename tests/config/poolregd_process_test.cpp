// Integration: the built poolregd binary (path in $POOLREGD) started as a real process.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "tests/common/free_port.hpp"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

std::string poolregd_path() {
  const char* p = std::getenv("POOLREGD");
  return p != nullptr ? p : "";
}

using poolreg::test_ports::free_port;

// A child process with stdout and stderr on one pipe.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    out_fd_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0 && !exit_status_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
  }

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::string& output() const { return output_; }

  // Reads output until it contains needle or the deadline passes.
  bool wait_for_output(const std::string& needle, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (output_.find(needle) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0 || !read_some(static_cast<int>(left))) return false;
    }
    return true;
  }

  // Waits for the exit; returns the wait status, or nullopt when it did not exit in time.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_status_ = status;
        while (read_some(100)) {
        }
        return status;
      }
      read_some(20);
    }
    return std::nullopt;
  }

 private:
  bool read_some(int timeout_ms) {
    pollfd p{out_fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[4096];
    ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) return false;
    output_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string output_;
  std::optional<int> exit_status_;
};

class PoolregdProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(poolregd_path().empty()) << "POOLREGD must name the poolregd binary";
    char tmpl[] = "/tmp/poolregd-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const auto& f : files_) ::unlink(f.c_str());
    ::rmdir(dir_.c_str());
  }
  std::string write_file(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    files_.push_back(path);
    return path;
  }
  // A config on 127.0.0.1 with random free ports, so parallel runs do not collide.
  std::string loopback_config() {
    const auto asap = free_port(SOCK_STREAM);
    return "[registrar]\nid = 0x0badcafe\nlog_level = \"debug\"\n[asap]\nlisten = [\"127.0.0.1\"]\n"
           "sctp_port = " +
           std::to_string(asap) + "\ntcp_port = " + std::to_string(asap) +
           "\nudp_encapsulation_port = " + std::to_string(free_port(SOCK_DGRAM)) +
           "\n[enrp]\nsctp_port = " + std::to_string(free_port(SOCK_STREAM)) +
           "\n[control]\nsocket_path = \"" + dir_ + "/poolregd.sock\"\n";
  }

  std::string dir_;
  std::vector<std::string> files_;
};

void expect_clean_stop(Child& child, int signal) {
  ASSERT_TRUE(child.wait_for_output("listening:", std::chrono::seconds(10))) << child.output();
  ASSERT_EQ(::kill(child.pid(), signal), 0);
  auto status = child.wait_exit(std::chrono::seconds(5));
  ASSERT_TRUE(status) << "poolregd did not exit within 5 s of the signal\n" << child.output();
  ASSERT_TRUE(WIFEXITED(*status)) << child.output();
  EXPECT_EQ(WEXITSTATUS(*status), 0) << child.output();
}

TEST_F(PoolregdProcess, LogsListeningAndExitsZeroOnSigterm) {
  Child child({poolregd_path(), "-c", write_file("ok.toml", loopback_config())});
  ASSERT_TRUE(child.started());
  expect_clean_stop(child, SIGTERM);
  EXPECT_NE(child.output().find("poolregd 0x0badcafe listening: ASAP SCTP/UDP-encaps 127.0.0.1:"),
            std::string::npos)
      << child.output();
  EXPECT_NE(child.output().find("stopping on SIGTERM"), std::string::npos) << child.output();
}

TEST_F(PoolregdProcess, JsonLogsAndSigint) {
  Child child({poolregd_path(), "-c", write_file("ok.toml", loopback_config()), "--set",
               "registrar.log_format=json", "--mode", "nextgen", "--id", "0x1122334455667788"});
  ASSERT_TRUE(child.started());
  expect_clean_stop(child, SIGINT);
  EXPECT_NE(child.output().find("\"msg\":\"poolregd 0x1122334455667788 listening: "), std::string::npos)
      << child.output();
}

TEST_F(PoolregdProcess, CheckConfigRejectsBadFileWithPosition) {
  std::string path = write_file("bad.toml", "[asap]\nsctp_port = 70000\n[enrp]\nheartbeet = 1\n");
  Child child({poolregd_path(), "--check-config", "-c", path});
  ASSERT_TRUE(child.started());
  auto status = child.wait_exit(std::chrono::seconds(10));
  ASSERT_TRUE(status);
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_NE(WEXITSTATUS(*status), 0);
  EXPECT_NE(child.output().find(path + ":2:13: asap.sctp_port: 70000 is out of range 1..65535"),
            std::string::npos)
      << child.output();
  EXPECT_NE(child.output().find(path + ":4:1: enrp.heartbeet: unknown key"), std::string::npos)
      << child.output();
}

TEST_F(PoolregdProcess, PrintConfigOutputPassesCheckConfig) {
  Child print({poolregd_path(), "--print-config", "--set", "enrp.profile=fast", "--listen", "127.0.0.1"});
  ASSERT_TRUE(print.started());
  auto status = print.wait_exit(std::chrono::seconds(10));
  ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << print.output();
  EXPECT_NE(print.output().find("heartbeat_interval_ms = 2444"), std::string::npos) << print.output();

  Child check({poolregd_path(), "--check-config", "-c", write_file("dump.toml", print.output())});
  auto check_status = check.wait_exit(std::chrono::seconds(10));
  ASSERT_TRUE(check_status && WIFEXITED(*check_status)) << check.output();
  EXPECT_EQ(WEXITSTATUS(*check_status), 0) << check.output();
}

}  // namespace
