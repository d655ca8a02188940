#include "dataplane/kernel/sctp_message_sockets.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "dataplane/kernel/socket_address.hpp"
#include "dataplane/sctp/usrsctp_tunables.hpp"

namespace poolreg::kernel {

namespace {

constexpr TimeNs kCloseLinger = 10 * kNsPerSec;  // a closing association is aborted after this
constexpr TimeNs kFlushRetry = 20 * kNsPerMs;    // safety net when no write upcall arrives

std::optional<WireProtocol> protocol_of_ppid(std::uint32_t ppid) {
  if (ppid == kAsapPpid || ppid == kAsapLegacyPpid) return WireProtocol::kAsap;
  if (ppid == kEnrpPpid || ppid == kEnrpLegacyPpid) return WireProtocol::kEnrp;
  return std::nullopt;
}

int family_for(std::span<const IpAddress> addresses) {
  if (addresses.empty()) return AF_INET6;
  for (const IpAddress& a : addresses) {
    if (!a.is_v4()) return AF_INET6;
  }
  return AF_INET;
}

// usrsctp_bindx / usrsctp_connectx take the addresses packed back to back.
std::vector<std::uint8_t> pack_addresses(std::span<const IpAddress> addresses, std::uint16_t port, int family) {
  std::vector<std::uint8_t> packed;
  for (const IpAddress& a : addresses) {
    SocketAddress sa = SocketAddress::from(a, port);
    if (family == AF_INET6 && a.is_v4()) {
      // An IPv6 socket takes IPv4 peers as v4-mapped addresses.
      std::array<std::uint8_t, 16> mapped{};
      mapped[10] = 0xff;
      mapped[11] = 0xff;
      std::memcpy(mapped.data() + 12, a.data(), 4);
      sa = SocketAddress::from(IpAddress::v6(mapped), port);
    }
    const auto* p = reinterpret_cast<const std::uint8_t*>(&sa.storage);
    packed.insert(packed.end(), p, p + sa.length);
  }
  return packed;
}

bool would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS; }

}  // namespace

SctpMessageSockets::SctpMessageSockets(TransportShared& shared, SctpStack* stack) : shared_(shared), stack_(stack) {
  rx_buffer_.resize(std::max<std::size_t>(shared_.config.max_message_size, 4096) + 4);
  if (stack_ == nullptr) return;
  sink_ = std::make_shared<SctpUpcallSink>();
  stack_->retain(sink_);
  if (sink_->fd() < 0) return;
  shared_.loop.add_fd(sink_->fd(), EPOLLIN, [this](std::uint32_t) { on_ready(); });
}

SctpMessageSockets::~SctpMessageSockets() {
  if (flush_timer_ != runtime::EventLoop::kNoTimer) shared_.loop.cancel(flush_timer_);
  for (auto& [id, c] : connections_) {
    if (c.linger_timer != runtime::EventLoop::kNoTimer) shared_.loop.cancel(c.linger_timer);
  }
  if (sink_ != nullptr) {
    if (sink_->fd() >= 0) shared_.loop.remove_fd(sink_->fd());
    sink_->detach();
  }
  // Abort every association explicitly, then close the sockets normally. (SO_LINGER 0 before
  // usrsctp_close() would abort them too, but with usrsctp 0.9.5 it leaves the endpoint behind
  // and usrsctp_finish() then never succeeds.)
  for (auto& [id, c] : connections_) {
    if (Socket* s = find_socket(c.socket_key)) send_control(*s, c.assoc, SCTP_ABORT);
  }
  for (auto& [key, s] : sockets_) {
    usrsctp_set_upcall(s->so, &SctpUpcallSink::upcall, nullptr);  // upcall with no target: no-op
    usrsctp_close(s->so);
  }
  sockets_.clear();
  connections_.clear();
}

SctpMessageSockets::Socket* SctpMessageSockets::find_socket(std::uint64_t key) {
  auto it = sockets_.find(key);
  return it == sockets_.end() ? nullptr : it->second.get();
}

SctpMessageSockets::Connection* SctpMessageSockets::find(ConnectionId id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : &it->second;
}

