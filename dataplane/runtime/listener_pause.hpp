// ListenerPause: takes a listening socket out of the EventLoop's interest for a short back-off
// when accept() fails for lack of descriptors or kernel memory, then watches it again.
//
// Why: the loop is level-triggered. A listener whose accept() fails with EMFILE/ENFILE stays
// readable (the connection waits in the backlog), so without a pause the loop wakes at once,
// fails again and spins at full CPU answering nobody. Pausing lets the rest of the loop run (and
// close connections, which is what frees descriptors); the waiting client is accepted when the
// listener is watched again and a descriptor is free. A reserve descriptor (accept and close at
// once) was not chosen: it turns a wait into a refusal and still needs a pause for ENFILE.
//
// Contract: EventLoop thread only (the loop's own). The owner registered the listener with the
// loop for EPOLLIN; pause() sets its interest to nothing, the timer restores EPOLLIN. Call
// forget(fd) before remove_fd()/close() of a listener; destruction cancels every pending resume.
#pragma once

#include <unordered_map>

#include "dataplane/runtime/event_loop.hpp"

namespace poolreg::runtime {

class ListenerPause {
 public:
  static constexpr TimeNs kDefaultBackoff = 100 * kNsPerMs;

  explicit ListenerPause(EventLoop& loop, TimeNs backoff = kDefaultBackoff) : loop_(loop), backoff_(backoff) {}
  ~ListenerPause();
  ListenerPause(const ListenerPause&) = delete;
  ListenerPause& operator=(const ListenerPause&) = delete;

  // true for the accept() errors a back-off waits out: no descriptor (EMFILE: this process,
  // ENFILE: the system) or no kernel memory (ENOBUFS, ENOMEM). Everything else (EAGAIN, a
  // connection aborted in the backlog) is not a reason to stop accepting.
  static bool is_resource_shortage(int error) noexcept;

  // Stops watching fd until the back-off has passed. false (nothing changed) when fd is already
  // paused or the loop refused the change.
  bool pause(int fd);
  // Cancels fd's resume (the owner is about to remove and close it).
  void forget(int fd);
  bool paused(int fd) const { return resume_.count(fd) != 0; }

 private:
  EventLoop& loop_;
  TimeNs backoff_;
  std::unordered_map<int, EventLoop::TimerId> resume_;
};

}  // namespace poolreg::runtime
