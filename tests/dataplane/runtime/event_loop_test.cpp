// EventLoop: timers (on a ManualClock, no sleeping), fds, deferred and cross-thread callbacks,
// signals, stop().
#include "dataplane/runtime/event_loop.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <thread>
#include <vector>

namespace poolreg::runtime {
namespace {

TEST(EventLoop, TimersFireInDeadlineOrderOnManualClock) {
  ManualClock clock(1000);
  EventLoop loop(&clock);
  std::vector<int> fired;
  loop.schedule_at(1300, [&] { fired.push_back(3); });
  loop.schedule_at(1100, [&] { fired.push_back(1); });
  loop.schedule_after(200, [&] { fired.push_back(2); });  // 1200
  loop.schedule_at(1100, [&] { fired.push_back(11); });   // same deadline: schedule order
  loop.run_once(0);
  EXPECT_TRUE(fired.empty());
  clock.set(1200);
  loop.run_once(0);
  EXPECT_EQ(fired, (std::vector<int>{1, 11, 2}));
  clock.set(5000);
  loop.run_once(0);
  EXPECT_EQ(fired, (std::vector<int>{1, 11, 2, 3}));
  EXPECT_EQ(loop.active_timers(), 0u);
}

TEST(EventLoop, CancelledTimerNeverFires) {
  ManualClock clock;
  EventLoop loop(&clock);
  int fired = 0;
  auto id = loop.schedule_after(10, [&] { ++fired; });
  EXPECT_TRUE(loop.cancel(id));
  EXPECT_FALSE(loop.cancel(id));
  clock.advance(100);
  loop.run_once(0);
  EXPECT_EQ(fired, 0);
}

TEST(EventLoop, PeriodicTimerRepeatsUntilCancelledFromItsOwnCallback) {
  ManualClock clock;
  EventLoop loop(&clock);
  int fired = 0;
  EventLoop::TimerId id = EventLoop::kNoTimer;
  id = loop.schedule_every(10, [&] {
    if (++fired == 3) loop.cancel(id);
  });
  for (int i = 0; i < 10; ++i) {
    clock.advance(10);
    loop.run_once(0);
  }
  EXPECT_EQ(fired, 3);
  EXPECT_EQ(loop.active_timers(), 0u);
}

TEST(EventLoop, ManyCancelledTimersDoNotAccumulate) {
  ManualClock clock;
  EventLoop loop(&clock);
  for (int i = 0; i < 100000; ++i) loop.cancel(loop.schedule_after(1000 + i, [] {}));
  EXPECT_EQ(loop.active_timers(), 0u);
  int fired = 0;
  loop.schedule_after(5, [&] { ++fired; });
  clock.advance(1'000'000);
  loop.run_once(0);
  EXPECT_EQ(fired, 1);
}

TEST(EventLoop, DeferredRunsAfterCurrentCallbackAndNestedDeferGoesToNextPass) {
  EventLoop loop;
  std::vector<int> order;
  loop.defer([&] {
    order.push_back(1);
    loop.defer([&] { order.push_back(3); });
  });
  loop.defer([&] { order.push_back(2); });
  loop.run_once(0);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  loop.run_once(0);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(EventLoop, FdCallbackAndRemoveFromInsideCallback) {
  EventLoop loop;
  int fd = ::eventfd(0, EFD_NONBLOCK);
  int calls = 0;
  ASSERT_TRUE(loop.add_fd(fd, EPOLLIN, [&](std::uint32_t ev) {
    EXPECT_TRUE(ev & EPOLLIN);
    ++calls;
    loop.remove_fd(fd);
  }));
  EXPECT_FALSE(loop.add_fd(fd, EPOLLIN, [](std::uint32_t) {}));  // already registered
  std::uint64_t one = 1;
  ASSERT_EQ(::write(fd, &one, sizeof one), 8);
  loop.run_once(100);
  loop.run_once(0);  // still readable, but removed
  EXPECT_EQ(calls, 1);
  ::close(fd);
}

TEST(EventLoop, PostFromAnotherThreadWakesBlockingLoop) {
  EventLoop loop;
  int value = 0;
  std::thread t([&] { loop.post_from_any_thread([&] { value = 42; }); });
  // Bounded: each run_once blocks at most 1 s; the post wakes it.
  for (int i = 0; i < 5 && value == 0; ++i) loop.run_once(1000);
  t.join();
  EXPECT_EQ(value, 42);
}

TEST(EventLoop, CrossThreadQueueIsBounded) {
  EventLoop loop(nullptr, 2);
  EXPECT_TRUE(loop.post_from_any_thread([] {}));
  EXPECT_TRUE(loop.post_from_any_thread([] {}));
  EXPECT_FALSE(loop.post_from_any_thread([] {}));
  EXPECT_EQ(loop.dropped_posts(), 1u);
  loop.run_once(0);
  EXPECT_TRUE(loop.post_from_any_thread([] {}));
}

TEST(EventLoop, StopFromAnotherThreadEndsRun) {
  EventLoop loop;
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    loop.stop();
  });
  loop.run();  // returns only after stop()
  t.join();
  EXPECT_TRUE(loop.stopped());
}

TEST(EventLoop, StopFromTimerCallback) {
  EventLoop loop;
  loop.schedule_after(kNsPerMs, [&] { loop.stop(); });
  loop.run();
  EXPECT_TRUE(loop.stopped());
}

TEST(EventLoop, SignalsArriveThroughSignalfd) {
  EventLoop loop;
  int got = 0;
  ASSERT_TRUE(loop.watch_signals({SIGUSR1}, [&](int signo) { got = signo; }));
  ASSERT_EQ(::raise(SIGUSR1), 0);  // blocked, so it stays pending for the signalfd
  for (int i = 0; i < 5 && got == 0; ++i) loop.run_once(1000);
  EXPECT_EQ(got, SIGUSR1);
  EXPECT_FALSE(loop.watch_signals({SIGUSR2}, [](int) {}));  // one signalfd per loop
}

}  // namespace
}  // namespace poolreg::runtime