const SctpMessageSockets::Connection* SctpMessageSockets::find(ConnectionId id) const {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : &it->second;
}

SctpMessageSockets::Socket* SctpMessageSockets::open_socket(WireProtocol protocol, int family, bool listener) {
  struct socket* so = usrsctp_socket(family, SOCK_SEQPACKET, IPPROTO_SCTP, nullptr, nullptr, 0, nullptr);
  if (so == nullptr) return nullptr;
  usrsctp_set_non_blocking(so, 1);
  const int on = 1;
  usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on);
  usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof on);
  sctp_initmsg init{};
  init.sinit_num_ostreams = shared_.config.sctp_streams;
  init.sinit_max_instreams = 65535;
  usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof init);
  for (std::uint16_t type : {SCTP_ASSOC_CHANGE, SCTP_PEER_ADDR_CHANGE, SCTP_SHUTDOWN_EVENT}) {
    sctp_event ev{};
    ev.se_assoc_id = SCTP_FUTURE_ASSOC;
    ev.se_type = type;
    ev.se_on = 1;
    if (usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev) != 0) {
      usrsctp_close(so);
      return nullptr;
    }
  }
  auto s = std::make_unique<Socket>();
  s->key = next_socket_key_++;
  s->so = so;
  s->protocol = protocol;
  s->listener = listener;
  s->family = family;
  Socket* raw = s.get();
  sockets_.emplace(raw->key, std::move(s));
  usrsctp_set_upcall(so, &SctpUpcallSink::upcall, sink_->target_for(raw->key));
  return raw;
}

void SctpMessageSockets::close_socket(std::uint64_t key) {
  Socket* s = find_socket(key);
  if (s == nullptr) return;
  usrsctp_set_upcall(s->so, &SctpUpcallSink::upcall, nullptr);  // upcall with no target: no-op
  usrsctp_close(s->so);
  sockets_.erase(key);
}

SctpMessageSockets::Socket* SctpMessageSockets::client_socket(WireProtocol protocol, int family) {
  // Prefer the listener of the protocol: outgoing associations then come from 3863 / 9901 (a PE's
  // ASAP endpoint port stays the one a takeover PR must reach).
  for (auto& [key, s] : sockets_) {
    if (s->listener && s->protocol == protocol && (s->family == family || s->family == AF_INET6)) return s.get();
  }
  // Otherwise a fresh socket per association (usrsctp sockets are not kernel fds, so this is
  // cheap), closed when its association ends: one transport may then hold several associations
  // to the same peer endpoint (e.g. many simulated PEs towards one PR).
  Socket* s = open_socket(protocol, family, false);
  if (s != nullptr) s->dedicated = true;
  return s;
}

void SctpMessageSockets::release_if_unused(std::uint64_t key) {
  Socket* s = find_socket(key);
  if (s == nullptr || !s->dedicated || !s->assocs.empty() || s->release_pending) return;
  // Deferred: we may be inside a notification handler that still holds a reference to the socket.
  s->release_pending = true;
  shared_.defer_guarded([this, key] {
    Socket* d = find_socket(key);
    if (d == nullptr) return;
    d->release_pending = false;
    if (d->assocs.empty()) close_socket(key);
  });
}

runtime::ListenResult SctpMessageSockets::listen(WireProtocol protocol, std::span<const IpAddress> addresses, std::uint16_t port) {
  if (!available()) return runtime::listen_error(ENOTSUP, "no SCTP stack");
  const int family = family_for(addresses);
  Socket* s = open_socket(protocol, family, true);
  if (s == nullptr) return runtime::listen_error(errno, "usrsctp_socket failed");
  int rc;
  if (addresses.empty()) {
    SocketAddress any = SocketAddress::any_v6(port);
    rc = usrsctp_bind(s->so, any.get(), any.length);
  } else {
    std::vector<std::uint8_t> packed = pack_addresses(addresses, port, family);
    rc = usrsctp_bindx(s->so, reinterpret_cast<sockaddr*>(packed.data()), static_cast<int>(addresses.size()),
                       SCTP_BINDX_ADD_ADDR);
  }
  if (rc != 0 || usrsctp_listen(s->so, shared_.config.tcp_backlog) != 0) {
    const int e = errno;
    close_socket(s->key);
    return runtime::listen_error(e, std::string("bind/listen: ") + std::strerror(e));
  }
  std::uint16_t bound = 0;
  sockaddr* local = nullptr;
  int n = usrsctp_getladdrs(s->so, 0, &local);
  if (n > 0 && local != nullptr) bound = port_of(local);
  if (local != nullptr) usrsctp_freeladdrs(local);
  return bound != 0 ? bound : port;
}

