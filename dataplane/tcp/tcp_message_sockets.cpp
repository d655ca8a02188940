#include "dataplane/tcp/tcp_message_sockets.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "dataplane/runtime/socket_address.hpp"
#include "registrar/common/pe_distance.hpp"

namespace poolreg::tcp {

namespace {

// The kernel's smoothed RTT of the connection (TCP_INFO tcpi_rtt, microseconds; 0 when unknown):
// the DPF policies' distance over ASAP/ENRP on TCP, as the SCTP engine's SRTT is over SCTP.
std::uint32_t tcp_srtt_us(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return 0;
  return info.tcpi_rtt;
}

constexpr TimeNs kCloseLinger = 10 * kNsPerSec;

void set_nodelay(int fd) {
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

void set_reset_on_close(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

std::size_t min_length_for(WireProtocol p) {
  return p == WireProtocol::kEnrp ? TcpFrameReader::kEnrpMinLength : TcpFrameReader::kAsapMinLength;
}

}  // namespace

TcpMessageSockets::TcpMessageSockets(runtime::TransportShared& shared) : shared_(shared) {}

TcpMessageSockets::~TcpMessageSockets() {
  for (auto& [id, c] : connections_) {
    if (c->timer != runtime::EventLoop::kNoTimer) shared_.loop.cancel(c->timer);
    shared_.loop.remove_fd(c->fd);
    set_reset_on_close(c->fd);
    ::close(c->fd);
  }
  for (auto& [fd, l] : listeners_) {
    accept_pause_.forget(fd);
    shared_.loop.remove_fd(fd);
    ::close(fd);
  }
}

int TcpMessageSockets::open_socket(int family, bool mptcp) {
  if (mptcp) {
    int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, kIpProtoMptcp);
    if (fd >= 0) return fd;
    // EPROTONOSUPPORT / EINVAL / ENOPROTOOPT: kernel without MPTCP (nextgen.md §6.7): plain TCP.
    ++shared_.counters.mptcp_fallbacks;
  }
  return ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
}

runtime::ListenResult TcpMessageSockets::listen(WireProtocol protocol, std::span<const IpAddress> addresses, std::uint16_t port,
                                                bool mptcp, const std::shared_ptr<const TlsContext>& tls) {
  int error = 0;
  std::uint16_t bound = 0;
  // One socket per address (TCP has no multi-homing); empty = IPv6 any, dual-stack.
  std::vector<runtime::SocketAddress> binds;
  if (addresses.empty()) {
    binds.push_back(runtime::SocketAddress::any_v6(port));
  } else {
    for (const IpAddress& a : addresses) binds.push_back(runtime::SocketAddress::from(a, port));
  }
  std::vector<int> opened;
  for (runtime::SocketAddress& sa : binds) {
    int fd = open_socket(sa.family(), mptcp);
    if (fd < 0 && addresses.empty()) {
      sa = runtime::SocketAddress::any_v4(port);  // no IPv6 on this host
      fd = open_socket(AF_INET, mptcp);
    }
    if (fd < 0) {
      error = errno;
      break;
    }
    const int on = 1;
    const int off = 0;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (sa.family() == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    if (bound != 0) {
      // Port 0 with several addresses: bind the others to the port the first one got.
      sockaddr_in6* p6 = reinterpret_cast<sockaddr_in6*>(&sa.storage);
      p6->sin6_port = htons(bound);  // sin_port and sin6_port share the offset
    }
    if (::bind(fd, sa.get(), sa.length) != 0 || ::listen(fd, shared_.config.tcp_backlog) != 0) {
      error = errno;
      ::close(fd);
      break;
    }
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
    bound = runtime::port_of(reinterpret_cast<sockaddr*>(&local));
    opened.push_back(fd);
  }
  if (error != 0) {
    for (int fd : opened) ::close(fd);
    return runtime::listen_error(error, std::string("TCP listen: ") + std::strerror(error));
  }
  for (int fd : opened) {
    listeners_.emplace(fd, Listener{fd, protocol, tls});
    shared_.loop.add_fd(fd, EPOLLIN, [this, fd](std::uint32_t) { on_accept(fd); });
  }
  return bound;
}

TcpMessageSockets::Connection& TcpMessageSockets::add_connection(int fd, WireProtocol protocol, State state,
                                                                 bool outgoing) {
  auto c = std::make_unique<Connection>(Connection{
      .id = shared_.allocate_id(),
      .fd = fd,
      .state = state,
      .peer = {},
      .reader = TcpFrameReader(shared_.config.max_message_size, min_length_for(protocol)),
      .queue = OutboundQueue(shared_.config.max_queued_messages, shared_.config.max_queued_bytes),
  });
  c->peer.kind = TransportProtocol::kTcp;
  c->peer.protocol = protocol;
  c->peer.outgoing = outgoing;
  // An accepted TLS connection is handed out only once its handshake and identity check passed.
  c->reported = outgoing || state == State::kUp;
  const ConnectionId id = c->id;
  Connection& ref = *c;
  connections_.emplace(id, std::move(c));
  if (ref.reported) ++reported_open_;
  const std::uint32_t events = state == State::kConnecting ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
  shared_.loop.add_fd(fd, events, [this, id](std::uint32_t ev) { on_event(id, ev); });
  ref.want_write = state == State::kConnecting;
  return ref;
}

void TcpMessageSockets::on_accept(int listen_fd) {
  auto lit = listeners_.find(listen_fd);
  if (lit == listeners_.end()) return;
  const WireProtocol protocol = lit->second.protocol;
  const std::shared_ptr<const TlsContext> tls = lit->second.tls;
  // Bounded per pass so a connection storm cannot starve established connections.
  for (std::size_t i = 0; i < shared_.config.messages_per_pass; ++i) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors: the listener stays readable, so wait out a back-off instead of spinning
      // (the daemon logs the counter). Anything else (EAGAIN, ECONNABORTED): the next event.
      if (runtime::ListenerPause::is_resource_shortage(errno) && accept_pause_.pause(listen_fd))
        ++shared_.counters.accept_pauses;
      return;
    }
    set_nodelay(fd);
    std::unique_ptr<TlsSession> session;
    if (tls) {
      session = TlsSession::open(tls, fd, {});
      if (!session) {
        ++shared_.counters.tls_handshake_failures;
        set_reset_on_close(fd);
        ::close(fd);
        continue;
      }
    }
    Connection& c = add_connection(fd, protocol, tls ? State::kHandshaking : State::kUp, false);
    if (auto ip = runtime::ip_of(reinterpret_cast<sockaddr*>(&peer))) c.peer.addresses.push_back(*ip);
    c.peer.port = runtime::port_of(reinterpret_cast<sockaddr*>(&peer));
    ++shared_.counters.connections_accepted;
    if (session) {
      c.tls = std::move(session);
      start_handshake(c);  // reported by handshake_done()
      continue;
    }
    arm_first_message_timeout(c);
    const ConnectionId id = c.id;
    c.peer.srtt_us = tcp_srtt_us(c.fd);
    const ConnectionPeer peer_copy = c.peer;  // the handler may close the connection
    shared_.handler.on_connected(id, peer_copy);
    if (listeners_.count(listen_fd) == 0) return;  // close_all() from the handler
  }
}

ConnectionId TcpMessageSockets::connect(WireProtocol protocol, const IpAddress& address, std::uint16_t port, bool mptcp,
                                        std::shared_ptr<const TlsContext> tls, bool verify_ip) {
  runtime::SocketAddress sa = runtime::SocketAddress::from(address, port);
  int fd = open_socket(sa.family(), mptcp);
  if (fd < 0 || port == 0) {
    shared_.last_error = fd < 0 ? errno : EINVAL;
    if (fd >= 0) ::close(fd);
    ++shared_.counters.connect_failures;
    return kNoConnectionId;
  }
  set_nodelay(fd);
  int rc = ::connect(fd, sa.get(), sa.length);
  if (rc != 0 && errno != EINPROGRESS) {
    shared_.last_error = errno;
    ::close(fd);
    ++shared_.counters.connect_failures;
    return kNoConnectionId;
  }
  std::unique_ptr<TlsSession> session;
  if (tls) {
    session = TlsSession::open(std::move(tls), fd, verify_ip ? address.to_string() : std::string());
    if (!session) {
      shared_.last_error = ENOMEM;
      ::close(fd);
      ++shared_.counters.connect_failures;
      return kNoConnectionId;
    }
  }
  Connection& c = add_connection(fd, protocol, State::kConnecting, true);
  c.tls = std::move(session);
  c.peer.addresses.push_back(address);
  c.peer.port = port;
  const ConnectionId id = c.id;
  c.timer = shared_.loop.schedule_after(shared_.config.tcp_connect_timeout, [this, id] {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    it->second->timer = runtime::EventLoop::kNoTimer;
    if (it->second->state == State::kConnecting) end(id, runtime::CloseReason::kConnectFailed, true, ETIMEDOUT);
  });
  return id;
}

void TcpMessageSockets::on_event(ConnectionId id, std::uint32_t events) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& c = *it->second;
  if (c.state == State::kConnecting) {
    on_connect_done(c);
    return;
  }
  if (c.state == State::kHandshaking) {
    drive_handshake(c);
    return;
  }
  if ((events & EPOLLOUT) != 0) {
    if (!flush(c)) return;
  }
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) != 0) on_readable(id);
}

