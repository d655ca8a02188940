// ControlClient: the blocking client side of the control socket protocol (command_registry.hpp),
// used by poolctl and the tests. One connection, one request at a time.
//
// Contract: not thread-safe (one thread per client); every call is bounded by the timeout given
// to connect(); errors are values (ClientError), never exceptions.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace poolreg::control {

struct ClientError {
  int sys_errno = 0;     // errno of the failing call (0 for protocol errors)
  std::string message;   // e.g. "connection refused", "timed out waiting for a response"
};

class ControlClient {
 public:
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  // Connects to the daemon's socket; nullptr with *error filled in on failure
  // (ENOENT: no socket file, ECONNREFUSED: nobody listens, EACCES: permission denied).
  static std::unique_ptr<ControlClient> connect(const std::string& socket_path, int timeout_ms, ClientError* error);

  // Sends {"cmd":cmd,"args":args} and returns the parsed response object ({"ok":...}).
  std::optional<nlohmann::json> call(std::string_view cmd, const nlohmann::json& args, ClientError* error);
  // Sends one raw line (a '\n' is appended) and returns the raw response line without '\n'.
  std::optional<std::string> call_raw(std::string_view line, ClientError* error);

  // The next line the daemon pushes on a stream (after `events`), without '\n'. Waits at most
  // timeout_ms (nullopt, sys_errno ETIMEDOUT); a signal ends the wait early (nullopt, EINTR) so
  // the caller can check its quit flag; the daemon closing the connection gives ECONNRESET.
  std::optional<std::string> next_line(int timeout_ms, ClientError* error);

  int fd() const noexcept { return fd_; }

 private:
  ControlClient(int fd, int timeout_ms) : fd_(fd), timeout_ms_(timeout_ms) {}
  // One '\n'-terminated line from buffer_ or the socket, waiting until deadline (ms, steady clock);
  // a signal interrupting the wait ends it only when stop_on_signal.
  std::optional<std::string> read_line(std::int64_t deadline, const char* what, bool stop_on_signal,
                                       ClientError* error);
  int fd_ = -1;
  int timeout_ms_ = 5000;
  std::string buffer_;  // bytes received after the last response line
};

}  // namespace poolreg::control