ConnectionId SctpMessageSockets::connect(WireProtocol protocol, std::span<const IpAddress> addresses, std::uint16_t port,
                                         std::uint16_t remote_udp_port) {
  if (!available() || addresses.empty() || port == 0) {
    ++shared_.counters.connect_failures;
    return kNoConnectionId;
  }
  const int family = family_for(addresses);
  Socket* s = client_socket(protocol, family);
  if (s == nullptr) {
    ++shared_.counters.connect_failures;
    return kNoConnectionId;
  }
  // The remote encapsulation port for associations this socket creates next (RFC 6951); accepted
  // associations learn the port from the peer's packets instead.
  sctp_udpencaps encaps{};
  encaps.sue_address.ss_family = static_cast<sa_family_t>(s->family);
  encaps.sue_assoc_id = SCTP_FUTURE_ASSOC;
  encaps.sue_port = htons(remote_udp_port != 0 ? remote_udp_port : shared_.config.default_remote_udp_port);
  usrsctp_setsockopt(s->so, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &encaps, sizeof encaps);

  std::vector<std::uint8_t> packed = pack_addresses(addresses, port, s->family);
  sctp_assoc_t assoc = 0;
  int rc = usrsctp_connectx(s->so, reinterpret_cast<sockaddr*>(packed.data()), static_cast<int>(addresses.size()),
                            &assoc);
  if (rc == 0 || errno == EINPROGRESS) {
    if (assoc == 0) assoc = usrsctp_getassocid(s->so, reinterpret_cast<sockaddr*>(packed.data()));
  } else {
    assoc = 0;
  }
  if (assoc == 0 || s->assocs.count(assoc) != 0) {
    ++shared_.counters.connect_failures;
    if (s->dedicated && s->assocs.empty()) close_socket(s->key);
    return kNoConnectionId;
  }
  const ConnectionId id = shared_.allocate_id();
  Connection c(shared_.config);
  c.id = id;
  c.socket_key = s->key;
  c.assoc = assoc;
  c.state = State::kConnecting;
  c.peer.kind = TransportProtocol::kSctp;
  c.peer.protocol = protocol;
  c.peer.outgoing = true;
  c.peer.addresses.assign(addresses.begin(), addresses.end());
  c.peer.port = port;
  c.peer.udp_encapsulation_port = ntohs(encaps.sue_port);
  connections_.emplace(id, std::move(c));
  s->assocs.emplace(assoc, id);
  ++reported_open_;
  return id;
}

void SctpMessageSockets::on_ready() {
  sink_->take(ready_scratch_);
  std::vector<std::uint64_t> keys;
  keys.swap(ready_scratch_);
  for (std::uint64_t key : keys) drain(key);
  keys.clear();
  ready_scratch_.swap(keys);  // keep the capacity
  // Writability is signalled by the same upcall: retry the connections that have a queue.
  flush_pending();
}