void TcpMessageSockets::on_connect_done(Connection& c) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) {
    end(c.id, runtime::CloseReason::kConnectFailed, false, err);
    return;
  }
  if (c.timer != runtime::EventLoop::kNoTimer) {
    shared_.loop.cancel(c.timer);
    c.timer = runtime::EventLoop::kNoTimer;
  }
  if (c.tls) {
    c.state = State::kHandshaking;
    start_handshake(c);  // on_connected once it is done
    return;
  }
  ++shared_.counters.connections_opened;
  bring_up(c);
}

TcpMessageSockets::Connection* TcpMessageSockets::bring_up(Connection& c) {
  c.state = State::kUp;
  const ConnectionId id = c.id;
  c.want_write = !c.queue.empty();
  shared_.loop.modify_fd(c.fd, EPOLLIN | EPOLLRDHUP | (c.want_write ? EPOLLOUT : 0u));
  c.peer.srtt_us = tcp_srtt_us(c.fd);
  const ConnectionPeer peer_copy = c.peer;  // the handler may close the connection
  shared_.handler.on_connected(id, peer_copy);
  // Messages sent while connecting (or handshaking) go out now.
  auto it = connections_.find(id);
  if (it == connections_.end()) return nullptr;
  if (!it->second->queue.empty() && !flush(*it->second)) return nullptr;
  return it->second.get();
}

