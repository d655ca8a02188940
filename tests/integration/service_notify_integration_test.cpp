// poolregd under systemd's Type=notify (issue 18 item 1): with $NOTIFY_SOCKET set, the daemon
// sends READY=1 only once its listeners are open, RELOADING=1 then READY=1 around a SIGHUP
// reload, and STOPPING=1 on SIGTERM. The test plays systemd: a Unix datagram socket of its own.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstdlib>

#include "dataplane/control/control_client.hpp"
#include "tests/integration/poolregd_harness.hpp"

namespace poolreg::integration {
namespace {

// The receiving end of $NOTIFY_SOCKET, set in this process's environment (inherited by poolregd).
class NotifySocket {
 public:
  NotifySocket() : path_(temp_dir() + "/notify.sock") {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", path_.c_str());
    bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    if (fd_ >= 0) ::close(fd_);
    ::unlink(path_.c_str());
    ::rmdir(path_.substr(0, path_.rfind('/')).c_str());
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  bool bound() const { return bound_; }

  // The next datagram, or "" after `limit`.
  std::string receive(std::chrono::milliseconds limit = 10s) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(limit.count())) != 1) return {};
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

bool tcp_accepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

TEST(ServiceNotify, ReadyAfterListenersReloadingAndStopping) {
  NotifySocket notify;
  ASSERT_TRUE(notify.bound());
  Poolregd d("notify", pick_ports(), {});
  ASSERT_TRUE(d.start());

  const std::string ready = notify.receive();
  ASSERT_NE(ready.find("READY=1"), std::string::npos) << "got '" << ready << "', daemon " << d.state() << "\n"
                                                      << d.log();
  EXPECT_NE(ready.find("STATUS=listening: "), std::string::npos) << ready;
  // READY means serving: the listeners and the control socket accept right now.
  EXPECT_NE(d.log().find("listening:"), std::string::npos);
  EXPECT_TRUE(tcp_accepts(d.ports().asap));
  control::ClientError error;
  EXPECT_NE(control::ControlClient::connect(d.control_socket_path(), 3000, &error), nullptr);

  ASSERT_EQ(::kill(d.pid(), SIGHUP), 0);
  const std::string reloading = notify.receive();
  EXPECT_NE(reloading.find("RELOADING=1"), std::string::npos) << reloading;
  const std::string ready_again = notify.receive();
  EXPECT_NE(ready_again.find("READY=1"), std::string::npos) << ready_again;

  const auto status = d.stop(SIGTERM);
  ASSERT_TRUE(status.has_value()) << d.state();
  const std::string stopping = notify.receive();
  EXPECT_NE(stopping.find("STOPPING=1"), std::string::npos) << stopping;
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << d.state();
}

// Without $NOTIFY_SOCKET (a shell, not systemd) nothing is sent and nothing is logged about it.
TEST(ServiceNotify, SilentWithoutNotifySocket) {
  ::unsetenv("NOTIFY_SOCKET");
  Poolregd d("plain", pick_ports(), {});
  ASSERT_TRUE(d.start_and_wait()) << d.log();
  EXPECT_EQ(d.log().find("sd_notify"), std::string::npos) << d.log();
}

}  // namespace
}  // namespace poolreg::integration
