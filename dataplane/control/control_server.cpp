#include "dataplane/control/control_server.hpp"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <string_view>
#include <vector>

namespace poolreg::control {
namespace {

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::size_t kReadBudgetPerEvent = 256 * 1024;  // fairness between clients
constexpr std::size_t kAcceptsPerEvent = 64;

std::string errno_text(int err) { return std::string(strerror(err)); }

bool fill_address(const std::string& path, sockaddr_un& addr) {
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) return false;
  std::memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  return true;
}

// Directory mode for a socket with `socket_mode`: the owner always, group/others only the search
// bit (and read) when the socket grants them any access.
mode_t directory_mode(std::uint32_t socket_mode) {
  mode_t m = 0700;
  if (socket_mode & 0070) m |= 0050;
  if (socket_mode & 0007) m |= 0005;
  return m;
}

// mkdir -p for the parent of the socket; checks the final directory.
Expected<void, std::string> prepare_parent(const std::string& socket_path, std::uint32_t socket_mode) {
  const std::size_t slash = socket_path.rfind('/');
  const std::string parent = slash == 0 ? std::string("/") : socket_path.substr(0, slash);
  // Create missing components from the top.
  for (std::size_t pos = 1; pos <= parent.size(); ++pos) {
    if (pos != parent.size() && parent[pos] != '/') continue;
    const std::string part = parent.substr(0, pos);
    if (::mkdir(part.c_str(), directory_mode(socket_mode)) != 0 && errno != EEXIST) {
      return unexpected("cannot create directory " + part + ": " + errno_text(errno));
    }
  }
  struct stat st {};
  if (::lstat(parent.c_str(), &st) != 0) {
    return unexpected("cannot inspect directory " + parent + ": " + errno_text(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return unexpected(parent + " is not a directory");
  }
  const uid_t me = ::geteuid();
  if (st.st_uid != me && st.st_uid != 0) {
    return unexpected("directory " + parent + " belongs to uid " + std::to_string(st.st_uid) + ", not to us");
  }
  if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) {
    return unexpected("directory " + parent + " is writable by everyone");
  }
  return {};
}

// True when some process accepts connections on the socket file at `addr`.
bool socket_in_use(const sockaddr_un& addr) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const bool in_use = rc == 0 || errno == EAGAIN || errno == EINPROGRESS;
  ::close(fd);
  return in_use;
}

// The peer's credentials as the kernel recorded them at connect (SO_PEERCRED): who sent the
// requests on this connection, for the audit log of mutating commands.
CommandCaller peer_caller(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return {};
  return CommandCaller{cred.pid, cred.uid};
}

void send_best_effort(int fd, std::string_view text) {
  (void)!::send(fd, text.data(), text.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace

ControlServer::ControlServer(runtime::EventLoop& loop, ControlServerConfig config)
    : loop_(loop),
      config_(std::move(config)),
      connections_(loop, {config_.max_clients, kAcceptsPerEvent, config_.idle_timeout},
                   {.on_event = [this](int fd, std::uint32_t events) { on_client_event(fd, events); },
                    .on_refused =
                        [this](int fd) {
                          ++counters_.connections_refused;
                          send_best_effort(
                              fd, make_error(error_code::kUnavailable, "too many control connections").dump() + "\n");
                        },
                    .on_accepted = [this] { ++counters_.connections_accepted; },
                    .on_idle_closed = [this] { ++counters_.idle_closed; },
                    .on_accept_paused = [this] { ++counters_.accept_pauses; },
                    .on_closed =
                        [this](int fd) {
                          const Client* c = connections_.find(fd);
                          if (c == nullptr || !c->stream) return;
                          --streams_;
                          if (on_stream_closed_) on_stream_closed_(fd);
                        }}) {}

ControlServer::~ControlServer() { stop(); }

Expected<void, std::string> ControlServer::start() {
  if (connections_.listening()) return {};
  sockaddr_un addr{};
  if (config_.socket_path.empty() || config_.socket_path.front() != '/' || !fill_address(config_.socket_path, addr)) {
    return unexpected("control socket path '" + config_.socket_path + "' must be absolute and shorter than " +
                      std::to_string(sizeof(addr.sun_path)) + " bytes");
  }
  if (auto parent = prepare_parent(config_.socket_path, config_.socket_mode); !parent) return parent;

  struct stat st {};
  if (::lstat(config_.socket_path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return unexpected(config_.socket_path + " exists and is not a socket");
    }
    if (socket_in_use(addr)) {
      return unexpected("another process is serving " + config_.socket_path +
                        " (is poolregd already running?)");
    }
    if (::unlink(config_.socket_path.c_str()) != 0 && errno != ENOENT) {
      return unexpected("cannot remove stale socket " + config_.socket_path + ": " + errno_text(errno));
    }
  }

  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return unexpected("socket(AF_UNIX): " + errno_text(errno));
  }
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    auto failed = unexpected("cannot bind " + config_.socket_path + ": " + errno_text(errno));
    ::close(fd);
    return failed;
  }
  // bind() honours the umask; the configured bits are what counts.
  if (::chmod(config_.socket_path.c_str(), static_cast<mode_t>(config_.socket_mode & 07777)) != 0 ||
      ::listen(fd, 128) != 0 || ::stat(config_.socket_path.c_str(), &st) != 0) {
    auto failed = unexpected("cannot set up " + config_.socket_path + ": " + errno_text(errno));
    ::close(fd);
    ::unlink(config_.socket_path.c_str());
    return failed;
  }
  socket_dev_ = st.st_dev;
  socket_ino_ = st.st_ino;
  if (!connections_.listen(fd)) {
    auto failed = unexpected("cannot watch the control socket: " + errno_text(errno));
    ::close(fd);
    ::unlink(config_.socket_path.c_str());
    return failed;
  }
  return {};
}

void ControlServer::stop() {
  const bool was_listening = connections_.listening();
  connections_.stop();
  if (!was_listening) return;
  // Remove the file only if it is still ours (a second daemon may have replaced it).
  struct stat st {};
  if (::lstat(config_.socket_path.c_str(), &st) == 0 && st.st_dev == socket_dev_ && st.st_ino == socket_ino_)
    ::unlink(config_.socket_path.c_str());
}

bool ControlServer::start_stream(int connection, std::size_t max_unsent_bytes) {
  Client* c = connections_.find(connection);
  if (c == nullptr || c->stream) return false;
  c->stream.emplace(std::min(max_unsent_bytes, config_.max_pending_output_bytes));
  c->keep_open = true;
  ++streams_;
  ++counters_.streams_started;
  return true;
}

ControlServer::PushResult ControlServer::push(int connection, std::string_view line) {
  Client* c = connections_.find(connection);
  if (c == nullptr || !c->stream) return PushResult::kNoStream;
  const bool queued = c->stream->offer(c->out, pending_output(*c), line);
  if (!queued) ++counters_.stream_lines_dropped;
  update_interest(*c);  // EPOLLOUT: the loop writes it when the socket takes it
  return queued ? PushResult::kQueued : PushResult::kDropped;
}

void ControlServer::on_client_event(int fd, std::uint32_t events) {
  Client* found = connections_.find(fd);
  if (found == nullptr) return;
  Client& c = *found;
  c.last_activity = loop_.now();
  if (events & EPOLLOUT) {
    if (!flush_client(c)) return;
  }
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
    if (!read_client(c)) return;
  }
  update_interest(c);
}

