// EventLoop: the single-threaded epoll loop of the kernel-socket backend (poolregd, client library,
// load generator). File descriptors, timers, cross-thread wake-ups and signals all end up as
// callbacks on the ONE thread that calls run()/run_once().
//
// Contract
// - Every member function except stop(), post_from_any_thread() and wake() must be called on the loop
//   thread (the thread that runs run()/run_once(); before the loop first runs, the constructing
//   thread). Callbacks run on the loop thread and may call any member, including remove_fd() of
//   their own fd, cancel() of any timer and stop().
// - No exceptions are thrown after construction; failures are return values. The constructor
//   throws std::system_error only when epoll/eventfd cannot be created (start-up only).
// - Timers: a binary min-heap keyed by deadline, O(log n) schedule, O(1) cancel (lazy deletion;
//   the heap is compacted when cancelled entries dominate). Fine for tens of thousands of timers;
//   a registrar with millions of per-PE timers should run its own timer wheel from a periodic
//   timer (schedule_every) instead of one EventLoop timer per PE.
// - Timer callbacks for deadlines <= now run in deadline order; a timer scheduled from inside a
//   callback with a deadline <= now runs in the same run_once() pass only if it is due, but a timer
//   can never starve fd events: at most kMaxTimersPerPass run per pass.
// - Signals: watch_signals() blocks the signals for the calling thread (call it before starting
//   any other thread, e.g. before starting lane threads, so every thread inherits the mask) and delivers
//   them through a signalfd.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "registrar/common/clock.hpp"

namespace poolreg::runtime {

class EventLoop {
 public:
  // events: EPOLLIN / EPOLLOUT / EPOLLERR / EPOLLHUP / EPOLLRDHUP bits as returned by epoll_wait.
  using FdCallback = std::function<void(std::uint32_t events)>;
  using Callback = std::function<void()>;
  using TimerId = std::uint64_t;  // never 0 for a scheduled timer
  static constexpr TimerId kNoTimer = 0;
  static constexpr std::size_t kMaxTimersPerPass = 4096;
  static constexpr std::size_t kDefaultCrossThreadQueueLimit = 65536;

  // clock: used for timers and now(); must be monotonic and outlive the loop. nullptr = an
  // internal SteadyClock. (A ManualClock works for timer tests driven by run_once(0).)
  explicit EventLoop(const Clock* clock = nullptr,
                     std::size_t cross_thread_queue_limit = kDefaultCrossThreadQueueLimit);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // ---- file descriptors (level-triggered; the loop never closes fds it did not create) ----
  // false (errno set) when epoll_ctl refuses, e.g. the fd is already registered.
  bool add_fd(int fd, std::uint32_t events, FdCallback callback);
  bool modify_fd(int fd, std::uint32_t events);
  // Safe from inside any callback, including this fd's own; pending events for it are dropped.
  void remove_fd(int fd);

  // ---- timers ----
  TimerId schedule_at(TimeNs deadline, Callback callback);
  TimerId schedule_after(TimeNs delay, Callback callback);
  // Runs callback every period (first run one period from now) until cancel(id).
  TimerId schedule_every(TimeNs period, Callback callback);
  // true when the timer existed and had not fired yet (periodic: was still active).
  bool cancel(TimerId id);
  std::size_t active_timers() const noexcept { return timers_.size(); }

  // ---- deferred work ----
  // Loop thread only: runs callback on the next pass, after the current callback returns
  // (used to avoid re-entrancy, e.g. on_closed after close()).
  void defer(Callback callback);
  // Any thread: queues callback for the loop thread and wakes it. false (and nothing queued) when
  // the bounded queue is full; dropped_posts() counts those.
  bool post_from_any_thread(Callback callback);
  std::uint64_t dropped_posts() const noexcept { return dropped_posts_.load(std::memory_order_relaxed); }

  // ---- signals ----
  // Blocks the given signals in the calling thread and reports them through a signalfd.
  // false when signalfd fails or signals are already watched.
  bool watch_signals(std::initializer_list<int> signals, std::function<void(int signo)> callback);

  // ---- running ----
  // Runs until stop(). Returns immediately if stop() was called before run().
  void run();
  // One pass: waits up to timeout_ms (-1 = until something happens, 0 = poll) for fd events, then
  // runs due timers and deferred callbacks. Returns the number of callbacks run.
  std::size_t run_once(int timeout_ms);
  // Any thread (and signal handlers: only an atomic store and an eventfd write).
  void stop() noexcept;
  bool stopped() const noexcept { return stop_requested_.load(std::memory_order_acquire); }
  // Any thread: interrupts a blocking epoll_wait.
  void wake() noexcept;

  TimeNs now() const noexcept { return clock_->now(); }
  const Clock& clock() const noexcept { return *clock_; }

 private:
  struct Timer {
    Callback callback;
    TimeNs period = 0;  // 0 = one-shot
    TimeNs deadline = 0;
  };
  struct HeapEntry {
    TimeNs deadline;
    TimerId id;
  };
  struct FdEntry {
    FdCallback callback;
    std::uint64_t generation;  // guards against fd reuse inside one epoll batch
  };

  TimerId add_timer(TimeNs deadline, TimeNs period, Callback callback);
  int compute_timeout_ms(int requested) const;
  std::size_t run_due_timers();
  std::size_t run_deferred();
  std::size_t drain_cross_thread();
  void on_wake_fd();
  void compact_heap();

  SteadyClock own_clock_;
  const Clock* clock_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int signal_fd_ = -1;
  std::function<void(int)> signal_callback_;

  std::unordered_map<int, FdEntry> fds_;
  std::uint64_t fd_generation_ = 0;

  std::vector<HeapEntry> heap_;
  std::unordered_map<TimerId, Timer> timers_;
  TimerId next_timer_id_ = 1;

  std::vector<Callback> deferred_;

  std::mutex cross_mutex_;
  std::vector<Callback> cross_queue_;
  std::size_t cross_limit_;
  std::atomic<std::uint64_t> dropped_posts_{0};

  std::atomic<bool> stop_requested_{false};
};

}  // namespace poolreg::runtime