void TcpMessageSockets::on_readable(ConnectionId id) {
  // Bounded per pass: at most messages_per_pass messages. More data in the socket brings
  // level-triggered epoll back; complete messages already buffered come back through defer().
  std::size_t budget = shared_.config.messages_per_pass;
  bool socket_may_have_more = true;
  for (;;) {
    for (;;) {
      auto it = connections_.find(id);
      if (it == connections_.end()) return;  // the handler closed it
      Connection& c = *it->second;
      if (c.state == State::kClosing) {
        // Closed by the application: discard what arrives until the connection ends.
        std::span<const std::uint8_t> ignored;
        while (c.reader.next(&ignored) == TcpFrameReader::Status::kMessage) {
        }
        break;
      }
      if (budget == 0) {
        if (c.reader.buffered() > 0) shared_.defer_guarded([this, id] { on_readable(id); });
        return;
      }
      std::span<const std::uint8_t> message;
      const TcpFrameReader::Status st = c.reader.next(&message);
      if (st == TcpFrameReader::Status::kNeedMore) {
        count_partial(c);
        break;
      }
      if (st == TcpFrameReader::Status::kBadLength) {
        ++shared_.counters.framing_errors;
        end(id, runtime::CloseReason::kFramingError, true);
        return;
      }
      ++shared_.counters.messages_received;
      --budget;
      note_message(c);
      runtime::MessageInfo info;
      info.protocol = c.peer.protocol;
      // One getsockopt only for the messages whose receiver reads it (a Registration, a Handle Update).
      if (!message.empty() && message_wants_path_rtt(info.protocol, message[0])) info.srtt_us = tcp_srtt_us(c.fd);
      shared_.handler.on_message(id, info, message);
    }
    if (!socket_may_have_more) return;
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    Connection& c = *it->second;
    const ssize_t n = c.reader.fill([&c](std::uint8_t* buf, std::size_t cap) { return read_some(c, buf, cap); });
    if (n == 0) {
      end(id, runtime::CloseReason::kPeerClosed, false);
      return;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      end(id, runtime::CloseReason::kCommLost, false);
      return;
    }
    shared_.counters.bytes_received += static_cast<std::uint64_t>(n);
    count_partial(c);
    // TLS: a record decrypted but not yet taken is not announced by the socket again. Taken
    // before the budget check, which may destroy `c` (the next round then finds it gone).
    socket_may_have_more = static_cast<std::size_t>(n) >= TcpFrameReader::kReadChunk || (c.tls && c.tls->has_pending());
    enforce_partial_budget();
  }
}

