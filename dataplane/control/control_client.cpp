#include "dataplane/control/control_client.hpp"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cstring>

namespace poolreg::control {
namespace {

constexpr std::size_t kMaxResponseBytes = 512u << 20;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// strerror_r (the GNU form, which returns the text): strerror is not thread-safe.
std::string error_text(int err) {
  char buffer[128];
  return ::strerror_r(err, buffer, sizeof buffer);
}

void set_error(ClientError* error, int err, std::string message) {
  if (error == nullptr) return;
  error->sys_errno = err;
  error->message = std::move(message);
}

// Waits for `events` on fd until deadline; false (with *error) on timeout or poll failure.
bool wait_for(int fd, short events, std::int64_t deadline, ClientError* error, const char* what) {
  for (int attempt = 0; attempt < 1000000; ++attempt) {  // bounded; EINTR retries only
    const std::int64_t left = deadline - now_ms();
    if (left <= 0) {
      set_error(error, ETIMEDOUT, std::string("timed out ") + what);
      return false;
    }
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) {
      set_error(error, errno, std::string("poll: ") + strerror(errno));
      return false;
    }
  }
  set_error(error, ETIMEDOUT, std::string("timed out ") + what);
  return false;
}

}  // namespace

ControlClient::~ControlClient() {
  if (fd_ >= 0) ::close(fd_);
}

std::unique_ptr<ControlClient> ControlClient::connect(const std::string& socket_path, int timeout_ms,
                                                      ClientError* error) {
  sockaddr_un addr{};
  if (socket_path.empty() || socket_path.size() >= sizeof(addr.sun_path)) {
    set_error(error, ENAMETOOLONG, "socket path is empty or too long");
    return nullptr;
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    set_error(error, errno, std::string("socket: ") + strerror(errno));
    return nullptr;
  }
  const std::int64_t deadline = now_ms() + timeout_ms;
  for (int attempt = 0;; ++attempt) {
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) break;
    const int err = errno;
    // A full backlog answers EAGAIN on a non-blocking Unix socket: retry until the deadline.
    if ((err == EAGAIN || err == EINTR) && now_ms() < deadline && attempt < 1000) {
      ::usleep(5000);
      continue;
    }
    std::string text = err == ENOENT ? "no such socket file" : strerror(err);
    for (auto& ch : text) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    set_error(error, err, text);
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<ControlClient>(new ControlClient(fd, timeout_ms));
}

std::optional<std::string> ControlClient::call_raw(std::string_view line, ClientError* error) {
  const std::int64_t deadline = now_ms() + timeout_ms_;
  std::string request(line);
  request.push_back('\n');
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_for(fd_, POLLOUT, deadline, error, "sending the request")) return std::nullopt;
      continue;
    }
    set_error(error, errno, std::string("send: ") + strerror(errno));
    return std::nullopt;
  }
  return read_line(deadline, "waiting for the response", /*stop_on_signal=*/false, error);
}

std::optional<std::string> ControlClient::next_line(int timeout_ms, ClientError* error) {
  // A signal ends the wait here: `poolctl events` stops on Ctrl-C between lines.
  return read_line(now_ms() + std::max(timeout_ms, 0), "waiting for the next line", /*stop_on_signal=*/true, error);
}

std::optional<std::string> ControlClient::read_line(std::int64_t deadline, const char* what, bool stop_on_signal,
                                                    ClientError* error) {
  for (int round = 0; round < 1000000; ++round) {  // bounded: each round waits or reads
    const std::size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string out = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return out;
    }
    if (buffer_.size() > kMaxResponseBytes) {
      set_error(error, EMSGSIZE, "response line too large");
      return std::nullopt;
    }
    const std::int64_t left = deadline - now_ms();
    if (left <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc < 0 && errno == EINTR && !stop_on_signal) continue;
    if (rc < 0) {
      const int err = errno;
      set_error(error, err, err == EINTR ? "interrupted" : "poll: " + error_text(err));
      return std::nullopt;
    }
    if (rc == 0) continue;
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), MSG_DONTWAIT);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) {
      set_error(error, ECONNRESET, "poolregd closed the connection");
      return std::nullopt;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || (errno == EINTR && !stop_on_signal)) continue;
    const int err = errno;
    set_error(error, err, err == EINTR ? "interrupted" : "recv: " + error_text(err));
    return std::nullopt;
  }
  set_error(error, ETIMEDOUT, std::string("timed out ") + what);
  return std::nullopt;
}

std::optional<nlohmann::json> ControlClient::call(std::string_view cmd, const nlohmann::json& args,
                                                  ClientError* error) {
  nlohmann::json request = {{"cmd", std::string(cmd)}, {"args", args.is_null() ? nlohmann::json::object() : args}};
  auto line = call_raw(request.dump(), error);
  if (!line) return std::nullopt;
  nlohmann::json response = nlohmann::json::parse(*line, nullptr, false);
  if (response.is_discarded() || !response.is_object() || !response.contains("ok")) {
    set_error(error, EPROTO, "malformed response from poolregd");
    return std::nullopt;
  }
  return response;
}

}  // namespace poolreg::control
