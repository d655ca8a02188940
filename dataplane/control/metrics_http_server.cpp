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

#include "dataplane/control/metrics_request.hpp"
#include "dataplane/control/prometheus_text.hpp"

namespace poolreg::control {
namespace {

constexpr std::size_t kAcceptsPerEvent = 32;

}  // namespace

MetricsHttpServer::MetricsHttpServer(runtime::EventLoop& loop, MetricsHttpServerConfig config, BodyProvider provider)
    : loop_(loop),
      config_(std::move(config)),
      provider_(std::move(provider)),
      connections_(loop, {config_.max_clients, kAcceptsPerEvent, config_.idle_timeout},
                   {.on_event = [this](int fd, std::uint32_t events) { on_client_event(fd, events); },
                    .on_refused = [this](int) { ++counters_.refused; },
                    .on_accepted = nullptr,
                    .on_idle_closed = nullptr,
                    .on_accept_paused = [this] { ++counters_.accept_pauses; },
                    .on_closed = nullptr}) {}

MetricsHttpServer::~MetricsHttpServer() { stop(); }

Expected<void, std::string> MetricsHttpServer::start() {
  if (connections_.listening()) return {};
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
  if (fd < 0) return unexpected(std::string("socket: ") + strerror(errno));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (!v4) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&storage), length) != 0 || ::listen(fd, 64) != 0) {
    auto failed = unexpected("cannot listen on " + where + ": " + strerror(errno));
    ::close(fd);
    return failed;
  }
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length);
  bound_port_ = ntohs(v4 ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                         : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  if (!connections_.listen(fd)) {
    auto failed = unexpected(std::string("cannot watch the metrics socket: ") + strerror(errno));
    ::close(fd);
    return failed;
  }
  return {};
}

void MetricsHttpServer::stop() { connections_.stop(); }

void MetricsHttpServer::on_client_event(int fd, std::uint32_t events) {
  Client* found = connections_.find(fd);
  if (found == nullptr) return;
  Client& c = *found;
  c.last_activity = loop_.now();
  if (c.responded) {
    if (events & EPOLLOUT) flush(c);
    else if (events & (EPOLLHUP | EPOLLERR)) connections_.close(fd);
    return;
  }
  char buffer[4096];
  for (int reads = 0; reads < 8; ++reads) {
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n > 0) {
      c.in.append(buffer, static_cast<std::size_t>(n));
      if (request_head_state(c.in, config_.max_request_bytes) != RequestHeadState::kIncomplete) break;
      continue;
    }
    if (n == 0) {  // closed before a whole request
      connections_.close(fd);
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    connections_.close(fd);
    return;
  }
  const RequestHeadState state = request_head_state(c.in, config_.max_request_bytes);
  if (state == RequestHeadState::kTooLarge) {
    ++counters_.requests;
    ++counters_.bad_requests;
    respond(c, 431, "Request Header Fields Too Large", "text/plain; charset=utf-8", "request too large\n", false);
    return;
  }
  if (state == RequestHeadState::kComplete) handle_request(c);
}

void MetricsHttpServer::handle_request(Client& c) {
  ++counters_.requests;
  const MetricsRequest r = classify_metrics_request(c.in);
  switch (r.verdict) {
    case MetricsVerdict::kBadRequest:
      ++counters_.bad_requests;
      respond(c, 400, "Bad Request", "text/plain; charset=utf-8", "bad request\n", false);
      return;
    case MetricsVerdict::kNotFound:
      ++counters_.not_found;
      respond(c, 404, "Not Found", "text/plain; charset=utf-8", "not found; try /metrics\n", r.head);
      return;
    case MetricsVerdict::kMethodNotAllowed:
      ++counters_.bad_requests;
      respond(c, 405, "Method Not Allowed", "text/plain; charset=utf-8", "method not allowed\n", false);
      return;
    case MetricsVerdict::kLiveness:
      ++counters_.probes;
      respond(c, 200, "OK", "text/plain; charset=utf-8", "ok\n", r.head);
      return;
    case MetricsVerdict::kReadiness: {
      ++counters_.probes;
      const auto [ready, why] = readiness_ ? readiness_() : std::pair<bool, std::string>{true, "ready"};
      if (!ready) ++counters_.not_ready;
      respond(c, ready ? 200 : 503, ready ? "OK" : "Service Unavailable", "text/plain; charset=utf-8", why + "\n",
              r.head);
      return;
    }
    case MetricsVerdict::kScrape: break;
  }
  ++counters_.scrapes;
  respond(c, 200, "OK", PrometheusText::kContentType, provider_ ? provider_() : std::string(), r.head);
}

void MetricsHttpServer::respond(Client& c, int status, const char* reason, const std::string& content_type,
                                const std::string& body, bool head_only) {
  c.responded = true;
  c.in.clear();
  c.out = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: " + content_type +
          "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n";
  if (status == 405) c.out += "Allow: GET, HEAD\r\n";
  c.out += "\r\n";
  if (!head_only) c.out += body;  // HEAD: the same head, Content-Length of the body, no body
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
    connections_.close(fd);
    return false;
  }
  ::shutdown(fd, SHUT_WR);
  connections_.close(fd);
  return false;
}

}  // namespace poolreg::control
