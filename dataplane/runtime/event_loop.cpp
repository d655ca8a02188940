#include "dataplane/runtime/event_loop.hpp"

#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace poolreg::runtime {

namespace {

// Heap order: smallest deadline on top; ties by id so equal deadlines fire in schedule order.
bool later(const auto& a, const auto& b) {
  return a.deadline != b.deadline ? a.deadline > b.deadline : a.id > b.id;
}

constexpr int kMaxEventsPerWait = 256;

}  // namespace

EventLoop::EventLoop(const Clock* clock, std::size_t cross_thread_queue_limit)
    : clock_(clock != nullptr ? clock : &own_clock_), cross_limit_(cross_thread_queue_limit) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    int e = errno;
    ::close(epoll_fd_);
    throw std::system_error(e, std::generic_category(), "eventfd");
  }
  add_fd(wake_fd_, EPOLLIN, [this](std::uint32_t) { on_wake_fd(); });
}

EventLoop::~EventLoop() {
  if (signal_fd_ >= 0) ::close(signal_fd_);
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

bool EventLoop::add_fd(int fd, std::uint32_t events, FdCallback callback) {
  if (fds_.count(fd) != 0) {
    errno = EEXIST;
    return false;
  }
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return false;
  fds_.emplace(fd, FdEntry{std::move(callback), ++fd_generation_});
  return true;
}

bool EventLoop::modify_fd(int fd, std::uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  return ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void EventLoop::remove_fd(int fd) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  fds_.erase(it);
}

EventLoop::TimerId EventLoop::add_timer(TimeNs deadline, TimeNs period, Callback callback) {
  TimerId id = next_timer_id_++;
  timers_.emplace(id, Timer{std::move(callback), period, deadline});
  heap_.push_back(HeapEntry{deadline, id});
  std::push_heap(heap_.begin(), heap_.end(), [](const HeapEntry& a, const HeapEntry& b) { return later(a, b); });
  return id;
}

EventLoop::TimerId EventLoop::schedule_at(TimeNs deadline, Callback callback) {
  return add_timer(deadline, 0, std::move(callback));
}

EventLoop::TimerId EventLoop::schedule_after(TimeNs delay, Callback callback) {
  return add_timer(now() + delay, 0, std::move(callback));
}

EventLoop::TimerId EventLoop::schedule_every(TimeNs period, Callback callback) {
  if (period == 0) period = 1;
  return add_timer(now() + period, period, std::move(callback));
}

bool EventLoop::cancel(TimerId id) {
  if (timers_.erase(id) == 0) return false;
  // Lazy deletion: the heap entry is skipped when it surfaces. Compact when stale entries dominate.
  if (heap_.size() > 1024 && heap_.size() > 4 * timers_.size()) compact_heap();
  return true;
}

void EventLoop::compact_heap() {
  std::vector<HeapEntry> live;
  live.reserve(timers_.size());
  for (const HeapEntry& e : heap_) {
    auto it = timers_.find(e.id);
    if (it != timers_.end() && it->second.deadline == e.deadline) live.push_back(e);
  }
  heap_ = std::move(live);
  std::make_heap(heap_.begin(), heap_.end(), [](const HeapEntry& a, const HeapEntry& b) { return later(a, b); });
}

void EventLoop::defer(Callback callback) { deferred_.push_back(std::move(callback)); }

bool EventLoop::post_from_any_thread(Callback callback) {
  {
    std::lock_guard<std::mutex> lock(cross_mutex_);
    if (cross_queue_.size() >= cross_limit_) {
      dropped_posts_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    cross_queue_.push_back(std::move(callback));
  }
  wake();
  return true;
}

bool EventLoop::watch_signals(std::initializer_list<int> signals, std::function<void(int)> callback) {
  if (signal_fd_ >= 0) return false;
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  if (::pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return false;
  int fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) return false;
  signal_fd_ = fd;
  signal_callback_ = std::move(callback);
  return add_fd(fd, EPOLLIN, [this](std::uint32_t) {
    signalfd_siginfo info;
    // Bounded: a signalfd holds at most one pending instance per standard signal.
    for (int i = 0; i < 64; ++i) {
      ssize_t n = ::read(signal_fd_, &info, sizeof info);
      if (n != static_cast<ssize_t>(sizeof info)) break;
      if (signal_callback_) signal_callback_(static_cast<int>(info.ssi_signo));
    }
  });
}

void EventLoop::wake() noexcept {
  std::uint64_t one = 1;
  // A full counter (EAGAIN) still means "readable": the wake-up is not lost.
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void EventLoop::stop() noexcept {
  stop_requested_.store(true, std::memory_order_release);
  wake();
}

void EventLoop::on_wake_fd() {
  std::uint64_t value;
  [[maybe_unused]] ssize_t n = ::read(wake_fd_, &value, sizeof value);
}

std::size_t EventLoop::drain_cross_thread() {
  std::vector<Callback> batch;
  {
    std::lock_guard<std::mutex> lock(cross_mutex_);
    if (cross_queue_.empty()) return 0;
    batch.swap(cross_queue_);
  }
  for (Callback& cb : batch) cb();
  return batch.size();
}

std::size_t EventLoop::run_deferred() {
  std::size_t ran = 0;
  // Callbacks deferred while running these go to the next pass (bounded per pass).
  std::vector<Callback> batch;
  batch.swap(deferred_);
  for (Callback& cb : batch) {
    cb();
    ++ran;
  }
  return ran;
}

std::size_t EventLoop::run_due_timers() {
  std::size_t ran = 0;
  const TimeNs t = now();
  auto cmp = [](const HeapEntry& a, const HeapEntry& b) { return later(a, b); };
  while (!heap_.empty() && heap_.front().deadline <= t && ran < kMaxTimersPerPass) {
    std::pop_heap(heap_.begin(), heap_.end(), cmp);
    HeapEntry e = heap_.back();
    heap_.pop_back();
    auto it = timers_.find(e.id);
    if (it == timers_.end() || it->second.deadline != e.deadline) continue;  // cancelled / stale
    if (it->second.period == 0) {
      Callback cb = std::move(it->second.callback);
      timers_.erase(it);
      cb();
    } else {
      // Re-arm before running so the callback may cancel its own periodic timer.
      it->second.deadline = std::max(e.deadline + it->second.period, t + 1);
      heap_.push_back(HeapEntry{it->second.deadline, e.id});
      std::push_heap(heap_.begin(), heap_.end(), cmp);
      Callback cb = it->second.callback;  // copy: the callback may cancel (erase) itself
      cb();
    }
    ++ran;
  }
  return ran;
}

int EventLoop::compute_timeout_ms(int requested) const {
  if (!deferred_.empty()) return 0;
  if (requested == 0) return 0;
  // Skip stale tops without mutating (const): the top may be cancelled; then wake early, harmless.
  if (heap_.empty()) return requested;
  const TimeNs t = now();
  const TimeNs deadline = heap_.front().deadline;
  if (deadline <= t) return 0;
  TimeNs delta_ms = (deadline - t + kNsPerMs - 1) / kNsPerMs;
  if (delta_ms > 60'000) delta_ms = 60'000;
  int timer_ms = static_cast<int>(delta_ms);
  return requested < 0 ? timer_ms : std::min(requested, timer_ms);
}

std::size_t EventLoop::run_once(int timeout_ms) {
  std::size_t ran = 0;
  epoll_event events[kMaxEventsPerWait];
  int n = ::epoll_wait(epoll_fd_, events, kMaxEventsPerWait, compute_timeout_ms(timeout_ms));
  if (n > 0) {
    // Snapshot generations: an fd removed (and maybe re-added) by an earlier callback of this
    // batch must not receive this batch's stale event.
    std::uint64_t generations[kMaxEventsPerWait];
    for (int i = 0; i < n; ++i) {
      auto it = fds_.find(events[i].data.fd);
      generations[i] = it == fds_.end() ? 0 : it->second.generation;
    }
    for (int i = 0; i < n; ++i) {
      auto it = fds_.find(events[i].data.fd);
      if (it == fds_.end() || it->second.generation != generations[i]) continue;
      FdCallback cb = it->second.callback;  // copy: the callback may remove its own fd
      cb(events[i].events);
      ++ran;
    }
  }
  ran += drain_cross_thread();
  ran += run_due_timers();
  ran += run_deferred();
  return ran;
}

void EventLoop::run() {
  while (!stop_requested_.load(std::memory_order_acquire)) run_once(-1);
}

}  // namespace poolreg::runtime
