#include "dataplane/kernel/sctp_stack.hpp"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <optional>

#include "dataplane/kernel/raw_sctp_source.hpp"
#include "dataplane/kernel/udp_packet_source.hpp"

namespace poolreg::kernel {

std::unique_ptr<SctpStack> SctpStack::create(const SctpStackConfig& config, std::string* error) {
  std::unique_ptr<SctpStack> stack(new SctpStack(config, config.udp_port));
  sctp::SctpEngineConfig ec;
  static_cast<sctp::UsrsctpTunables&>(ec) = config;
  ec.debug_output = config.debug_output;
  // The linked usrsctp copy is one stack: this one, or a lane's engine (usrsctp_stack.hpp); a
  // private copy is this stack's alone.
  if (config.private_usrsctp) {
    auto loaded = sctp::UsrsctpStack::load_private();
    if (!loaded) {
      if (error) *error = "cannot load a private usrsctp copy: " + loaded.error() + " (" + sctp::kLaneCeilingHint + ")";
      return nullptr;
    }
    stack->private_usrsctp_ = std::move(*loaded);
  }
  auto engine = sctp::SctpEngine::create(ec, stack->ids_, stack->private_usrsctp_.get());
  if (!engine) {
    if (error)
      *error = (config.private_usrsctp ? "private usrsctp copy: " : "the program's usrsctp already runs a stack: ") +
               engine.error();
    return nullptr;
  }
  stack->engine_ = std::move(*engine);
  if (config.udp_port != 0) {
    // SO_REUSEPORT would let a second process share the port silently: refuse a busy port.
    auto free = UdpPacketSource::check_port_free(std::nullopt, config.udp_port);
    if (!free) {
      if (error) *error = free.error();
      return nullptr;
    }
  }
  auto source = UdpPacketSource::open(std::nullopt, config.udp_port, stack->udp_counters_);
  if (!source) {
    if (error) *error = source.error();
    return nullptr;
  }
  stack->source_ = std::move(*source);
  stack->udp_port_ = stack->source_->port();
  if (config.native) {
    auto raw = RawSctpSource::open(1, true, stack->udp_counters_);
    if (!raw) {
      if (error) *error = "native SCTP: " + raw.error() + " (needs root or CAP_NET_RAW)";
      return nullptr;
    }
    stack->native_ = std::move(*raw);
  }
  stack->engine_->attach({stack->source_.get(), stack->native_.get()}, stack.get(), nullptr);
  return stack;
}

SctpStack::SctpStack(const SctpStackConfig& config, std::uint16_t udp_port) : config_(config), udp_port_(udp_port) {}

SctpStack::~SctpStack() {
  unbind_loop();
  owners_.clear();
  connections_.clear();
  if (engine_ && source_) {
    // Peers learn at once that we are gone (the engine's destructor drops its output).
    engine_->shutdown();
    source_->flush();
  }
  for (Event& e : events_) std::free(e.data);
  events_.clear();
  engine_.reset();
}

std::uint64_t SctpStack::now_ms() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

// ---- the loop binding ----

bool SctpStack::attach(Owner& owner, runtime::EventLoop& loop, QueueLimit limit) {
  if (loop_ != nullptr && loop_ != &loop) return false;
  if (loop_ == nullptr) bind_loop(loop);
  if (owner_state(owner) == nullptr) owners_.push_back(OwnerState{&owner, limit});
  return true;
}

void SctpStack::detach(Owner& owner) {
  std::vector<ConnectionId> ids;
  for (const auto& [id, o] : connections_)
    if (o == &owner) ids.push_back(id);
  for (ConnectionId id : ids) abort(id);
  stop_listening(owner);
  std::erase_if(owners_, [&](const OwnerState& s) { return s.owner == &owner; });
  if (owners_.empty()) {
    // Deliver nothing more; keep the engine running its timers until the loop is let go.
    for (Event& e : events_) std::free(e.data);
    events_.clear();
    unbind_loop();
  }
}

void SctpStack::bind_loop(runtime::EventLoop& loop) {
  loop_ = &loop;
  bound_ = std::make_shared<bool>(true);
  dispatch_scheduled_ = false;
  loop.add_fd(source_->fd(), EPOLLIN, [this](std::uint32_t) { on_readable(); });
  if (native_) {
    for (int fd : {native_->fd4(), native_->fd6()})
      if (fd >= 0) loop.add_fd(fd, EPOLLIN, [this](std::uint32_t) { on_native_readable(); });
  }
  tick_ = loop.schedule_every(kTimerTickMs * kNsPerMs, [this] { on_tick(); });
}

void SctpStack::unbind_loop() {
  if (loop_ == nullptr) return;
  loop_->remove_fd(source_->fd());
  if (native_) {
    for (int fd : {native_->fd4(), native_->fd6()})
      if (fd >= 0) loop_->remove_fd(fd);
  }
  loop_->cancel(tick_);
  tick_ = runtime::EventLoop::kNoTimer;
  bound_.reset();
  dispatch_scheduled_ = false;
  loop_ = nullptr;
}

const SctpStack::OwnerState* SctpStack::owner_state(Owner& owner) const {
  for (const OwnerState& s : owners_)
    if (s.owner == &owner) return &s;
  return nullptr;
}

void SctpStack::on_readable() {
  for (int round = 0; round < 4; ++round) {  // bounded, so timers and other fds still run
    const unsigned got = source_->receive(
        [this](const sctp::SctpPacketFrom& from, const std::uint8_t* bytes, std::uint16_t length) {
          udp_counters_.sctp_packets_in.add();
          engine_->on_sctp_packet(from, bytes, length);
        });
    if (got < UdpPacketSource::kBurst) break;
  }
  engine_->flush_pending();  // what SACKs made room for
  after_engine();
  dispatch();
}

void SctpStack::on_native_readable() {
  for (int round = 0; round < 4; ++round) {  // bounded, as on_readable
    const unsigned got = native_->receive([this](const sctp::NativePacket& p) {
      if (!engine_->native_port_ours(p.dst_port)) {  // another SCTP user of this host, or our own
        udp_counters_.native_drop_not_our_port.add();
        return;
      }
      udp_counters_.native_in.add();
      engine_->on_sctp_packet(p.from, p.sctp.data(), static_cast<std::uint16_t>(p.sctp.size()));
    });
    if (got < RawSctpSource::kBurst) break;
  }
  engine_->flush_pending();
  after_engine();
  dispatch();
}

void SctpStack::on_tick() {
  engine_->flush_pending();
  engine_->run_timers(now_ms());
  after_engine();
  dispatch();
}

void SctpStack::after_engine() {
  while (!refused_.empty()) {
    std::vector<ConnectionId> refused;
    refused.swap(refused_);
    for (ConnectionId id : refused) engine_->abort(id);
  }
  source_->flush();
}

void SctpStack::after_call() {
  after_engine();
  if (events_.empty() || dispatch_scheduled_ || loop_ == nullptr) return;
  dispatch_scheduled_ = true;
  std::weak_ptr<bool> token = bound_;
  loop_->defer([this, token] {
    if (token.expired()) return;
    dispatch_scheduled_ = false;
    dispatch();
  });
}

void SctpStack::dispatch() {
  // Owner callbacks may call back into the stack (send, close, connect, even detach): events
  // they cause are collected anew and handed over on the next pass.
  std::vector<Event> events;
  events.swap(events_);
  for (Event& e : events) {
    auto it = connections_.find(e.id);
    Owner* owner = it == connections_.end() ? nullptr : it->second;
    if (owner == nullptr) {
      std::free(e.data);
      continue;
    }
    switch (e.kind) {
      case Event::Kind::kConnected:
        owner->sctp_connected(e.id, e.peer);
        break;
      case Event::Kind::kMessage:
        owner->sctp_message(e.id, e.info, std::span<const std::uint8_t>(e.data, e.length));
        std::free(e.data);
        break;
      case Event::Kind::kClosed:
        connections_.erase(it);
        owner->sctp_closed(e.id, e.reason);
        break;
      case Event::Kind::kUnknownPpid:
        owner->sctp_unknown_ppid(e.id, e.ppid);
        break;
      case Event::Kind::kActivity:
        owner->sctp_activity(e.id);
        break;
      case Event::Kind::kAddressesChanged:
        owner->sctp_addresses_changed(e.id, e.peer);
        break;
    }
  }
  if (!events_.empty()) after_call();
}

// ---- engine events (inside engine calls) ----

void SctpStack::on_connected(ConnectionId id, const ConnectionPeer& peer) {
  if (!peer.outgoing && connections_.count(id) == 0) {
    // Accepted: it belongs to the owner of the listener that took it.
    const std::uint16_t port = engine_->local_port(id);
    Owner* owner = nullptr;
    for (const Listener& l : listeners_)
      if (l.port == port) owner = l.owner;
    const OwnerState* state = owner == nullptr ? nullptr : owner_state(*owner);
    if (state == nullptr) {
      refused_.push_back(id);
      return;
    }
    connections_[id] = owner;
    engine_->set_queue_limit(id, state->limit.messages, state->limit.bytes);
  }
  event(Event::Kind::kConnected, id).peer = peer;
}

SctpStack::Event& SctpStack::event(Event::Kind kind, ConnectionId id) {
  Event& e = events_.emplace_back();
  e.kind = kind;
  e.id = id;
  return e;
}

void SctpStack::on_message(ConnectionId id, const runtime::MessageInfo& info, std::uint8_t* data, std::size_t length) {
  Event& e = event(Event::Kind::kMessage, id);
  e.info = info;
  e.data = data;
  e.length = length;
}

void SctpStack::on_closed(ConnectionId id, runtime::CloseReason reason) {
  event(Event::Kind::kClosed, id).reason = reason;
}

void SctpStack::on_unknown_ppid(ConnectionId id, std::uint32_t ppid) {
  event(Event::Kind::kUnknownPpid, id).ppid = ppid;
}

void SctpStack::on_activity(ConnectionId id) { event(Event::Kind::kActivity, id); }

void SctpStack::on_addresses_changed(ConnectionId id, const ConnectionPeer& peer) {
  event(Event::Kind::kAddressesChanged, id).peer = peer;
}

// ---- application calls ----

runtime::ListenResult SctpStack::listen(Owner& owner, WireProtocol protocol, std::uint16_t port) {
  if (owner_state(owner) == nullptr) return runtime::listen_error(EINVAL, "SCTP: transport not attached to the stack");
  runtime::ListenResult r = port;
  if (port != 0) {
    r = engine_->listen(protocol, port);
  } else {
    // usrsctp does not tell the port it picked: try free ports of the dynamic range ourselves.
    if (next_free_port_ == 0) next_free_port_ = static_cast<std::uint16_t>(49152 + (now_ms() % 16000));
    r = runtime::listen_error(EADDRINUSE, "SCTP: no free port");
    for (int tries = 0; tries < 256; ++tries) {
      const std::uint16_t candidate = next_free_port_;
      next_free_port_ = next_free_port_ >= 65535 ? 49152 : static_cast<std::uint16_t>(next_free_port_ + 1);
      r = engine_->listen(protocol, candidate);
      if (r) break;
    }
  }
  if (r) {
    listeners_.push_back(Listener{&owner, protocol, *r});
    if (native_) engine_->accept_native(*r);
  }
  return r;
}

void SctpStack::stop_listening(Owner& owner) {
  for (const Listener& l : listeners_)
    if (l.owner == &owner) engine_->stop_listening(l.port);
  std::erase_if(listeners_, [&](const Listener& l) { return l.owner == &owner; });
}

ConnectionId SctpStack::connect(Owner& owner, WireProtocol protocol, std::span<const IpAddress> addresses,
                                std::uint16_t port, std::uint16_t remote_udp_port) {
  const OwnerState* state = owner_state(owner);
  if (state == nullptr || addresses.empty() || port == 0) return kNoConnectionId;
  sctp::ConnectFrom from;
  from.kind = sctp::ConnectFrom::Kind::kOwnSocket;
  for (const Listener& l : listeners_) {
    if (l.owner != &owner || l.protocol != protocol) continue;
    from.kind = sctp::ConnectFrom::Kind::kListener;
    from.port = l.port;
    break;
  }
  const ConnectionId id = ids_.fetch_add(1, std::memory_order_relaxed);
  engine_->connect(id, protocol, addresses, port, remote_udp_port, from);
  if (engine_->peer_of(id) == nullptr) {
    // Refused at once: its on_closed(kConnectFailed) finds no owner and is dropped.
    after_engine();
    return kNoConnectionId;
  }
  connections_[id] = &owner;
  engine_->set_queue_limit(id, state->limit.messages, state->limit.bytes);
  after_call();
  return id;
}

runtime::SendResult SctpStack::send(ConnectionId id, WireProtocol protocol, std::span<const std::uint8_t> message) {
  const runtime::SendResult r = engine_->send(id, protocol, message);
  after_call();
  return r;
}

void SctpStack::close(ConnectionId id) {
  connections_.erase(id);
  engine_->close(id);
  after_call();
}

void SctpStack::abort(ConnectionId id) {
  connections_.erase(id);
  engine_->abort(id);
  after_call();
}

std::size_t SctpStack::queued_messages(ConnectionId id) const { return engine_->queued_messages(id); }

}  // namespace poolreg::kernel
