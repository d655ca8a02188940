// StreamConnections: the listener half that the control socket and the metrics endpoint share:
// a non-blocking listening stream socket on the EventLoop, accepting up to max_clients
// connections, one Client record per connection keyed by fd, an idle sweep, and teardown.
// What is spoken on a connection (JSON lines, HTTP) stays with the server that owns the table.
//
// Contract: construct, listen(), stop() and destroy on the event-loop thread. Client is a
// struct with `int fd` and `TimeNs last_activity`; the table sets both on accept. on_event runs
// for every epoll event of an accepted connection; on_refused gets a connection over the limit
// just before the table closes it (to send a last word); on_accepted, on_idle_closed and
// on_accept_paused (accept() lacked descriptors: the listener rests 100 ms, runtime/listener_pause.hpp)
// exist for counters; on_closed runs for every connection the table closes (any reason) while
// its Client still exists. A Client with a `keep_open` member set is never closed as idle (a push
// stream may be quiet for long). Callbacks may close connections through close().
#pragma once

#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "dataplane/runtime/event_loop.hpp"
#include "dataplane/runtime/listener_pause.hpp"

namespace poolreg::control {

struct StreamConnectionLimits {
  std::size_t max_clients = 64;
  std::size_t accepts_per_event = 64;  // fairness against the rest of the event loop
  TimeNs idle_timeout = 0;             // 0 = never close idle connections
};

struct StreamConnectionHooks {
  std::function<void(int fd, std::uint32_t events)> on_event;
  std::function<void(int fd)> on_refused;   // optional
  std::function<void()> on_accepted;        // optional
  std::function<void()> on_idle_closed;     // optional
  std::function<void()> on_accept_paused;   // optional
  std::function<void(int fd)> on_closed;    // optional
};

template <class Client>
class StreamConnections {
 public:
  StreamConnections(runtime::EventLoop& loop, StreamConnectionLimits limits, StreamConnectionHooks hooks)
      : loop_(loop), limits_(limits), hooks_(std::move(hooks)), accept_pause_(loop) {}
  ~StreamConnections() { stop(); }
  StreamConnections(const StreamConnections&) = delete;
  StreamConnections& operator=(const StreamConnections&) = delete;

  // Takes over a bound, listening, non-blocking socket. false (fd left open) when the loop
  // cannot watch it.
  bool listen(int listen_fd) {
    if (!loop_.add_fd(listen_fd, EPOLLIN, [this](std::uint32_t) { accept_pending(); })) return false;
    listen_fd_ = listen_fd;
    if (limits_.idle_timeout > 0) {
      // A quarter of the timeout keeps the overshoot small without waking the loop often.
      const TimeNs period = std::clamp<TimeNs>(limits_.idle_timeout / 4, 100 * kNsPerMs, 30 * kNsPerSec);
      idle_timer_ = loop_.schedule_every(period, [this] { sweep_idle(); });
    }
    return true;
  }

  // Closes every connection and the listening socket; the table can listen() again.
  void stop() {
    if (idle_timer_ != runtime::EventLoop::kNoTimer) {
      loop_.cancel(idle_timer_);
      idle_timer_ = runtime::EventLoop::kNoTimer;
    }
    std::vector<int> fds;
    for (const auto& [fd, c] : clients_) fds.push_back(fd);
    for (int fd : fds) close(fd);
    if (listen_fd_ < 0) return;
    accept_pause_.forget(listen_fd_);
    loop_.remove_fd(listen_fd_);
    ::close(listen_fd_);
    listen_fd_ = -1;
  }

  bool listening() const noexcept { return listen_fd_ >= 0; }
  std::size_t size() const noexcept { return clients_.size(); }

  Client* find(int fd) {
    auto it = clients_.find(fd);
    return it == clients_.end() ? nullptr : it->second.get();
  }

  void close(int fd) {
    if (hooks_.on_closed && clients_.count(fd) != 0) hooks_.on_closed(fd);
    loop_.remove_fd(fd);
    ::close(fd);
    clients_.erase(fd);
  }

 private:
  void accept_pending() {
    for (std::size_t i = 0; i < limits_.accepts_per_event; ++i) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        // Out of descriptors: rest instead of spinning on the still readable listener.
        if (runtime::ListenerPause::is_resource_shortage(errno) && accept_pause_.pause(listen_fd_) &&
            hooks_.on_accept_paused)
          hooks_.on_accept_paused();
        return;  // EAGAIN or ECONNABORTED: the next event
      }
      if (clients_.size() >= limits_.max_clients) {
        if (hooks_.on_refused) hooks_.on_refused(fd);
        ::close(fd);
        continue;
      }
      if (!loop_.add_fd(fd, EPOLLIN, [this, fd](std::uint32_t ev) { hooks_.on_event(fd, ev); })) {
        ::close(fd);
        continue;
      }
      auto client = std::make_unique<Client>();
      client->fd = fd;
      client->last_activity = loop_.now();
      clients_.emplace(fd, std::move(client));
      if (hooks_.on_accepted) hooks_.on_accepted();
    }
  }

  void sweep_idle() {
    const TimeNs now = loop_.now();
    std::vector<int> idle;
    for (const auto& entry : clients_) {
      const Client& c = *entry.second;
      if constexpr (requires { c.keep_open; }) {
        if (c.keep_open) continue;
      }
      if (now > c.last_activity && now - c.last_activity >= limits_.idle_timeout) idle.push_back(entry.first);
    }
    for (int fd : idle) {
      if (hooks_.on_idle_closed) hooks_.on_idle_closed();
      close(fd);
    }
  }

  runtime::EventLoop& loop_;
  StreamConnectionLimits limits_;
  StreamConnectionHooks hooks_;
  int listen_fd_ = -1;
  runtime::EventLoop::TimerId idle_timer_ = runtime::EventLoop::kNoTimer;
  std::unordered_map<int, std::unique_ptr<Client>> clients_;
  runtime::ListenerPause accept_pause_;
};

}  // namespace poolreg::control
