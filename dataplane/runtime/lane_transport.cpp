#include "dataplane/runtime/lane_transport.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dataplane/runtime/steer_lane.hpp"

namespace poolreg::runtime {

LaneTransport::LaneTransport(EventLoop& loop, MessageHandler& handler,
                                     std::vector<Lane> lanes, std::atomic<std::uint64_t>& ids,
                                     std::size_t max_message_size)
    : loop_(loop),
      handler_(handler),
      lanes_(std::move(lanes)),
      wake_fd_(lanes_.front().rings.wake_fd),
      ids_(ids),
      max_message_size_(max_message_size),
      backlog_(lanes_.size()),
      to_wake_(lanes_.size(), false) {
  loop_.add_fd(wake_fd_, EPOLLIN, [this](std::uint32_t) {
    std::uint64_t v;
    [[maybe_unused]] ssize_t n = ::read(wake_fd_, &v, sizeof v);
    drain_events();
  });
}

LaneTransport::~LaneTransport() {
  *alive_ = false;
  if (backlog_timer_ != EventLoop::kNoTimer) loop_.cancel(backlog_timer_);
  loop_.remove_fd(wake_fd_);
  for (auto& lane : backlog_)
    for (LaneCommand* c : lane) delete c;
}

ListenResult LaneTransport::listen_sctp(WireProtocol protocol, std::span<const IpAddress>,
                                                    std::uint16_t port) {
  if (started_) return listen_error(EBUSY, "lane SCTP listeners are opened at start-up only");
  // Every lane's stack listens: a peer is served by the lane it is steered to.
  ListenResult r = port;
  for (Lane& lane : lanes_) {
    r = lane.engine->listen(protocol, port);
    if (!r) return r;
  }
  return r;
}

ListenResult LaneTransport::listen_tcp(WireProtocol, std::span<const IpAddress>,
                                                   std::uint16_t, bool) {
  return listen_error(ENOTSUP, "TCP is served by the kernel transport beside the lanes");
}

ConnectionId LaneTransport::connect_tcp(WireProtocol, const IpAddress&, std::uint16_t, bool) {
  ++counters_.connect_failures;
  return kNoConnectionId;
}

bool LaneTransport::push_command(unsigned lane, LaneCommand* c) {
  flush_backlog();
  std::deque<LaneCommand*>& backlog = backlog_[lane];
  if (backlog.empty() && lanes_[lane].rings.commands->push(c)) {
    wake_later(lane);
    return true;
  }
  if (c->kind == LaneCommand::Kind::kSend) return false;  // the caller drops it (kQueueFull)
  backlog.push_back(c);  // control commands are never lost: retried every millisecond
  if (backlog_timer_ == EventLoop::kNoTimer) {
    backlog_timer_ = loop_.schedule_every(kNsPerMs, [this] {
      flush_backlog();
      for (const auto& b : backlog_)
        if (!b.empty()) return;
      loop_.cancel(backlog_timer_);
      backlog_timer_ = EventLoop::kNoTimer;
    });
  }
  return true;
}

void LaneTransport::flush_backlog() {
  for (std::size_t lane = 0; lane < lanes_.size(); ++lane) {
    std::deque<LaneCommand*>& backlog = backlog_[lane];
    bool pushed = false;
    while (!backlog.empty() && lanes_[lane].rings.commands->push(backlog.front())) {
      backlog.pop_front();
      pushed = true;
    }
    if (pushed) wake_later(static_cast<unsigned>(lane));
  }
}

void LaneTransport::wake_later(unsigned lane) {
  if (lanes_[lane].rings.lane_wake_fd < 0 || to_wake_[lane]) return;
  to_wake_[lane] = true;
  if (wake_pending_) return;
  // One eventfd write per lane and loop pass, however many commands the pass queued.
  wake_pending_ = true;
  std::weak_ptr<bool> token = alive_;
  loop_.defer([this, token] {
    if (token.expired() || !*token.lock()) return;
    wake_lanes();
  });
}

void LaneTransport::wake_lanes() {
  wake_pending_ = false;
  const std::uint64_t one = 1;
  for (std::size_t lane = 0; lane < lanes_.size(); ++lane) {
    if (!to_wake_[lane]) continue;
    to_wake_[lane] = false;
    [[maybe_unused]] ssize_t n = ::write(lanes_[lane].rings.lane_wake_fd, &one, sizeof one);
  }
}

ConnectionId LaneTransport::connect_sctp(WireProtocol protocol,
                                                     std::span<const IpAddress> addresses, std::uint16_t port,
                                                     std::uint16_t remote_udp_port) {
  return connect_on_lane(protocol, addresses, port,
                         remote_udp_port != 0 ? remote_udp_port : default_remote_udp_port_);
}

ConnectionId LaneTransport::connect_sctp_native(WireProtocol protocol, std::span<const IpAddress> addresses,
                                                std::uint16_t port) {
  if (!native_) {
    ++counters_.connect_failures;
    return kNoConnectionId;
  }
  return connect_on_lane(protocol, addresses, port, 0);
}

ConnectionId LaneTransport::connect_on_lane(WireProtocol protocol, std::span<const IpAddress> addresses,
                                            std::uint16_t port, std::uint16_t udp) {
  if (addresses.empty() || port == 0) {
    ++counters_.connect_failures;
    return kNoConnectionId;
  }
  const ConnectionId id = ids_.fetch_add(1, std::memory_order_relaxed);
  auto* c = new LaneCommand;
  c->kind = LaneCommand::Kind::kConnect;
  c->id = id;
  c->protocol = protocol;
  c->port = port;
  c->udp_port = udp;
  c->addresses.assign(addresses.begin(), addresses.end());
  Open open;
  ConnectionPeer& peer = open.peer;
  peer.kind = TransportProtocol::kSctp;
  peer.protocol = protocol;
  peer.outgoing = true;
  peer.addresses = c->addresses;
  peer.port = port;
  peer.udp_encapsulation_port = udp;
  // The engine connects from the first address (sctp_engine.hpp): the peer's answers come
  // from it and are steered by it (a native peer, UDP port 0, by its SCTP port instead).
  const IpAddress& first = addresses.front();
  open.lane = owner_ ? owner_(first, udp, port)
                    : steer_lane(first.data(), !first.is_v4(), udp != 0 ? udp : port,
                                 static_cast<unsigned>(lanes_.size()));
  const unsigned lane = open.lane;
  open_.emplace(id, std::move(open));
  push_command(lane, c);
  return id;
}

SendResult LaneTransport::send(ConnectionId id, WireProtocol protocol,
                                           std::span<const std::uint8_t> message) {
  auto it = open_.find(id);
  if (it == open_.end()) {
    ++counters_.send_failed;
    return SendResult::kNoConnection;
  }
  if (message.empty() || message.size() > max_message_size_) {
    ++counters_.send_failed;
    return SendResult::kTooBig;
  }
  auto* c = new LaneCommand;
  c->kind = LaneCommand::Kind::kSend;
  c->id = id;
  c->protocol = protocol;
  c->data = static_cast<std::uint8_t*>(std::malloc(message.size()));
  if (c->data == nullptr) {
    delete c;
    ++counters_.send_failed;
    return SendResult::kError;
  }
  std::memcpy(c->data, message.data(), message.size());
  c->length = message.size();
  if (!push_command(it->second.lane, c)) {
    delete c;
    ++counters_.send_dropped_queue_full;
    return SendResult::kQueueFull;
  }
  ++counters_.messages_sent;
  counters_.bytes_sent += message.size();
  return SendResult::kSent;
}

void LaneTransport::end(ConnectionId id, CloseReason reported,
                            LaneCommand::Kind kind) {
  auto it = open_.find(id);
  if (it == open_.end()) return;
  const unsigned lane = it->second.lane;
  open_.erase(it);
  auto* c = new LaneCommand;
  c->kind = kind;
  c->id = id;
  push_command(lane, c);
  std::weak_ptr<bool> token = alive_;
  loop_.defer([this, token, id, reported] {
    if (token.expired() || !*token.lock()) return;
    ++counters_.connections_closed;
    handler_.on_closed(id, reported);
  });
}

void LaneTransport::close(ConnectionId id) {
  end(id, CloseReason::kLocalClose, LaneCommand::Kind::kClose);
}
void LaneTransport::abort(ConnectionId id) {
  end(id, CloseReason::kLocalAbort, LaneCommand::Kind::kAbort);
}

void LaneTransport::close_all() {
  std::vector<ConnectionId> ids;
  for (auto& [id, open] : open_) ids.push_back(id);
  for (ConnectionId id : ids) end(id, CloseReason::kShutdown, LaneCommand::Kind::kClose);
}

const ConnectionPeer* LaneTransport::peer_info(ConnectionId id) const {
  auto it = open_.find(id);
  return it == open_.end() ? nullptr : &it->second.peer;
}

int LaneTransport::lane_of(ConnectionId id) const {
  auto it = open_.find(id);
  return it == open_.end() ? -1 : static_cast<int>(it->second.lane);
}

void LaneTransport::drain_events() {
  flush_backlog();
  bool drained = true;
  for (unsigned lane = 0; lane < lanes_.size(); ++lane) drained = drain_lane(lane) && drained;
  if (drained) return;
  // Bounded pass over: more events wait, and the eventfd was already read. Fire it again.
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

bool LaneTransport::watch_keepalives(const KeepAliveWatch& watch) {
  if (!keepalives_on_lanes_) return false;
  auto it = open_.find(watch.connection);
  if (it == open_.end() || it->second.peer.protocol != WireProtocol::kAsap) return false;
  auto* c = new LaneCommand;
  c->kind = LaneCommand::Kind::kWatchKeepAlives;
  c->id = watch.connection;
  c->watch = watch;
  return push_command(it->second.lane, c);  // control commands are never dropped (backlog)
}

void LaneTransport::unwatch_keepalives(ConnectionId connection, const PoolHandle& handle, PoolElementId id) {
  if (!keepalives_on_lanes_) return;
  auto it = open_.find(connection);
  // Closed: the lane's engine has forgotten the association. Its entries there end by themselves
  // within one interval (not ours any more: a stale report; or their Keep-Alive finds no
  // association: dropped silently). Not a command per PE of a torn-down association.
  if (it == open_.end()) return;
  auto* c = new LaneCommand;
  c->kind = LaneCommand::Kind::kUnwatchKeepAlives;
  c->id = connection;
  c->watch.connection = connection;
  c->watch.handle = handle;
  c->watch.id = id;
  push_command(it->second.lane, c);
}

void LaneTransport::set_keepalive_timers(TimeNs interval, TimeNs timeout) {
  if (!keepalives_on_lanes_) return;
  for (unsigned lane = 0; lane < lanes_.size(); ++lane) {
    auto* c = new LaneCommand;
    c->kind = LaneCommand::Kind::kKeepAliveTimers;
    c->interval = interval;
    c->timeout = timeout;
    push_command(lane, c);
  }
}

bool LaneTransport::drain_lane(unsigned lane) {
  LaneRing& events = *lanes_[lane].rings.events;
  LaneOrder* order = lanes_[lane].rings.order;
  void* batch[64] = {};
  for (int round = 0; round < 64; ++round) {  // bounded per pass; the eventfd fires again if more
    const unsigned n = events.pop_burst(batch, 64);
    for (unsigned i = 0; i < n; ++i) {
      std::unique_ptr<LaneEvent> e(static_cast<LaneEvent*>(batch[i]));
      switch (e->kind) {
        case LaneEvent::Kind::kConnected: {
          auto it = open_.find(e->id);
          if (it != open_.end()) {
            it->second.peer = e->peer;  // outgoing: now with what the engine knows
            ++counters_.connections_opened;
          } else if (!e->peer.outgoing) {
            open_.emplace(e->id, Open{e->peer, lane});
            ++counters_.connections_accepted;
          } else {
            break;  // closed here before it came up
          }
          handler_.on_connected(e->id, e->peer);
          break;
        }
        case LaneEvent::Kind::kMessage: {
          auto it = open_.find(e->id);
          if (it == open_.end()) break;
          ++counters_.messages_received;
          counters_.bytes_received += e->length;
          if (it->second.peer.protocol != e->info.protocol) ++counters_.wrong_ppid;
          handler_.on_message(e->id, e->info, std::span<const std::uint8_t>(e->data, e->length));
          break;
        }
        case LaneEvent::Kind::kClosed:
          if (open_.erase(e->id) == 0) break;
          if (e->reason == CloseReason::kConnectFailed) ++counters_.connect_failures;
          ++counters_.connections_closed;
          handler_.on_closed(e->id, e->reason);
          break;
        case LaneEvent::Kind::kUnknownPpid:
          if (open_.count(e->id) == 0) break;
          ++counters_.unknown_ppid;
          handler_.on_unknown_ppid(e->id, e->ppid);
          break;
        case LaneEvent::Kind::kActivity:
          if (open_.count(e->id) == 0) break;
          handler_.on_activity(e->id);
          break;
        case LaneEvent::Kind::kKeepAlive:
          handler_.on_keepalive_report(e->keepalive);
          break;
        case LaneEvent::Kind::kAddressesChanged: {
          auto it = open_.find(e->id);
          if (it == open_.end()) break;
          it->second.peer = e->peer;
          handler_.on_addresses_changed(e->id, e->peer);
          break;
        }
      }
      // Applied (or dropped for a closed connection): the lane may answer this association's
      // resolutions itself again (lane_order.hpp). After the handler, release: the lane that
      // reads the stamp sees the handlespace writes it made.
      if (e->kind == LaneEvent::Kind::kMessage && e->info.lane_stamp != 0 && order != nullptr)
        order->finish(e->info.lane_stamp);
    }
    if (n < 64) return true;
  }
  return false;
}

}  // namespace poolreg::runtime