void SctpMessageSockets::drain(std::uint64_t key) {
  std::size_t budget = shared_.config.messages_per_pass;
  while (budget-- > 0) {
    Socket* s = find_socket(key);  // the handler may have closed sockets (close_all)
    if (s == nullptr) return;
    sctp_recvv_rn rn{};
    socklen_t infolen = sizeof rn;
    unsigned int infotype = 0;
    int flags = 0;
    sockaddr_storage from{};
    socklen_t fromlen = sizeof from;
    ssize_t n = usrsctp_recvv(s->so, rx_buffer_.data(), rx_buffer_.size(), reinterpret_cast<sockaddr*>(&from),
                              &fromlen, &rn, &infolen, &infotype, &flags);
    if (n < 0) return;  // EWOULDBLOCK: drained (other errors: nothing more to read either)
    if (n == 0 && (flags & MSG_NOTIFICATION) == 0 && (flags & MSG_EOR) == 0) return;
    if ((flags & MSG_NOTIFICATION) != 0) {
      ++shared_.counters.notifications;
      if ((flags & MSG_EOR) != 0) handle_notification(*s, rx_buffer_.data(), static_cast<std::size_t>(n));
      continue;
    }
    const bool has_info = infotype == SCTP_RECVV_RCVINFO || infotype == SCTP_RECVV_RN;
    handle_data(*s, rn.recvv_rcvinfo, has_info, flags, static_cast<std::size_t>(n));
  }
  // Budget used up: come back on the next pass after other sockets and timers had their turn.
  sink_->mark_ready(key);
}

void SctpMessageSockets::handle_data(Socket& s, const sctp_rcvinfo& info, bool has_info, int flags, std::size_t n) {
  if (!has_info) return;
  auto it = s.assocs.find(info.rcv_assoc_id);
  if (it == s.assocs.end()) return;
  Connection* c = find(it->second);
  if (c == nullptr || c->state == State::kClosing) return;  // the application closed it: drop

  std::span<const std::uint8_t> bytes(rx_buffer_.data(), n);
  const std::size_t max = shared_.config.max_message_size;
  if ((flags & MSG_EOR) == 0 || !c->partial.empty() || c->partial_oversize) {
    // Partial delivery: collect until end of record, bounded by the maximum message size.
    if (!c->partial_oversize) {
      if (c->partial.size() + n > max) {
        c->partial_oversize = true;
        c->partial.clear();
      } else {
        c->partial.insert(c->partial.end(), bytes.begin(), bytes.end());
      }
    }
    if ((flags & MSG_EOR) == 0) return;
    if (c->partial_oversize) {
      c->partial_oversize = false;
      ++shared_.counters.oversize_messages;
      return;
    }
    std::vector<std::uint8_t> whole;
    whole.swap(c->partial);
    runtime::MessageInfo mi;
    mi.ppid = ntohl(info.rcv_ppid);
    mi.stream = info.rcv_sid;
    auto protocol = protocol_of_ppid(mi.ppid);
    if (!protocol) {
      ++shared_.counters.unknown_ppid;
      shared_.handler.on_unknown_ppid(c->id, mi.ppid);
      return;
    }
    mi.protocol = *protocol;
    deliver(*c, mi, whole);
    return;
  }
  if (n > max) {
    ++shared_.counters.oversize_messages;
    return;
  }
  runtime::MessageInfo mi;
  mi.ppid = ntohl(info.rcv_ppid);
  mi.stream = info.rcv_sid;
  auto protocol = protocol_of_ppid(mi.ppid);
  if (!protocol) {
    ++shared_.counters.unknown_ppid;
    shared_.handler.on_unknown_ppid(c->id, mi.ppid);
    return;
  }
  mi.protocol = *protocol;
  deliver(*c, mi, bytes);
}

void SctpMessageSockets::deliver(Connection& c, const runtime::MessageInfo& info, std::span<const std::uint8_t> bytes) {
  ++shared_.counters.messages_received;
  shared_.counters.bytes_received += bytes.size();
  if (info.protocol != c.peer.protocol) ++shared_.counters.wrong_ppid;
  // c may be gone after this call (the handler may abort it).
  shared_.handler.on_message(c.id, info, bytes);
}

