// poolregd started as root with registrar.user/group (issue 18 item 1): it binds its sockets,
// switches to uid/gid 65534 (nobody/nogroup; no user is created) and keeps no capability.
// /proc/PID/status must show it for the main thread (uids, gids, groups, every capability set,
// NoNewPrivs) and every other thread (uids, effective and permitted sets); a PE registers and a
// PU resolves it over loopback; the control socket answers; SIGHUP after a log rotation reopens
// the log file in a directory the dropped user owns; SIGTERM exits 0. A user that does not exist
// stops start-up with a clear line. Needs root (skipped otherwise).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/client/pool_element_client.hpp"
#include "cli/client/pool_user_client.hpp"
#include "cli/client/sync_wait.hpp"
#include "tests/integration/daemon_test_support.hpp"
#include "tests/integration/poolregd_harness.hpp"
#include "tests/integration/process_credentials.hpp"

namespace poolreg::integration {
namespace {

using client::ClientStatus;
using client::ClientTransport;

[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new StackEnvironment);

constexpr unsigned long kNobody = 65534;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Waits (bounded) until `file` contains `needle` or the daemon died.
bool wait_in_file(Poolregd& d, const std::string& file, const std::string& needle) {
  for (int i = 0; i < 500; ++i) {
    if (read_file(file).find(needle) != std::string::npos) return true;
    if (!d.running()) return read_file(file).find(needle) != std::string::npos;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

client::PeRegistration registration(const PoolHandle& handle, PoolElementId id) {
  client::PeRegistration r;
  r.handle = handle;
  r.id = id;
  r.user_transport.protocol = TransportProtocol::kTcp;
  r.user_transport.port = 7;
  r.user_transport.use = TransportUse::kDataOnly;
  r.user_transport.addresses = {IpAddress::v4(0x7f000001u)};
  r.policy.type = PolicyType::kRoundRobin;
  r.registration_life_ms = 30000;
  return r;
}

class PrivilegeDrop : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: the test starts poolregd as root and checks its drop to uid 65534";
    ASSERT_FALSE(poolregd_path().empty()) << "POOLREGD must name the poolregd binary";
    // Readable by the dropped user (a reload reads the file again); the log directory is its own
    // (a reload after a rotation creates the file anew).
    dir_ = temp_dir();
    ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
    log_dir_ = dir_ + "/log";
    ASSERT_EQ(::mkdir(log_dir_.c_str(), 0755), 0);
    ASSERT_EQ(::chown(log_dir_.c_str(), kNobody, kNobody), 0);
    config_ = dir_ + "/poolregd.toml";
    log_ = log_dir_ + "/registrar.log";
  }
  void TearDown() override {
    for (const auto& f : {log_, log_ + ".1", config_}) ::unlink(f.c_str());
    ::rmdir(log_dir_.c_str());
    ::rmdir(dir_.c_str());
  }
  void write_config(const std::string& user) {
    std::ofstream out(config_, std::ios::trunc);
    out << "[registrar]\nlog_file = \"" << log_ << "\"\nuser = \"" << user << "\"\ngroup = \"" << kNobody << "\"\n";
    out.close();
    ::chmod(config_.c_str(), 0644);
  }
  std::string dir_, log_dir_, config_, log_;
};

TEST_F(PrivilegeDrop, DropsToNobodyWithoutCapabilitiesAndServesAPu) {
  write_config(std::to_string(kNobody));
  Poolregd d("drop", pick_ports(), {"-c", config_});
  ASSERT_TRUE(d.start());
  ASSERT_TRUE(wait_in_file(d, log_, "listening:")) << read_file(log_) << d.log();
  EXPECT_NE(read_file(log_).find("running as user 65534: uid 65534 gid 65534 groups 65534, capabilities effective "
                                 "none, permitted none, bounding none, ambient none, no_new_privs 1"),
            std::string::npos)
      << read_file(log_);

  // The kernel's view: the main thread has nothing left, no thread kept root or a capability.
  const std::vector<test::TaskStatus> tasks = test::read_all_tasks(d.pid());
  ASSERT_FALSE(tasks.empty());
  std::string all;
  for (const auto& t : tasks) all += test::describe(t) + "\n";
  const std::string pid = std::to_string(d.pid());
  const auto leader_it = std::find_if(tasks.begin(), tasks.end(), [&pid](const test::TaskStatus& t) { return t.tid == pid; });
  ASSERT_NE(leader_it, tasks.end()) << all;
  const test::TaskStatus& leader = *leader_it;
  EXPECT_EQ(leader.uid, std::vector<unsigned long>(4, kNobody)) << all;
  EXPECT_EQ(leader.gid, std::vector<unsigned long>(4, kNobody)) << all;
  EXPECT_EQ(leader.groups, "65534") << all;
  EXPECT_EQ(leader.cap_eff, 0u) << all;
  EXPECT_EQ(leader.cap_prm, 0u) << all;
  EXPECT_EQ(leader.cap_inh, 0u) << all;
  EXPECT_EQ(leader.cap_bnd, 0u) << all;
  EXPECT_EQ(leader.cap_amb, 0u) << all;
  EXPECT_EQ(leader.no_new_privs, 1) << all;
  for (const auto& t : tasks) {
    EXPECT_EQ(t.uid, std::vector<unsigned long>(4, kNobody)) << all;
    EXPECT_EQ(t.gid, std::vector<unsigned long>(4, kNobody)) << all;
    EXPECT_EQ(t.cap_eff, 0u) << all;
    EXPECT_EQ(t.cap_prm, 0u) << all;
    EXPECT_EQ(t.cap_amb, 0u) << all;
  }

  // Serves: a PE registers, a PU resolves it (SCTP over UDP on the lanes, and TCP).
  runtime::EventLoop loop;
  client::PoolElementClient pe(loop, StackEnvironment::stack.get(), d.client_options(ClientTransport::kSctp));
  ASSERT_EQ(client::connect_and_wait(pe, 5s), ClientStatus::kOk) << read_file(log_);
  const PoolHandle pool = *PoolHandle::from_string("it-dropped");
  auto reg = client::register_and_wait(pe, registration(pool, 4242));
  ASSERT_TRUE(reg.ok()) << client::to_string(reg.status) << "\n" << read_file(log_);
  for (ClientTransport transport : {ClientTransport::kSctp, ClientTransport::kTcp}) {
    client::PoolUserClient pu(loop, StackEnvironment::stack.get(), d.client_options(transport));
    ASSERT_EQ(client::connect_and_wait(pu, 5s), ClientStatus::kOk) << read_file(log_);
    auto r = client::resolve_and_wait(pu, pool, 16);
    ASSERT_TRUE(r.ok()) << client::to_string(r.status) << "\n" << read_file(log_);
    ASSERT_EQ(r.elements.size(), 1u);
    EXPECT_EQ(r.elements[0].id, 4242u);
  }

  // The control socket (bound as root, handed to the user) answers.
  const nlohmann::json status = test::control_request(d.control_socket_path(), "status");
  EXPECT_TRUE(status.is_object() && status.value("ok", false)) << status.dump();

  // Reload after a rotation: the file is read again and the log created anew, as uid 65534.
  ASSERT_EQ(std::rename(log_.c_str(), (log_ + ".1").c_str()), 0);
  ASSERT_EQ(::kill(d.pid(), SIGHUP), 0);
  ASSERT_TRUE(wait_in_file(d, log_, "SIGHUP: configuration " + config_ + " reloaded: no changes, log file reopened"))
      << read_file(log_) << read_file(log_ + ".1") << d.log();
  struct stat st {};
  ASSERT_EQ(::stat(log_.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kNobody);

  const auto stopped = d.stop(SIGTERM);
  ASSERT_TRUE(stopped.has_value()) << read_file(log_);
  EXPECT_TRUE(WIFEXITED(*stopped) && WEXITSTATUS(*stopped) == 0) << read_file(log_);
}

TEST_F(PrivilegeDrop, UnknownUserStopsStartUp) {
  write_config("poolreg-no-such-user");
  Poolregd d("nouser", pick_ports(), {"-c", config_});
  ASSERT_TRUE(d.start());
  const auto stopped = d.stop(0, 10s);  // signal 0: only wait for the exit
  ASSERT_TRUE(stopped.has_value()) << "still running\n" << read_file(log_);
  EXPECT_TRUE(WIFEXITED(*stopped) && WEXITSTATUS(*stopped) == 1) << read_file(log_);
  EXPECT_NE(read_file(log_).find("privilege drop: registrar.user \"poolreg-no-such-user\": no such user"),
            std::string::npos)
      << read_file(log_);
  EXPECT_EQ(read_file(log_).find("listening:"), std::string::npos) << read_file(log_);
}

}  // namespace
}  // namespace poolreg::integration
