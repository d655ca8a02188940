// poolregd out of file descriptors (issue 17 finding 4): with a low RLIMIT_NOFILE, TCP clients
// beyond it make accept() fail with EMFILE. The listener must rest (no busy loop under the
// level-triggered epoll), the daemon must say so in its log, and a new client must be served once
// descriptors are free again.
#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/client/pool_user_client.hpp"
#include "cli/client/sync_wait.hpp"
#include "tests/integration/poolregd_harness.hpp"

namespace poolreg::integration {
namespace {

using client::ClientStatus;
using client::ClientTransport;

[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new StackEnvironment);

std::size_t open_descriptors(pid_t pid) {
  std::size_t n = 0;
  DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (d == nullptr) return 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

// utime + stime of the whole process (every thread), in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name "(...)": state is field 3, utime 14, stime 15.
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// A blocking TCP connect to 127.0.0.1:port; completes from the listen backlog even when the
// daemon cannot accept. -1 on failure.
int connect_tcp(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST(PoolregdDescriptors, OutOfDescriptorsDoesNotSpinAndRecovers) {
  ASSERT_FALSE(poolregd_path().empty()) << "POOLREGD must name the poolregd binary";
  Poolregd daemon("emfile", pick_ports(), {});
  ASSERT_TRUE(daemon.start_and_wait()) << daemon.log();

  // Room for a few connections only: the daemon's descriptors now plus 4.
  const std::size_t in_use = open_descriptors(daemon.pid());
  ASSERT_GT(in_use, 0u);
  const rlimit low{in_use + 4, in_use + 4};
  ASSERT_EQ(::prlimit(daemon.pid(), RLIMIT_NOFILE, &low, nullptr), 0) << std::strerror(errno);

  // More clients than descriptors: the rest wait in the backlog, the listener stays readable.
  std::vector<int> clients;
  for (int i = 0; i < 16; ++i) {
    const int fd = connect_tcp(daemon.ports().asap);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    clients.push_back(fd);
  }
  std::this_thread::sleep_for(300ms);
  ASSERT_GE(open_descriptors(daemon.pid()), in_use + 4) << "the daemon did not run out of descriptors";

  // No busy loop: an idle registrar costs a few ms of CPU in 2 s; a spinning one about 2 s.
  const double before = cpu_seconds(daemon.pid());
  std::this_thread::sleep_for(2s);
  const double used = cpu_seconds(daemon.pid()) - before;
  RecordProperty("cpu_ms_over_2s_out_of_descriptors", static_cast<int>(used * 1000));
  EXPECT_LT(used, 0.2) << "poolregd used " << used << " s of CPU in 2 s while out of descriptors";
  EXPECT_TRUE(daemon.wait_for_log("out of file descriptors", 12s)) << daemon.log();

  // The clients leave (same low limit): their descriptors free up, the backlog drains, and a new
  // client is served.
  for (int fd : clients) ::close(fd);
  runtime::EventLoop loop;
  client::PoolUserClient pu(loop, StackEnvironment::stack.get(), daemon.client_options(ClientTransport::kTcp));
  ASSERT_EQ(client::connect_and_wait(pu, 5s), ClientStatus::kOk) << daemon.log();
  const auto r = client::resolve_and_wait(pu, *PoolHandle::from_string("emfile-no-such-pool"), 0);
  EXPECT_EQ(r.status, ClientStatus::kRejected) << client::to_string(r.status) << "\n" << daemon.log();
  EXPECT_EQ(r.cause(), ErrorCause::kUnknownPoolHandle);

  EXPECT_TRUE(daemon.stops_cleanly());
}

}  // namespace
}  // namespace poolreg::integration
