// ControlServer: poolregd's control socket, a Unix domain stream socket served from the daemon's
// EventLoop. Clients send one JSON request per line and get one JSON response per line
// (command_registry.hpp has the protocol); poolctl is the usual client.
//
// Contract
// - Construct, start(), stop() and destroy on the event-loop thread; every callback (and so every
//   command handler) runs on that thread. Nothing blocks: the listening socket and every client
//   socket are non-blocking and driven by EPOLLIN/EPOLLOUT.
// - Bounded: at most max_clients connections (extra ones get one error line and are closed),
//   at most max_line_bytes per request (longer: error response "too_large", then the connection
//   is closed), and reading from a client pauses while its unsent output exceeds
//   max_pending_output_bytes (a response larger than max_response_bytes is replaced by an error).
//   A client idle for idle_timeout is closed.
// - start() creates the socket's parent directory when missing (mode derived from socket_mode:
//   owner rwx, plus group/other search when the socket grants them access), refuses a parent
//   directory that is not a directory or is writable by others without the sticky bit, replaces
//   a stale socket file (one nobody accepts on) and refuses when another process is serving the
//   path, binds, sets the permission bits to socket_mode and listens.
// - stop() (and the destructor) closes every connection and removes the socket file if it is
//   still the one this server created.
// - Push streams (the `events` command, event_hub.hpp): a command handler may turn the
//   connection it runs for (CommandCaller::connection) into a stream with start_stream(). After
//   the command's response the server reads no more requests from it (further input is
//   discarded), never closes it as idle, and push() appends lines to it. Each stream's unsent
//   output is bounded (SubscriberQueue): a line that does not fit is dropped and counted, and a
//   {"kind":"dropped","count":N} line follows once room returns. push() only appends and asks
//   for EPOLLOUT: a slow subscriber never blocks the loop, and many events become few writes.
//   on_stream_closed runs when a stream connection closes for any reason (peer gone, write
//   error, stop()).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "dataplane/control/command_registry.hpp"
#include "dataplane/control/stream_connections.hpp"
#include "dataplane/control/subscriber_queue.hpp"
#include "dataplane/runtime/event_loop.hpp"
#include "registrar/common/expected.hpp"

namespace poolreg::control {

struct ControlServerConfig {
  std::string socket_path;          // absolute, fits sun_path (config: effective_control_socket_path)
  std::uint32_t socket_mode = 0660;  // permission bits of the socket file
  std::size_t max_clients = 64;
  std::size_t max_line_bytes = 64 * 1024;
  std::size_t max_response_bytes = 64u << 20;
  std::size_t max_pending_output_bytes = 4u << 20;
  TimeNs idle_timeout = 300 * kNsPerSec;  // 0 = never
};

struct ControlServerCounters {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_refused = 0;  // over max_clients
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;               // {"ok":false} responses
  std::uint64_t oversize_lines = 0;
  std::uint64_t idle_closed = 0;
  std::uint64_t accept_pauses = 0;        // listener rested 100 ms: accept() lacked descriptors
  std::uint64_t streams_started = 0;      // connections turned into push streams
  std::uint64_t stream_lines_dropped = 0; // push() lines dropped: the stream's queue was full
};

class ControlServer {
 public:
  ControlServer(runtime::EventLoop& loop, ControlServerConfig config);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Commands (also usable before start()).
  void add_command(std::string name, CommandRegistry::Handler handler, std::string summary = {},
                   CommandKind kind = CommandKind::kReadOnly) {
    registry_.add_command(std::move(name), std::move(handler), std::move(summary), kind);
  }
  CommandRegistry& registry() noexcept { return registry_; }

  // Opens the socket (see file comment); the error is a readable reason.
  Expected<void, std::string> start();
  void stop();
  bool running() const noexcept { return connections_.listening(); }
  const std::string& socket_path() const noexcept { return config_.socket_path; }
  std::size_t client_count() const noexcept { return connections_.size(); }

  // ---- push streams (see the contract above) ----
  // false: no such connection (or already a stream).
  bool start_stream(int connection, std::size_t max_unsent_bytes);
  enum class PushResult : std::uint8_t { kQueued, kDropped, kNoStream };
  PushResult push(int connection, std::string_view line);
  void set_on_stream_closed(std::function<void(int connection)> hook) { on_stream_closed_ = std::move(hook); }
  std::size_t stream_count() const noexcept { return streams_; }
  const ControlServerCounters& counters() const noexcept { return counters_; }

 private:
  struct Client {
    int fd = -1;
    std::string in;
    std::string out;
    std::size_t out_offset = 0;
    bool eof = false;           // peer half-closed: answer what is buffered, then close
    bool close_after_flush = false;
    TimeNs last_activity = 0;
    std::uint32_t events = EPOLLIN;  // what the fd is registered for (accepted with EPOLLIN)
    std::optional<CommandCaller> caller;  // SO_PEERCRED, read at the first request
    std::optional<SubscriberQueue> stream;  // set: a push stream (start_stream)
    bool keep_open = false;                 // streams are never closed as idle
  };

  void on_client_event(int fd, std::uint32_t events);
  // Reads what is available (bounded), answers complete lines. false: the client was closed.
  bool read_client(Client& c);
  void process_lines(Client& c);
  void answer(Client& c, std::string_view line);
  // Writes pending output. false: the client was closed (error or done).
  bool flush_client(Client& c);
  void update_interest(Client& c);
  std::size_t pending_output(const Client& c) const noexcept { return c.out.size() - c.out_offset; }

  runtime::EventLoop& loop_;
  ControlServerConfig config_;
  CommandRegistry registry_;
  dev_t socket_dev_ = 0;
  ino_t socket_ino_ = 0;
  ControlServerCounters counters_;
  std::function<void(int)> on_stream_closed_;
  std::size_t streams_ = 0;
  StreamConnections<Client> connections_;  // last: its callbacks use the members above
};

}  // namespace poolreg::control