bool TcpMessageSockets::flush(Connection& c) {
  const ConnectionId id = c.id;
  while (!c.queue.empty()) {
    OutboundQueue::Item& item = c.queue.front();
    const std::size_t off = c.queue.front_offset();
    ssize_t n = write_some(c, item.bytes.data() + off, item.bytes.size() - off);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
      shared_.counters.send_failed += c.queue.size();
      c.queue.clear();
      end(id, runtime::CloseReason::kCommLost, false);
      return false;
    }
    shared_.counters.bytes_sent += static_cast<std::uint64_t>(n);
    c.queue.advance_front(static_cast<std::size_t>(n));
    if (c.queue.front_offset() == item.bytes.size()) {
      c.queue.pop();
      ++shared_.counters.messages_sent;
    }
  }
  if (c.queue.empty() && c.state == State::kClosing) {
    destroy(id, false);  // everything written: FIN
    return false;
  }
  update_interest(c);
  return true;
}

void TcpMessageSockets::update_interest(Connection& c) {
  // EPOLLOUT only until the connect completes; the handshake sets its own interest.
  if (c.state == State::kConnecting || c.state == State::kHandshaking) return;
  const bool want = !c.queue.empty();
  if (want == c.want_write) return;
  shared_.loop.modify_fd(c.fd, EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u));
  c.want_write = want;
}

runtime::SendResult TcpMessageSockets::send(ConnectionId id, std::span<const std::uint8_t> message) {
  auto it = connections_.find(id);
  if (it == connections_.end() || it->second->state == State::kClosing) {
    ++shared_.counters.send_failed;
    return runtime::SendResult::kNoConnection;
  }
  if (message.empty() || message.size() > shared_.config.max_message_size) {
    ++shared_.counters.send_failed;
    return runtime::SendResult::kTooBig;
  }
  Connection& c = *it->second;
  std::size_t written = 0;
  if (c.queue.empty() && c.state == State::kUp) {
    // One message per send() (nextgen.md §6.11: one message per segment keeps captures clean).
    ssize_t n = write_some(c, message.data(), message.size());
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        ++shared_.counters.send_failed;
        return runtime::SendResult::kError;  // the read side reports the failure as on_closed
      }
    } else {
      written = static_cast<std::size_t>(n);
      shared_.counters.bytes_sent += written;
      if (written == message.size()) {
        ++shared_.counters.messages_sent;
        return runtime::SendResult::kSent;
      }
    }
  }
  // A partly written message must be completed whatever the limits, or the stream breaks.
  if (!c.queue.push(WireProtocol::kAsap, message, /*force=*/written > 0)) {
    ++shared_.counters.send_dropped_queue_full;
    return runtime::SendResult::kQueueFull;
  }
  if (written > 0) c.queue.advance_front(written);
  ++shared_.counters.messages_queued;
  update_interest(c);
  return runtime::SendResult::kQueued;
}

void TcpMessageSockets::end(ConnectionId id, runtime::CloseReason reason, bool reset, int error) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  const State state = it->second->state;
  const bool reported = it->second->reported;
  destroy(id, reset);
  if (state == State::kClosing || !reported) return;  // already reported, or never handed out
  --reported_open_;
  if (state == State::kConnecting || state == State::kHandshaking) {
    ++shared_.counters.connect_failures;
    reason = runtime::CloseReason::kConnectFailed;
  }
  shared_.report_closed(id, reason, error);
}

void TcpMessageSockets::destroy(ConnectionId id, bool reset) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& c = *it->second;
  if (c.timer != runtime::EventLoop::kNoTimer) shared_.loop.cancel(c.timer);
  partial_total_ -= c.partial_counted;
  shared_.loop.remove_fd(c.fd);
  if (c.tls && !reset) c.tls->send_close_notify();
  if (reset) set_reset_on_close(c.fd);
  ::close(c.fd);
  connections_.erase(it);
}

