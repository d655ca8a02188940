#include "cli/client/asap_connection.hpp"

#include <cerrno>
#include <utility>

namespace poolreg::client {

const char* to_string(ClientTransport t) noexcept { return t == ClientTransport::kTcp ? "tcp" : "sctp"; }

const char* to_string(ClientStatus s) noexcept {
  switch (s) {
    case ClientStatus::kOk:
      return "ok";
    case ClientStatus::kRejected:
      return "rejected";
    case ClientStatus::kTimeout:
      return "timeout";
    case ClientStatus::kConnectFailed:
      return "connect-failed";
    case ClientStatus::kConnectionLost:
      return "connection-lost";
    case ClientStatus::kNotConnected:
      return "not-connected";
    case ClientStatus::kClosed:
      return "closed";
    case ClientStatus::kBusy:
      return "busy";
    case ClientStatus::kInvalidArgument:
      return "invalid-argument";
    case ClientStatus::kEncodeFailed:
      return "encode-failed";
    case ClientStatus::kSendFailed:
      return "send-failed";
  }
  return "?";
}

AsapConnection::AsapConnection(runtime::EventLoop& loop, kernel::SctpStack* stack,
                               const ClientOptions& options, Listener& listener)
    : loop_(loop), stack_(stack), options_(options), listener_(listener) {
  wire_options_.next_gen = options.next_gen;
  wire_options_.max_pool_handle = options.max_pool_handle;
  runtime::TransportConfig config;
  config.default_remote_udp_port = options.registrar.remote_udp_port;
  config.tcp_connect_timeout = options.connect_timeout;
  transport_ = std::make_unique<kernel::KernelTransport>(loop, *this, stack, config);
  encode_buffer_.reserve(1024);
}

AsapConnection::~AsapConnection() {
  if (connect_timer_ != runtime::EventLoop::kNoTimer) loop_.cancel(connect_timer_);
  // The transport's destructor aborts what is left without calling us back.
  transport_.reset();
}

ClientStatus AsapConnection::connect() {
  if (usable()) return ClientStatus::kOk;
  if (state_ == State::kClosing) return ClientStatus::kBusy;
  const RegistrarEndpoint& r = options_.registrar;
  const bool sctp = r.transport == ClientTransport::kSctp;
  connect_error_ = 0;
  tls_error_.clear();
  if (sctp && stack_ == nullptr) return ClientStatus::kConnectFailed;
  if (sctp && options_.pe_listen_port && !listening_) {
    // Listen on the wildcard address: a takeover registrar may reach the PE on any of its
    // addresses; the outgoing association then leaves from this port.
    runtime::ListenResult lr = transport_->listen_sctp(WireProtocol::kAsap, {}, *options_.pe_listen_port);
    if (!lr) {
      connect_error_ = lr.error().error;
      return ClientStatus::kConnectFailed;
    }
    listening_ = true;
    listen_port_ = *lr;
  }
  ConnectionId id = kNoConnectionId;
  if (sctp) {
    const IpAddress addrs[] = {r.address};
    id = transport_->connect_sctp(WireProtocol::kAsap, addrs, r.port, r.remote_udp_port);
  } else if (r.tls.enabled) {
    if (!tls_) {
      tcp::TlsSettings s;
      s.server = false;
      s.ca_file = r.tls.ca_file;
      s.certificate = r.tls.certificate;
      s.private_key = r.tls.private_key;
      if (s.ca_file.empty()) {
        tls_error_ = "no CA file to verify the registrar's certificate";
      } else if (auto made = tcp::TlsContext::create(s)) {
        tls_ = std::move(made).value();
      } else {
        tls_error_ = made.error();
      }
      if (!tls_) {
        connect_error_ = EINVAL;
        ++counters_.connect_failures;
        return ClientStatus::kConnectFailed;
      }
    }
    id = transport_->connect_tls(WireProtocol::kAsap, r.address, r.port, tls_, /*verify_ip=*/true);
  } else {
    id = transport_->connect_tcp(WireProtocol::kAsap, r.address, r.port, r.mptcp);
  }
  if (id == kNoConnectionId) {
    connect_error_ = transport_->last_error();
    ++counters_.connect_failures;
    return ClientStatus::kConnectFailed;
  }
  id_ = id;
  state_ = State::kConnecting;
  connect_timed_out_ = false;
  local_close_ = false;
  connect_timer_ = loop_.schedule_after(options_.connect_timeout, [this] {
    connect_timer_ = runtime::EventLoop::kNoTimer;
    on_connect_timeout();
  });
  return ClientStatus::kOk;
}

void AsapConnection::on_connect_timeout() {
  if (state_ != State::kConnecting) return;
  connect_timed_out_ = true;
  transport_->abort(id_);  // on_closed(kLocalAbort) follows on the next pass
}

void AsapConnection::close() {
  if (!usable()) return;
  local_close_ = true;
  state_ = State::kClosing;
  before_up_.clear();
  transport_->close(id_);
  for (ConnectionId in : incoming_) transport_->close(in);
}

void AsapConnection::abort() {
  if (!usable()) return;
  local_close_ = true;
  state_ = State::kClosing;
  before_up_.clear();
  transport_->abort(id_);
  for (ConnectionId in : incoming_) transport_->abort(in);
}

ClientStatus AsapConnection::send_bytes(std::span<const std::uint8_t> bytes, ConnectionId via) {
  if (via != kNoConnectionId && via != id_) {
    if (incoming_.count(via) == 0) return ClientStatus::kNotConnected;
  } else {
    if (state_ == State::kConnecting) {
      before_up_.emplace_back(bytes.begin(), bytes.end());
      return ClientStatus::kOk;
    }
    if (state_ != State::kConnected) return ClientStatus::kNotConnected;
    via = id_;
  }
  const runtime::SendResult r = transport_->send(via, WireProtocol::kAsap, bytes);
  if (!runtime::send_ok(r)) {
    ++counters_.send_failures;
    return r == runtime::SendResult::kNoConnection ? ClientStatus::kNotConnected : ClientStatus::kSendFailed;
  }
  ++counters_.messages_sent;
  return ClientStatus::kOk;
}

const ConnectionPeer* AsapConnection::peer() const {
  return state_ == State::kConnected ? transport_->peer_info(id_) : nullptr;
}

void AsapConnection::on_connected(ConnectionId id, const ConnectionPeer& /*peer*/) {
  if (id != id_) {
    // A registrar opened an association to our PE listener (takeover, asap.md §1).
    incoming_.insert(id);
    ++counters_.incoming_associations;
    return;
  }
  if (state_ != State::kConnecting) return;  // closing already
  if (connect_timer_ != runtime::EventLoop::kNoTimer) {
    loop_.cancel(connect_timer_);
    connect_timer_ = runtime::EventLoop::kNoTimer;
  }
  state_ = State::kConnected;
  ++counters_.connects;
  auto waiting = std::move(before_up_);
  before_up_.clear();
  for (auto& m : waiting) send_bytes(m);
  listener_.on_up();
}

void AsapConnection::on_message(ConnectionId id, const runtime::MessageInfo& info,
                                std::span<const std::uint8_t> bytes) {
  if (info.protocol != WireProtocol::kAsap) {
    ++counters_.wrong_protocol;
    return;
  }
  if (id != id_ && incoming_.count(id) == 0) return;
  wire::DecodeResult<wire::AsapMessage> decoded = wire::decode_asap(bytes, wire_options_);
  if (!decoded.has_value()) {
    ++counters_.decode_errors;
    return;
  }
  ++counters_.messages_received;
  listener_.on_message(id, decoded.value());
}

void AsapConnection::on_closed(ConnectionId id, runtime::CloseReason reason) {
  if (id != id_) {
    incoming_.erase(id);
    return;
  }
  if (connect_timer_ != runtime::EventLoop::kNoTimer) {
    loop_.cancel(connect_timer_);
    connect_timer_ = runtime::EventLoop::kNoTimer;
  }
  const State before = state_;
  state_ = State::kClosed;
  id_ = kNoConnectionId;
  before_up_.clear();
  ClientStatus status = ClientStatus::kConnectionLost;
  if (connect_timed_out_ || reason == runtime::CloseReason::kConnectFailed || before == State::kConnecting) {
    status = ClientStatus::kConnectFailed;
    connect_error_ = connect_timed_out_ ? ETIMEDOUT : transport_->last_error();
    if (options_.registrar.tls.enabled) tls_error_ = transport_->last_tls_failure();
    ++counters_.connect_failures;
  } else if (local_close_) {
    status = ClientStatus::kClosed;
  } else {
    ++counters_.connections_lost;
  }
  listener_.on_down(status, connect_timed_out_ ? runtime::CloseReason::kConnectFailed : reason);
}

}  // namespace poolreg::client
