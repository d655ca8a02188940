// ListenerPause: a listener whose accept() lacks descriptors rests for the back-off and is watched
// again after it (issue 17 finding 4), on a real listening socket and a ManualClock.
#include "dataplane/runtime/listener_pause.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace poolreg::runtime {
namespace {

class ListenerPauseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ASSERT_GE(listen_fd_, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ASSERT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(listen_fd_, 8), 0);
    ASSERT_EQ(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len), 0);
    // A connection waiting in the backlog that nobody accepts: the listener stays readable, as
    // when accept() fails with EMFILE.
    client_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_EQ(::connect(client_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_TRUE(loop_.add_fd(listen_fd_, EPOLLIN, [this](std::uint32_t) { ++readable_; }));
  }
  void TearDown() override {
    loop_.remove_fd(listen_fd_);
    ::close(client_fd_);
    ::close(listen_fd_);
  }

  ManualClock clock_;
  EventLoop loop_{&clock_};
  int listen_fd_ = -1;
  int client_fd_ = -1;
  int readable_ = 0;
};

TEST_F(ListenerPauseTest, ResourceShortagesAreTheDescriptorAndMemoryErrors) {
  for (int e : {EMFILE, ENFILE, ENOBUFS, ENOMEM}) EXPECT_TRUE(ListenerPause::is_resource_shortage(e)) << e;
  for (int e : {EAGAIN, ECONNABORTED, EINTR, EPROTO}) EXPECT_FALSE(ListenerPause::is_resource_shortage(e)) << e;
}

TEST_F(ListenerPauseTest, PausedListenerIsSilentUntilTheBackoffHasPassed) {
  loop_.run_once(0);
  EXPECT_EQ(readable_, 1);  // level-triggered: without a pause this repeats on every pass

  ListenerPause pause(loop_);
  EXPECT_TRUE(pause.pause(listen_fd_));
  EXPECT_FALSE(pause.pause(listen_fd_));  // already resting: one pause, one count
  EXPECT_TRUE(pause.paused(listen_fd_));
  for (int i = 0; i < 5; ++i) loop_.run_once(0);
  EXPECT_EQ(readable_, 1);

  clock_.advance(ListenerPause::kDefaultBackoff - 1);
  loop_.run_once(0);
  EXPECT_EQ(readable_, 1);
  clock_.advance(1);
  loop_.run_once(0);  // the resume timer runs: EPOLLIN again
  EXPECT_FALSE(pause.paused(listen_fd_));
  loop_.run_once(0);
  EXPECT_EQ(readable_, 2);
}

TEST_F(ListenerPauseTest, ForgottenListenerIsNotResumed) {
  ListenerPause pause(loop_);
  ASSERT_TRUE(pause.pause(listen_fd_));
  pause.forget(listen_fd_);
  EXPECT_FALSE(pause.paused(listen_fd_));
  EXPECT_EQ(loop_.active_timers(), 0u);
  clock_.advance(ListenerPause::kDefaultBackoff);
  loop_.run_once(0);
  EXPECT_EQ(readable_, 0);  // still out of the loop's interest: the owner is closing it
}

}  // namespace
}  // namespace poolreg::runtime
