// ShutdownSignals: SIGINT and SIGTERM (stop) and SIGHUP (reload, see is_reload_signal) delivered
// as readable events instead of async handlers.
//
// Contract: construct on the main thread before any other thread starts. The constructor blocks
// SIGINT, SIGTERM and SIGHUP for the calling thread (threads started later, the lanes, inherit
// the mask and never see them), so the signals are only ever consumed through fd() /
// wait_for(); the destructor restores the old mask.
// One owner thread calls wait_for(); fd() may be put into an event loop (epoll) instead.
#pragma once

#include <signal.h>

#include <chrono>
#include <optional>

namespace poolreg::daemon {

// SIGHUP asks for a reload (log file reopened, configuration read again), not a stop.
constexpr bool is_reload_signal(int sig) noexcept { return sig == SIGHUP; }

class ShutdownSignals {
 public:
  ShutdownSignals();  // throws std::system_error when signalfd cannot be created
  ~ShutdownSignals();
  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;

  // Non-blocking signalfd; readable when SIGINT, SIGTERM or SIGHUP is pending.
  int fd() const noexcept { return fd_; }

  // Waits up to timeout; returns the signal number received, or nullopt on timeout.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);

  // Consumes one pending signal without waiting; nullopt when none.
  std::optional<int> poll();

 private:
  int fd_ = -1;
  sigset_t old_mask_{};
};

}  // namespace poolreg::daemon
