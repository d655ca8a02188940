#include "dataplane/kernel/kernel_transport.hpp"

#include <cerrno>

#include "dataplane/kernel/sctp_connections.hpp"
#include "dataplane/runtime/transport_shared.hpp"
#include "dataplane/tcp/tcp_message_sockets.hpp"

namespace poolreg::kernel {


class KernelTransport::Impl {
 public:
  Impl(runtime::EventLoop& loop, runtime::MessageHandler& handler, SctpStack* stack, runtime::TransportConfig config)
      : shared{loop, handler, config, stack != nullptr ? &stack->ids() : nullptr}, sctp(shared, stack), tcp(shared) {}

  runtime::TransportShared shared;
  SctpConnections sctp;
  tcp::TcpMessageSockets tcp;
};

KernelTransport::KernelTransport(runtime::EventLoop& loop, runtime::MessageHandler& handler, SctpStack* stack,
                                 runtime::TransportConfig config)
    : impl_(std::make_unique<Impl>(loop, handler, stack, config)) {}

KernelTransport::~KernelTransport() {
  // Deferred on_closed callbacks queued before now must not run against a dead transport.
  *impl_->shared.alive = false;
  impl_->shared.alive.reset();
}

runtime::ListenResult KernelTransport::listen_sctp(WireProtocol protocol, std::span<const IpAddress> addresses,
                                          std::uint16_t port) {
  return impl_->sctp.listen(protocol, addresses, port);
}

runtime::ListenResult KernelTransport::listen_tcp(WireProtocol protocol, std::span<const IpAddress> addresses, std::uint16_t port,
                                         bool mptcp) {
  return impl_->tcp.listen(protocol, addresses, port, mptcp);
}

ConnectionId KernelTransport::connect_sctp(WireProtocol protocol, std::span<const IpAddress> addresses,
                                           std::uint16_t port, std::uint16_t remote_udp_port) {
  impl_->shared.last_error = 0;
  return impl_->sctp.connect(protocol, addresses, port, remote_udp_port);
}

ConnectionId KernelTransport::connect_tcp(WireProtocol protocol, const IpAddress& address, std::uint16_t port,
                                          bool mptcp) {
  impl_->shared.last_error = 0;
  return impl_->tcp.connect(protocol, address, port, mptcp);
}

runtime::ListenResult KernelTransport::listen_tls(WireProtocol protocol, std::span<const IpAddress> addresses,
                                                 std::uint16_t port, const std::shared_ptr<const tcp::TlsContext>& tls) {
  return impl_->tcp.listen(protocol, addresses, port, false, tls);
}

std::size_t KernelTransport::replace_tls(const tcp::TlsContext* old,
                                         const std::shared_ptr<const tcp::TlsContext>& next) {
  return impl_->tcp.replace_tls(old, next);
}

ConnectionId KernelTransport::connect_tls(WireProtocol protocol, const IpAddress& address, std::uint16_t port,
                                          std::shared_ptr<const tcp::TlsContext> tls, bool verify_ip) {
  impl_->shared.last_error = 0;
  return impl_->tcp.connect(protocol, address, port, false, std::move(tls), verify_ip);
}

const std::string& KernelTransport::last_tls_failure() const noexcept { return impl_->shared.last_tls_failure; }

runtime::SendResult KernelTransport::send(ConnectionId id, WireProtocol protocol, std::span<const std::uint8_t> message) {
  if (impl_->sctp.owns(id)) return impl_->sctp.send(id, protocol, message);
  if (impl_->tcp.owns(id)) return impl_->tcp.send(id, message);
  ++impl_->shared.counters.send_failed;
  return runtime::SendResult::kNoConnection;
}

void KernelTransport::close(ConnectionId id) {
  if (impl_->sctp.owns(id)) {
    impl_->sctp.close(id, runtime::CloseReason::kLocalClose);
  } else {
    impl_->tcp.close(id, runtime::CloseReason::kLocalClose);
  }
}

void KernelTransport::abort(ConnectionId id) {
  if (impl_->sctp.owns(id)) {
    impl_->sctp.abort(id);
  } else {
    impl_->tcp.abort(id);
  }
}

const ConnectionPeer* KernelTransport::peer_info(ConnectionId id) const {
  if (impl_->sctp.owns(id)) return impl_->sctp.peer_info(id);
  return impl_->tcp.peer_info(id);
}

runtime::TransportCounters KernelTransport::counters() const { return impl_->shared.counters; }

std::size_t KernelTransport::connection_count() const {
  return impl_->sctp.connection_count() + impl_->tcp.connection_count();
}

int KernelTransport::last_error() const noexcept { return impl_->shared.last_error; }

void KernelTransport::close_all() {
  impl_->sctp.close_all(runtime::CloseReason::kShutdown);
  impl_->tcp.close_all(runtime::CloseReason::kShutdown);
}

void KernelTransport::set_tcp_quotas(std::size_t partial_frame_budget, TimeNs first_message_timeout) noexcept {
  impl_->shared.config.partial_frame_budget = partial_frame_budget;
  impl_->shared.config.first_message_timeout = first_message_timeout;
}

std::size_t KernelTransport::queued_messages(ConnectionId id) const {
  if (impl_->sctp.owns(id)) return impl_->sctp.queued_messages(id);
  return impl_->tcp.queued_messages(id);
}

}  // namespace poolreg::kernel
