#include "dataplane/control/metrics_http_server.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string_view>
#include <vector>

#include "dataplane/control/prometheus_text.hpp"

namespace poolreg::control {
namespace {

constexpr std::size_t kAcceptsPerEvent = 32;

}  // namespace

MetricsHttpServer::MetricsHttpServer(kernel::EventLoop& loop, MetricsHttpServerConfig config, BodyProvider provider)
    : loop_(loop), config_(std::move(config)), provider_(std::move(provider)) {}

MetricsHttpServer::~MetricsHttpServer() { stop(); }

bool MetricsHttpServer::start(std::string* error) {
  std::string scratch;
  if (error == nullptr) error = &scratch;
  if (listen_fd_ >= 0) return true;
  sockaddr_storage storage{};
  socklen_t length = 0;
  const bool v4 = config_.address.is_v4();
  if (v4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(config_.port);
    std::memcpy(&sin->sin_addr, config_.address.data(), 4);
    length = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(config_.port);
    std::memcpy(&sin6->sin6_addr, config_.address.data(), 16);
    length = sizeof(sockaddr_in6);
  }
  const std::string where = (v4 ? config_.address.to_string() : "[" + config_.address.to_string() + "]") + ":" +
                            std::to_string(config_.port);
  const int fd = ::socket(v4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + strerror(errno);
    return false;
  }
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (!v4) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&storage), length) != 0 || ::listen(fd, 64) != 0) {
    *error = "cannot listen on " + where + ": " + strerror(errno);
    ::close(fd);
    return false;
  }
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length);
  bound_port_ = ntohs(v4 ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                         : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  if (!loop_.add_fd(fd, EPOLLIN, [this](std::uint32_t) { on_accept(); })) {
    *error = std::string("cannot watch the metrics socket: ") + strerror(errno);
    ::close(fd);
    return false;
  }
  listen_fd_ = fd;
  if (config_.idle_timeout > 0) {
    const TimeNs period = std::clamp<TimeNs>(config_.idle_timeout / 4, 100 * kNsPerMs, 30 * kNsPerSec);
    idle_timer_ = loop_.schedule_every(period, [this] { sweep_idle(); });
  }
  return true;
}

void MetricsHttpServer::stop() {
  if (idle_timer_ != kernel::EventLoop::kNoTimer) {
    loop_.cancel(idle_timer_);
    idle_timer_ = kernel::EventLoop::kNoTimer;
  }
  std::vector<int> fds;
  for (const auto& [fd, c] : clients_) fds.push_back(fd);
  for (int fd : fds) close_client(fd);
  if (listen_fd_ >= 0) {
    loop_.remove_fd(listen_fd_);
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
}

void MetricsHttpServer::on_accept() {
  for (std::size_t i = 0; i < kAcceptsPerEvent; ++i) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (clients_.size() >= config_.max_clients) {
      ++counters_.refused;
      ::close(fd);
      continue;
    }
    if (!loop_.add_fd(fd, EPOLLIN, [this, fd](std::uint32_t ev) { on_client_event(fd, ev); })) {
      ::close(fd);
      continue;
    }
    auto c = std::make_unique<Client>();
    c->fd = fd;
    c->last_activity = loop_.now();
    clients_.emplace(fd, std::move(c));
  }
}

void MetricsHttpServer::on_client_event(int fd, std::uint32_t events) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  Client& c = *it->second;
  c.last_activity = loop_.now();
  if (c.responded) {
    if (events & EPOLLOUT) flush(c);
    else if (events & (EPOLLHUP | EPOLLERR)) close_client(fd);
    return;
  }
  char buffer[4096];
  for (int reads = 0; reads < 8; ++reads) {
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n > 0) {
      c.in.append(buffer, static_cast<std::size_t>(n));
      if (c.in.find("\r\n\r\n") != std::string::npos || c.in.find("\n\n") != std::string::npos ||
          c.in.size() > config_.max_request_bytes)
        break;
      continue;
    }
    if (n == 0) {  // closed before a whole request
      close_client(fd);
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    close_client(fd);
    return;
  }
  if (c.in.find("\r\n\r\n") == std::string::npos && c.in.find("\n\n") == std::string::npos) {
    if (c.in.size() > config_.max_request_bytes) {
      ++counters_.requests;
      ++counters_.bad_requests;
      respond(c, 431, "Request Header Fields Too Large", "text/plain; charset=utf-8", "request too large\n", false);
    }
    return;
  }
  handle_request(c);
}

void MetricsHttpServer::handle_request(Client& c) {
  ++counters_.requests;
  const std::size_t eol = c.in.find('\n');
  std::string_view line(c.in.data(), eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // "METHOD SP target SP HTTP/x.y"
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || !line.substr(sp2 + 1).starts_with("HTTP/")) {
    ++counters_.bad_requests;
    respond(c, 400, "Bad Request", "text/plain; charset=utf-8", "bad request\n", false);
    return;
  }
  const std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  if (target != "/metrics") {
    ++counters_.not_found;
    respond(c, 404, "Not Found", "text/plain; charset=utf-8", "not found; try /metrics\n", method == "HEAD");
    return;
  }
  if (method != "GET" && method != "HEAD") {
    ++counters_.bad_requests;
    respond(c, 405, "Method Not Allowed", "text/plain; charset=utf-8", "method not allowed\n", false);
    return;
  }
  ++counters_.scrapes;
  respond(c, 200, "OK", PrometheusText::kContentType, provider_ ? provider_() : std::string(), method == "HEAD");
}

void MetricsHttpServer::respond(Client& c, int status, const char* reason, const std::string& content_type,
                                const std::string& body, bool head_only) {
  c.responded = true;
  c.in.clear();
  c.out = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: " + content_type +
          "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n";
  if (status == 405) c.out += "Allow: GET, HEAD\r\n";
  c.out += "\r\n";
  if (!head_only) c.out += body;
  c.out_offset = 0;
  if (flush(c)) loop_.modify_fd(c.fd, EPOLLOUT);
}

bool MetricsHttpServer::flush(Client& c) {
  const int fd = c.fd;
  while (c.out_offset < c.out.size()) {
    const ssize_t n = ::send(fd, c.out.data() + c.out_offset, c.out.size() - c.out_offset, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.out_offset += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    close_client(fd);
    return false;
  }
  ::shutdown(fd, SHUT_WR);
  close_client(fd);
  return false;
}

void MetricsHttpServer::close_client(int fd) {
  loop_.remove_fd(fd);
  ::close(fd);
  clients_.erase(fd);
}

void MetricsHttpServer::sweep_idle() {
  const TimeNs now = loop_.now();
  std::vector<int> idle;
  for (const auto& [fd, c] : clients_)
    if (now > c->last_activity && now - c->last_activity >= config_.idle_timeout) idle.push_back(fd);
  for (int fd : idle) close_client(fd);
}

}  // namespace poolreg::control