void SctpMessageSockets::handle_notification(Socket& s, const std::uint8_t* data, std::size_t n) {
  std::uint16_t type;
  if (n < sizeof type) return;
  std::memcpy(&type, data, sizeof type);  // sn_header.sn_type, host order
  switch (type) {
    case SCTP_ASSOC_CHANGE: {
      if (n < sizeof(sctp_assoc_change)) return;
      sctp_assoc_change change;
      std::memcpy(&change, data, sizeof change);
      on_assoc_change(s, change);
      break;
    }
    case SCTP_SHUTDOWN_EVENT: {
      if (n < sizeof(sctp_shutdown_event)) return;
      sctp_shutdown_event ev;
      std::memcpy(&ev, data, sizeof ev);
      assoc_gone(s, ev.sse_assoc_id, runtime::CloseReason::kPeerClosed);
      break;
    }
    case SCTP_PEER_ADDR_CHANGE: {
      if (n < sizeof(sctp_paddr_change)) return;
      sctp_paddr_change ev;
      std::memcpy(&ev, data, sizeof ev);
      auto it = s.assocs.find(ev.spc_assoc_id);
      if (it == s.assocs.end()) return;
      Connection* c = find(it->second);
      if (c != nullptr && c->state == State::kUp) refresh_peer(s, *c);
      break;
    }
    default:
      break;
  }
}

void SctpMessageSockets::on_assoc_change(Socket& s, const sctp_assoc_change& change) {
  const sctp::AssocChangeAction action = sctp::assoc_change_action(change.sac_state);
  if (action.kind == sctp::AssocChangeAction::Kind::kUp) assoc_up(s, change.sac_assoc_id, action.restart);
  else if (action.kind == sctp::AssocChangeAction::Kind::kGone) assoc_gone(s, change.sac_assoc_id, action.reason);
}

void SctpMessageSockets::assoc_up(Socket& s, sctp_assoc_t assoc, bool restart) {
  auto it = s.assocs.find(assoc);
  if (it != s.assocs.end()) {
    Connection* c = find(it->second);
    if (c == nullptr) {
      s.assocs.erase(it);
    } else if (c->state == State::kConnecting && !restart) {
      c->state = State::kUp;
      refresh_peer(s, *c);
      ++shared_.counters.connections_opened;
      shared_.handler.on_connected(c->id, c->peer);
      return;
    } else if (c->state == State::kClosing) {
      return;  // closed by the application before it came up; the shutdown proceeds
    } else {
      // Peer restart: the old association's state (and registrations) is gone.
      assoc_gone(s, assoc, runtime::CloseReason::kPeerRestarted);
    }
  }
  const ConnectionId id = shared_.allocate_id();
  Connection c(shared_.config);
  c.id = id;
  c.socket_key = s.key;
  c.assoc = assoc;
  c.state = State::kUp;
  c.peer.kind = TransportProtocol::kSctp;
  c.peer.protocol = s.protocol;
  c.peer.outgoing = false;
  auto [cit, inserted] = connections_.emplace(id, std::move(c));
  s.assocs[assoc] = id;
  refresh_peer(s, cit->second);
  ++reported_open_;
  ++shared_.counters.connections_accepted;
  shared_.handler.on_connected(id, cit->second.peer);
}

void SctpMessageSockets::assoc_gone(Socket& s, sctp_assoc_t assoc, runtime::CloseReason reason) {
  auto it = s.assocs.find(assoc);
  if (it == s.assocs.end()) return;
  const ConnectionId id = it->second;
  Connection* c = find(id);
  if (c == nullptr) {
    s.assocs.erase(it);
    return;
  }
  const State state = c->state;
  forget(id);
  if (state == State::kClosing) return;  // already reported to the application
  --reported_open_;
  if (state == State::kConnecting) {
    ++shared_.counters.connect_failures;
    reason = runtime::CloseReason::kConnectFailed;
  }
  shared_.report_closed(id, reason);
}

void SctpMessageSockets::forget(ConnectionId id) {
  Connection* c = find(id);
  if (c == nullptr) return;
  if (c->linger_timer != runtime::EventLoop::kNoTimer) shared_.loop.cancel(c->linger_timer);
  if (Socket* s = find_socket(c->socket_key)) {
    auto it = s->assocs.find(c->assoc);
    if (it != s->assocs.end() && it->second == id) s->assocs.erase(it);
  }
  pending_.erase(id);
  const std::uint64_t key = c->socket_key;
  connections_.erase(id);
  release_if_unused(key);
}