void TcpMessageSockets::close(ConnectionId id, runtime::CloseReason reason_reported) {
  auto it = connections_.find(id);
  if (it == connections_.end() || it->second->state == State::kClosing) return;
  Connection& c = *it->second;
  if (!c.reported) {  // an accepted TLS connection still in its handshake: nobody knows its id
    destroy(id, true);
    return;
  }
  --reported_open_;
  shared_.report_closed_later(id, reason_reported);
  if (c.state == State::kConnecting || c.state == State::kHandshaking || c.queue.empty()) {
    destroy(id, c.state == State::kConnecting || c.state == State::kHandshaking);
    return;
  }
  // Pending bytes: keep writing, then FIN; give up (RST) after the linger time.
  c.state = State::kClosing;
  if (c.timer != runtime::EventLoop::kNoTimer) shared_.loop.cancel(c.timer);
  c.timer = shared_.loop.schedule_after(kCloseLinger, [this, id] {
    auto lit = connections_.find(id);
    if (lit == connections_.end()) return;
    lit->second->timer = runtime::EventLoop::kNoTimer;
    destroy(id, true);
  });
}

void TcpMessageSockets::abort(ConnectionId id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  if (it->second->state != State::kClosing && it->second->reported) {
    --reported_open_;
    shared_.report_closed_later(id, runtime::CloseReason::kLocalAbort);
  }
  shared_.counters.send_failed += it->second->queue.size();
  destroy(id, true);
}

const ConnectionPeer* TcpMessageSockets::peer_info(ConnectionId id) const {
  auto it = connections_.find(id);
  if (it == connections_.end() || it->second->state == State::kClosing || !it->second->reported) return nullptr;
  return &it->second->peer;
}

std::size_t TcpMessageSockets::queued_messages(ConnectionId id) const {
  auto it = connections_.find(id);
  return it == connections_.end() ? 0 : it->second->queue.size();
}

std::size_t TcpMessageSockets::replace_tls(const TlsContext* old, const std::shared_ptr<const TlsContext>& next) {
  if (old == nullptr || !next) return 0;
  std::size_t switched = 0;
  for (auto& [fd, l] : listeners_) {
    if (l.tls.get() != old) continue;
    l.tls = next;
    ++switched;
  }
  return switched;
}

void TcpMessageSockets::close_all(runtime::CloseReason reason) {
  std::vector<ConnectionId> ids;
  for (auto& [id, c] : connections_) {
    if (c->state != State::kClosing) ids.push_back(id);
  }
  for (ConnectionId id : ids) close(id, reason);
  for (auto& [fd, l] : listeners_) {
    accept_pause_.forget(fd);
    shared_.loop.remove_fd(fd);
    ::close(fd);
  }
  listeners_.clear();
}

// ------------------------------------------------------------------------------ quotas (issue 17)

void TcpMessageSockets::arm_first_message_timeout(Connection& c) {
  if (shared_.config.first_message_timeout <= 0) {
    c.message_seen = true;  // nothing to watch
    return;
  }
  const ConnectionId id = c.id;
  c.timer = shared_.loop.schedule_after(shared_.config.first_message_timeout, [this, id] {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    it->second->timer = runtime::EventLoop::kNoTimer;
    if (it->second->message_seen || it->second->state != State::kUp) return;
    // Silent or trickling since it came up: it holds a descriptor (and maybe a partial frame)
    // that real clients need.
    ++shared_.counters.first_message_timeouts;
    end(id, runtime::CloseReason::kQuotaExceeded, true);
  });
}

void TcpMessageSockets::note_message(Connection& c) {
  if (c.message_seen) return;
  c.message_seen = true;
  if (c.timer != runtime::EventLoop::kNoTimer && c.state == State::kUp) {
    shared_.loop.cancel(c.timer);
    c.timer = runtime::EventLoop::kNoTimer;
  }
}

void TcpMessageSockets::count_partial(Connection& c) {
  const std::size_t now_held = c.reader.buffered();
  if (now_held != 0 && c.partial_counted == 0) c.partial_since = shared_.loop.now();
  partial_total_ = partial_total_ - c.partial_counted + now_held;
  c.partial_counted = now_held;
}