bool ControlServer::read_client(Client& c) {
  const int fd = c.fd;
  std::size_t budget = kReadBudgetPerEvent;
  char buffer[kReadChunk];
  while (budget > 0 && !c.eof && !c.close_after_flush && pending_output(c) < config_.max_pending_output_bytes) {
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n > 0) {
      c.in.append(buffer, static_cast<std::size_t>(n));
      budget -= std::min(budget, static_cast<std::size_t>(n));
      process_lines(c);
      continue;
    }
    if (n == 0) {
      c.eof = true;
      process_lines(c);
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    connections_.close(fd);
    return false;
  }
  return flush_client(c);
}

void ControlServer::process_lines(Client& c) {
  if (c.stream) {  // a push stream takes no more requests
    c.in.clear();
    return;
  }
  std::size_t start = 0;
  while (!c.close_after_flush && pending_output(c) < config_.max_pending_output_bytes) {
    const std::size_t nl = c.in.find('\n', start);
    if (nl == std::string::npos) break;
    if (nl - start > config_.max_line_bytes) {
      start = c.in.size();
      ++counters_.oversize_lines;
      ++counters_.errors;
      c.out += make_error(error_code::kTooLarge, "request line longer than " + std::to_string(config_.max_line_bytes) +
                                                     " bytes; closing the connection")
                   .dump();
      c.out += '\n';
      c.close_after_flush = true;
      break;
    }
    answer(c, std::string_view(c.in).substr(start, nl - start));
    start = nl + 1;
    if (c.stream) {  // that request opened a push stream: the rest is not read as requests
      start = c.in.size();
      break;
    }
  }
  c.in.erase(0, start);
  if (c.close_after_flush) {
    c.in.clear();
    return;
  }
  if (c.in.size() > config_.max_line_bytes) {
    ++counters_.oversize_lines;
    ++counters_.errors;
    c.out += make_error(error_code::kTooLarge,
                        "request line longer than " + std::to_string(config_.max_line_bytes) + " bytes; closing the connection")
                 .dump();
    c.out += '\n';
    c.in.clear();
    c.close_after_flush = true;
    return;
  }
  // A last request without its newline before the client half-closed still gets an answer.
  if (c.eof && c.in.find('\n') == std::string::npos && pending_output(c) < config_.max_pending_output_bytes) {
    if (!c.in.empty()) answer(c, c.in);
    c.in.clear();
  }
}