void SctpMessageSockets::refresh_peer(Socket& s, Connection& c) {
  sockaddr* addrs = nullptr;
  int n = usrsctp_getpaddrs(s.so, c.assoc, &addrs);
  if (n > 0 && addrs != nullptr) {
    c.peer.addresses.clear();
    const auto* p = reinterpret_cast<const std::uint8_t*>(addrs);
    for (int i = 0; i < n; ++i) {
      const auto* sa = reinterpret_cast<const sockaddr*>(p);
      const socklen_t len = sockaddr_length(sa);
      if (len == 0) break;
      if (auto ip = ip_of(sa)) {
        c.peer.addresses.push_back(*ip);
        c.peer.port = port_of(sa);
      }
      p += len;
    }
  }
  if (addrs != nullptr) usrsctp_freepaddrs(addrs);
  if (!c.peer.addresses.empty()) {
    sctp_udpencaps encaps{};
    encaps.sue_assoc_id = c.assoc;
    SocketAddress first = SocketAddress::from(c.peer.addresses.front(), c.peer.port);
    std::memcpy(&encaps.sue_address, &first.storage, first.length);
    socklen_t len = sizeof encaps;
    if (usrsctp_getsockopt(s.so, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &encaps, &len) == 0) {
      c.peer.udp_encapsulation_port = ntohs(encaps.sue_port);
    }
  }
}

ssize_t SctpMessageSockets::send_raw(Socket& s, sctp_assoc_t assoc, WireProtocol protocol, const std::uint8_t* data,
                                     std::size_t len, std::uint16_t flags) {
  sctp_sndinfo info{};
  info.snd_sid = 0;
  info.snd_flags = flags;
  info.snd_ppid = htonl(ppid_of(protocol));
  info.snd_assoc_id = assoc;
  return usrsctp_sendv(s.so, data, len, nullptr, 0, &info, sizeof info, SCTP_SENDV_SNDINFO, 0);
}

void SctpMessageSockets::send_control(Socket& s, sctp_assoc_t assoc, std::uint16_t flags) {
  // usrsctp_sendv() wants a non-null buffer even for a zero-length SHUTDOWN / ABORT request.
  std::uint8_t none = 0;
  send_raw(s, assoc, WireProtocol::kAsap, &none, 0, flags);
}

runtime::SendResult SctpMessageSockets::send(ConnectionId id, WireProtocol protocol, std::span<const std::uint8_t> message) {
  Connection* c = find(id);
  if (c == nullptr || c->state == State::kClosing) {
    ++shared_.counters.send_failed;
    return runtime::SendResult::kNoConnection;
  }
  if (message.empty() || message.size() > shared_.config.max_message_size) {
    ++shared_.counters.send_failed;
    return runtime::SendResult::kTooBig;
  }
  Socket* s = find_socket(c->socket_key);
  if (s == nullptr) {
    ++shared_.counters.send_failed;
    return runtime::SendResult::kNoConnection;
  }
  if (c->queue.empty()) {
    ssize_t n = send_raw(*s, c->assoc, protocol, message.data(), message.size(), 0);
    if (n >= 0) {
      ++shared_.counters.messages_sent;
      shared_.counters.bytes_sent += message.size();
      return runtime::SendResult::kSent;
    }
    if (!would_block(errno)) {
      ++shared_.counters.send_failed;
      return runtime::SendResult::kError;
    }
  }
  if (!c->queue.push(protocol, message)) {
    ++shared_.counters.send_dropped_queue_full;
    return runtime::SendResult::kQueueFull;
  }
  ++shared_.counters.messages_queued;
  pending_.insert(id);
  arm_flush_timer();
  return runtime::SendResult::kQueued;
}

bool SctpMessageSockets::flush(Connection& c) {
  Socket* s = find_socket(c.socket_key);
  if (s == nullptr) {
    c.queue.clear();
    return true;
  }
  while (!c.queue.empty()) {
    OutboundQueue::Item& item = c.queue.front();
    ssize_t n = send_raw(*s, c.assoc, item.protocol, item.bytes.data(), item.bytes.size(), 0);
    if (n < 0) {
      if (would_block(errno)) return false;
      shared_.counters.send_failed += c.queue.size();
      c.queue.clear();
      break;
    }
    ++shared_.counters.messages_sent;
    shared_.counters.bytes_sent += item.bytes.size();
    c.queue.pop();
  }
  if (c.state == State::kClosing) send_control(*s, c.assoc, SCTP_EOF);
  return true;
}

