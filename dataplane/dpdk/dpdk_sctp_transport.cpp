#include "dataplane/dpdk/dpdk_sctp_transport.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "dataplane/dpdk/steering.hpp"

namespace poolreg::dpdk {

// ---- poll lcore side ----

RingEventSink::~RingEventSink() {
  for (TransportEvent* e : backlog_) delete e;
}

void RingEventSink::push(TransportEvent* e) {
  if (!backlog_.empty() || rte_ring_sp_enqueue(rings_.events, e) != 0) {
    backlog_.push_back(e);
    return;
  }
  produced_ = true;
}

void RingEventSink::on_connected(ConnectionId id, const ConnectionPeer& peer) {
  auto* e = new TransportEvent;
  e->kind = TransportEvent::Kind::kConnected;
  e->id = id;
  e->peer = peer;
  push(e);
}

void RingEventSink::on_message(ConnectionId id, const kernel::MessageInfo& info, std::uint8_t* data,
                               std::size_t length) {
  auto* e = new TransportEvent;
  e->kind = TransportEvent::Kind::kMessage;
  e->id = id;
  e->info = info;
  e->data = data;
  e->length = length;
  push(e);
}

void RingEventSink::on_closed(ConnectionId id, CloseReason reason) {
  auto* e = new TransportEvent;
  e->kind = TransportEvent::Kind::kClosed;
  e->id = id;
  e->reason = reason;
  push(e);
}

void RingEventSink::on_unknown_ppid(ConnectionId id, std::uint32_t ppid) {
  auto* e = new TransportEvent;
  e->kind = TransportEvent::Kind::kUnknownPpid;
  e->id = id;
  e->ppid = ppid;
  push(e);
}

void RingEventSink::on_activity(ConnectionId id) {
  auto* e = new TransportEvent;
  e->kind = TransportEvent::Kind::kActivity;
  e->id = id;
  push(e);
}

void RingEventSink::flush() {
  while (!backlog_.empty() && rte_ring_sp_enqueue(rings_.events, backlog_.front()) == 0) {
    backlog_.pop_front();
    produced_ = true;
  }
  if (produced_) {
    produced_ = false;
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(rings_.wake_fd, &one, sizeof one);
  }
}

// ---- control lcore side ----

DpdkSctpTransport::DpdkSctpTransport(kernel::EventLoop& loop, kernel::MessageHandler& handler,
                                     std::vector<TransportLane> lanes, std::atomic<std::uint64_t>& ids,
                                     std::size_t max_message_size)
    : loop_(loop),
      handler_(handler),
      lanes_(std::move(lanes)),
      wake_fd_(lanes_.front().rings.wake_fd),
      ids_(ids),
      max_message_size_(max_message_size),
      backlog_(lanes_.size()) {
  loop_.add_fd(wake_fd_, EPOLLIN, [this](std::uint32_t) {
    std::uint64_t v;
    [[maybe_unused]] ssize_t n = ::read(wake_fd_, &v, sizeof v);
    drain_events();
  });
}

DpdkSctpTransport::~DpdkSctpTransport() {
  *alive_ = false;
  if (backlog_timer_ != kernel::EventLoop::kNoTimer) loop_.cancel(backlog_timer_);
  loop_.remove_fd(wake_fd_);
  for (auto& lane : backlog_)
    for (TransportCommand* c : lane) delete c;
}

kernel::ListenResult DpdkSctpTransport::listen_sctp(WireProtocol protocol, std::span<const IpAddress>,
                                                    std::uint16_t port) {
  if (started_) {
    kernel::ListenResult r;
    r.error = EBUSY;
    r.detail = "DPDK SCTP listeners are opened at start-up only";
    return r;
  }
  // Every lane's stack listens: a peer is served by the lane it is steered to.
  kernel::ListenResult r;
  for (TransportLane& lane : lanes_) {
    r = lane.engine->listen(protocol, port);
    if (!r.ok) return r;
  }
  return r;
}

kernel::ListenResult DpdkSctpTransport::listen_tcp(WireProtocol, std::span<const IpAddress>,
                                                   std::uint16_t, bool) {
  kernel::ListenResult r;
  r.error = ENOTSUP;
  r.detail = "TCP is served by the kernel transport in DPDK mode";
  return r;
}

ConnectionId DpdkSctpTransport::connect_tcp(WireProtocol, const IpAddress&, std::uint16_t, bool) {
  ++counters_.connect_failures;
  return kNoConnectionId;
}

bool DpdkSctpTransport::push_command(unsigned lane, TransportCommand* c) {
  flush_backlog();
  std::deque<TransportCommand*>& backlog = backlog_[lane];
  if (backlog.empty() && rte_ring_sp_enqueue(lanes_[lane].rings.commands, c) == 0) return true;
  if (c->kind == TransportCommand::Kind::kSend) return false;  // the caller drops it (kQueueFull)
  backlog.push_back(c);  // control commands are never lost: retried every millisecond
  if (backlog_timer_ == kernel::EventLoop::kNoTimer) {
    backlog_timer_ = loop_.schedule_every(kNsPerMs, [this] {
      flush_backlog();
      for (const auto& b : backlog_)
        if (!b.empty()) return;
      loop_.cancel(backlog_timer_);
      backlog_timer_ = kernel::EventLoop::kNoTimer;
    });
  }
  return true;
}

void DpdkSctpTransport::flush_backlog() {
  for (std::size_t lane = 0; lane < lanes_.size(); ++lane) {
    std::deque<TransportCommand*>& backlog = backlog_[lane];
    while (!backlog.empty() && rte_ring_sp_enqueue(lanes_[lane].rings.commands, backlog.front()) == 0)
      backlog.pop_front();
  }
}

ConnectionId DpdkSctpTransport::connect_sctp(WireProtocol protocol,
                                                     std::span<const IpAddress> addresses, std::uint16_t port,
                                                     std::uint16_t remote_udp_port) {
  if (addresses.empty() || port == 0) {
    ++counters_.connect_failures;
    return kNoConnectionId;
  }
  const ConnectionId id = ids_.fetch_add(1, std::memory_order_relaxed);
  auto* c = new TransportCommand;
  c->kind = TransportCommand::Kind::kConnect;
  c->id = id;
  c->protocol = protocol;
  c->port = port;
  c->udp_port = remote_udp_port;
  c->addresses.assign(addresses.begin(), addresses.end());
  Open open;
  ConnectionPeer& peer = open.peer;
  peer.kind = TransportProtocol::kSctp;
  peer.protocol = protocol;
  peer.outgoing = true;
  peer.addresses = c->addresses;
  peer.port = port;
  peer.udp_encapsulation_port = remote_udp_port != 0 ? remote_udp_port : kernel::kSctpUdpEncapsulationPort;
  // The engine connects from the first address (sctp_conn_engine.hpp): the peer's answers come
  // from it and are steered by it.
  const IpAddress& first = addresses.front();
  open.lane = steer_lane(first.data(), !first.is_v4(), peer.udp_encapsulation_port,
                         static_cast<unsigned>(lanes_.size()));
  const unsigned lane = open.lane;
  open_.emplace(id, std::move(open));
  push_command(lane, c);
  return id;
}

kernel::SendResult DpdkSctpTransport::send(ConnectionId id, WireProtocol protocol,
                                           std::span<const std::uint8_t> message) {
  auto it = open_.find(id);
  if (it == open_.end()) {
    ++counters_.send_failed;
    return kernel::SendResult::kNoConnection;
  }
  if (message.empty() || message.size() > max_message_size_) {
    ++counters_.send_failed;
    return kernel::SendResult::kTooBig;
  }
  auto* c = new TransportCommand;
  c->kind = TransportCommand::Kind::kSend;
  c->id = id;
  c->protocol = protocol;
  c->data = static_cast<std::uint8_t*>(std::malloc(message.size()));
  if (c->data == nullptr) {
    delete c;
    ++counters_.send_failed;
    return kernel::SendResult::kError;
  }
  std::memcpy(c->data, message.data(), message.size());
  c->length = message.size();
  if (!push_command(it->second.lane, c)) {
    delete c;
    ++counters_.send_dropped_queue_full;
    return kernel::SendResult::kQueueFull;
  }
  ++counters_.messages_sent;
  counters_.bytes_sent += message.size();
  return kernel::SendResult::kSent;
}

void DpdkSctpTransport::end(ConnectionId id, kernel::CloseReason reported,
                            TransportCommand::Kind kind) {
  auto it = open_.find(id);
  if (it == open_.end()) return;
  const unsigned lane = it->second.lane;
  open_.erase(it);
  auto* c = new TransportCommand;
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

void DpdkSctpTransport::close(ConnectionId id) {
  end(id, kernel::CloseReason::kLocalClose, TransportCommand::Kind::kClose);
}
void DpdkSctpTransport::abort(ConnectionId id) {
  end(id, kernel::CloseReason::kLocalAbort, TransportCommand::Kind::kAbort);
}

void DpdkSctpTransport::close_all() {
  std::vector<ConnectionId> ids;
  for (auto& [id, open] : open_) ids.push_back(id);
  for (ConnectionId id : ids) end(id, kernel::CloseReason::kShutdown, TransportCommand::Kind::kClose);
}

const ConnectionPeer* DpdkSctpTransport::peer_info(ConnectionId id) const {
  auto it = open_.find(id);
  return it == open_.end() ? nullptr : &it->second.peer;
}

int DpdkSctpTransport::lane_of(ConnectionId id) const {
  auto it = open_.find(id);
  return it == open_.end() ? -1 : static_cast<int>(it->second.lane);
}

void DpdkSctpTransport::drain_events() {
  flush_backlog();
  bool drained = true;
  for (unsigned lane = 0; lane < lanes_.size(); ++lane) drained = drain_lane(lane) && drained;
  if (drained) return;
  // Bounded pass over: more events wait, and the eventfd was already read. Fire it again.
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

bool DpdkSctpTransport::drain_lane(unsigned lane) {
  rte_ring* events = lanes_[lane].rings.events;
  void* batch[64] = {};
  for (int round = 0; round < 64; ++round) {  // bounded per pass; the eventfd fires again if more
    const unsigned n = rte_ring_sc_dequeue_burst(events, batch, 64, nullptr);
    for (unsigned i = 0; i < n; ++i) {
      std::unique_ptr<TransportEvent> e(static_cast<TransportEvent*>(batch[i]));
      switch (e->kind) {
        case TransportEvent::Kind::kConnected: {
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
        case TransportEvent::Kind::kMessage: {
          auto it = open_.find(e->id);
          if (it == open_.end()) break;
          ++counters_.messages_received;
          counters_.bytes_received += e->length;
          if (it->second.peer.protocol != e->info.protocol) ++counters_.wrong_ppid;
          handler_.on_message(e->id, e->info, std::span<const std::uint8_t>(e->data, e->length));
          break;
        }
        case TransportEvent::Kind::kClosed:
          if (open_.erase(e->id) == 0) break;
          if (e->reason == kernel::CloseReason::kConnectFailed) ++counters_.connect_failures;
          ++counters_.connections_closed;
          handler_.on_closed(e->id, e->reason);
          break;
        case TransportEvent::Kind::kUnknownPpid:
          if (open_.count(e->id) == 0) break;
          ++counters_.unknown_ppid;
          handler_.on_unknown_ppid(e->id, e->ppid);
          break;
        case TransportEvent::Kind::kActivity:
          if (open_.count(e->id) == 0) break;
          handler_.on_activity(e->id);
          break;
      }
    }
    if (n < 64) return true;
  }
  return false;
}

}  // namespace poolreg::dpdk