void TcpMessageSockets::enforce_partial_budget() {
  const std::size_t budget = shared_.config.partial_frame_budget;
  while (budget != 0 && partial_total_ > budget) {
    // The largest holder first (it frees the most), the oldest among equals: a client trickling
    // one big frame goes before the many that hold a few bytes for a moment.
    const Connection* victim = nullptr;
    for (const auto& [id, c] : connections_) {
      if (c->partial_counted == 0) continue;
      if (victim == nullptr || c->partial_counted > victim->partial_counted ||
          (c->partial_counted == victim->partial_counted && c->partial_since < victim->partial_since))
        victim = c.get();
    }
    if (victim == nullptr) return;
    ++shared_.counters.partial_frame_budget_resets;
    end(victim->id, runtime::CloseReason::kQuotaExceeded, true);
  }
}

}  // namespace poolreg::tcp

namespace poolreg::tcp {

// ------------------------------------------------------------------------------ TLS (RFC 5355)

ssize_t TcpMessageSockets::read_some(Connection& c, std::uint8_t* buffer, std::size_t capacity) {
  return c.tls ? c.tls->read(buffer, capacity) : ::recv(c.fd, buffer, capacity, 0);
}

ssize_t TcpMessageSockets::write_some(Connection& c, const std::uint8_t* data, std::size_t length) {
  return c.tls ? c.tls->write(data, length) : ::send(c.fd, data, length, MSG_NOSIGNAL);
}

void TcpMessageSockets::start_handshake(Connection& c) {
  const ConnectionId id = c.id;
  if (c.timer != runtime::EventLoop::kNoTimer) shared_.loop.cancel(c.timer);
  c.timer = shared_.loop.schedule_after(shared_.config.tls_handshake_timeout, [this, id] {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    it->second->timer = runtime::EventLoop::kNoTimer;
    if (it->second->state != State::kHandshaking) return;
    // A client that connects and says nothing (or too slowly) holds a descriptor real peers need.
    ++shared_.counters.tls_handshake_timeouts;
    end(id, runtime::CloseReason::kConnectFailed, true, ETIMEDOUT);
  });
  drive_handshake(c);
}

void TcpMessageSockets::drive_handshake(Connection& c) {
  std::string reason;
  const TlsSession::Step step = c.tls->handshake(&reason);
  if (step == TlsSession::Step::kDone) {
    handshake_done(c);
    return;
  }
  if (step == TlsSession::Step::kFailed) {
    // Wrong CA, no certificate where one is required, plain TCP bytes, an alert from the peer.
    ++shared_.counters.tls_handshake_failures;
    shared_.last_tls_failure = std::move(reason);
    end(c.id, runtime::CloseReason::kConnectFailed, true, ECONNREFUSED);
    return;
  }
  const bool want_write = step == TlsSession::Step::kWantWrite;
  if (want_write != c.want_write) {
    shared_.loop.modify_fd(c.fd, EPOLLIN | EPOLLRDHUP | (want_write ? EPOLLOUT : 0u));
    c.want_write = want_write;
  }
}

void TcpMessageSockets::handshake_done(Connection& c) {
  if (c.timer != runtime::EventLoop::kNoTimer) {
    shared_.loop.cancel(c.timer);
    c.timer = runtime::EventLoop::kNoTimer;
  }
  std::string identity;
  if (!c.tls->identity_allowed(&identity)) {
    ++shared_.counters.tls_identity_refused;
    shared_.last_tls_failure = "peer identity not allowed: " + (identity.empty() ? std::string("no certificate") : identity);
    end(c.id, runtime::CloseReason::kConnectFailed, true, EACCES);
    return;
  }
  ++shared_.counters.tls_handshakes;
  if (c.peer.outgoing) {
    ++shared_.counters.connections_opened;
  } else {
    c.reported = true;
    ++reported_open_;
    arm_first_message_timeout(c);
  }
  const ConnectionId id = c.id;
  Connection* up = bring_up(c);
  // Application data that came with the handshake's last flight is already inside OpenSSL.
  if (up != nullptr && up->tls->has_pending()) on_readable(id);
}

}  // namespace poolreg::tcp