void SctpMessageSockets::flush_pending() {
  if (pending_.empty()) return;
  std::vector<ConnectionId> ids(pending_.begin(), pending_.end());
  for (ConnectionId id : ids) {
    Connection* c = find(id);
    if (c == nullptr || flush(*c)) pending_.erase(id);
  }
  arm_flush_timer();
}

void SctpMessageSockets::arm_flush_timer() {
  if (flush_timer_ != runtime::EventLoop::kNoTimer || pending_.empty()) return;
  flush_timer_ = shared_.loop.schedule_after(kFlushRetry, [this] {
    flush_timer_ = runtime::EventLoop::kNoTimer;
    flush_pending();
  });
}

void SctpMessageSockets::close(ConnectionId id, runtime::CloseReason reason_reported) {
  Connection* c = find(id);
  if (c == nullptr || c->state == State::kClosing) return;
  --reported_open_;
  shared_.report_closed_later(id, reason_reported);
  c->state = State::kClosing;
  if (c->queue.empty()) {
    if (Socket* s = find_socket(c->socket_key)) send_control(*s, c->assoc, SCTP_EOF);
  }  // else: flush() sends the EOF once the queue is empty
  // Never keep a closing association forever (peer not reading, shutdown lost).
  c->linger_timer = shared_.loop.schedule_after(kCloseLinger, [this, id] {
    Connection* lc = find(id);
    if (lc == nullptr) return;
    lc->linger_timer = runtime::EventLoop::kNoTimer;
    if (Socket* s = find_socket(lc->socket_key)) send_control(*s, lc->assoc, SCTP_ABORT);
    forget(id);
  });
}

void SctpMessageSockets::abort(ConnectionId id) {
  Connection* c = find(id);
  if (c == nullptr) return;
  if (c->state != State::kClosing) {
    --reported_open_;
    shared_.report_closed_later(id, runtime::CloseReason::kLocalAbort);
  }
  shared_.counters.send_failed += c->queue.size();  // queued messages die with the association
  if (Socket* s = find_socket(c->socket_key)) send_control(*s, c->assoc, SCTP_ABORT);
  forget(id);
}

const ConnectionPeer* SctpMessageSockets::peer_info(ConnectionId id) const {
  const Connection* c = find(id);
  if (c == nullptr || c->state == State::kClosing) return nullptr;
  return &c->peer;
}

std::size_t SctpMessageSockets::queued_messages(ConnectionId id) const {
  const Connection* c = find(id);
  return c == nullptr ? 0 : c->queue.size();
}

void SctpMessageSockets::close_all(runtime::CloseReason reason) {
  std::vector<ConnectionId> ids;
  for (auto& [id, c] : connections_) {
    if (c.state != State::kClosing) ids.push_back(id);
  }
  for (ConnectionId id : ids) close(id, reason);
  // Listeners stop accepting; closing associations keep their client sockets until they end.
  std::vector<std::uint64_t> listeners;
  for (auto& [key, s] : sockets_) {
    if (s->listener) listeners.push_back(key);
  }
  for (std::uint64_t key : listeners) {
    // usrsctp_close() shuts down the socket's remaining associations gracefully.
    Socket* s = find_socket(key);
    for (auto& [assoc, id] : s->assocs) {
      if (Connection* c = find(id); c != nullptr && c->linger_timer != runtime::EventLoop::kNoTimer) {
        shared_.loop.cancel(c->linger_timer);
        c->linger_timer = runtime::EventLoop::kNoTimer;
      }
    }
    std::vector<ConnectionId> gone;
    for (auto& [assoc, id] : s->assocs) gone.push_back(id);
    for (ConnectionId id : gone) connections_.erase(id);
    close_socket(key);
  }
}

}  // namespace poolreg::kernel