void ControlServer::answer(Client& c, std::string_view line) {
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;  // blank line: no request
  ++counters_.requests;
  if (!c.caller) {
    c.caller = peer_caller(c.fd);
    c.caller->connection = c.fd;
  }
  std::string response = registry_.handle_line(line, *c.caller);
  if (response.size() > config_.max_response_bytes) {
    response = make_error(error_code::kTooLarge, "response of " + std::to_string(response.size()) +
                                                     " bytes exceeds the control socket limit of " +
                                                     std::to_string(config_.max_response_bytes) +
                                                     " bytes (ask for less, e.g. a smaller limit)")
                   .dump();
  }
  if (response.compare(0, 11, "{\"ok\":false") == 0) ++counters_.errors;
  c.out += response;
  c.out += '\n';
}

bool ControlServer::flush_client(Client& c) {
  const int fd = c.fd;
  // Two passes for a stream: the dropped record appended once the first drained the queue.
  for (int pass = 0; pass < 2; ++pass) {
    bool blocked = false;
    while (pending_output(c) > 0) {
      const ssize_t n = ::send(fd, c.out.data() + c.out_offset, pending_output(c), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        c.out_offset += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        blocked = true;
        break;
      }
      connections_.close(fd);  // EPIPE, ECONNRESET...
      return false;
    }
    if (!c.stream || !c.stream->on_drained(c.out, pending_output(c)) || blocked) break;
  }
  if (pending_output(c) == 0) {
    c.out.clear();
    c.out_offset = 0;
    // Output drained: requests that waited behind it can run now.
    if (!c.close_after_flush && !c.in.empty()) {
      process_lines(c);
      if (pending_output(c) > 0) return flush_client(c);
    }
    if (c.close_after_flush || (c.eof && c.in.empty())) {
      connections_.close(fd);
      return false;
    }
  } else if (c.out_offset > (1u << 20)) {
    c.out.erase(0, c.out_offset);
    c.out_offset = 0;
  }
  return true;
}

void ControlServer::update_interest(Client& c) {
  std::uint32_t want = 0;
  if (!c.eof && !c.close_after_flush && pending_output(c) < config_.max_pending_output_bytes) want |= EPOLLIN;
  if (pending_output(c) > 0) want |= EPOLLOUT;
  if (want != c.events) {
    loop_.modify_fd(c.fd, want);
    c.events = want;
  }
}

}  // namespace poolreg::control
