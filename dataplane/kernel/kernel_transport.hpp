// KernelTransport: MessageTransport over kernel TCP sockets (epoll) and SCTP over UDP (RFC 6951)
// through the process's SctpStack (sctp_stack.hpp: the one sctp::SctpEngine of dataplane/sctp on
// one UDP socket), all driven by one EventLoop. See message_transport.hpp for the connection model.
//
// Design choices (why):
// - SCTP: the engine's one-to-many AF_CONN sockets. Listeners are engine listeners (wildcard:
//   every address of the UDP socket; the addresses given to listen_sctp() are not used).
//   Outgoing associations leave from this transport's listener of the same protocol when it has
//   one (source port 3863/9901, so a takeover PR is seen on its ASAP port, and a PE's association
//   leaves from its listening ASAP port), otherwise from a socket of their own, closed when the
//   association ends.
// - Everything runs on the loop thread: the stack's UDP socket is an fd of the loop, its timers a
//   repeating loop timer; engine events reach the MessageHandler only after the engine call
//   returned (never from inside usrsctp), so callbacks may call any member.
// - Sending: the engine sends at once or keeps the message in a bounded per-association FIFO
//   (max_queued_messages / max_queued_bytes; beyond that the message is dropped and counted,
//   SendResult::kQueueFull) flushed as SACKs make room. messages_sent counts what was accepted
//   (kSent and kQueued).
// - TCP: dataplane/tcp's TcpMessageSockets: non-blocking sockets, TCP_NODELAY, one send() per
//   message, framing by the message header Length (TcpFrameReader, nextgen.md §6.2). Both halves
//   share one runtime::TransportShared (ids, counters, the handler, runtime::TransportConfig).
//
// Limits worth knowing:
// - A peer is one address + UDP port (AF_CONN): no SCTP multi-homing. connect_sctp() uses the
//   first address; peer_info() lists the one address the association runs on.
// - From a listener, one association per peer endpoint: a second connect_sctp() to the same peer
//   address+port is refused at once (kNoConnectionId), also while an earlier association to it is
//   still finishing its SHUTDOWN. Without a listener every connect_sctp() gets its own socket.
// - All SCTP traffic of the process shares the one stack (one UDP encapsulation port), and all
//   transports using it must run on one EventLoop (else SCTP calls fail on the later ones).
//
// Example (server; a client is the same with connect_*() instead of listen_*()):
//   EventLoop loop;
//   auto stack = SctpStack::create({.udp_port = 9899});                  // nullptr: port busy
//   MyRegistrar handler;                                                  // a MessageHandler
//   KernelTransport transport(loop, handler, stack.get());
//   transport.listen_sctp(WireProtocol::kAsap, {}, kAsapPort);                // + kEnrp on 9901
//   transport.listen_tcp(WireProtocol::kAsap, {}, kAsapPort, /*mptcp=*/true);
//   loop.run();                       // handler.on_message(id, info, bytes) -> transport.send(id, ...)
//   transport.close_all(); loop.run_once(100);  // then destroy transport, then stack
//   // client: id = transport.connect_sctp(WireProtocol::kAsap, pr_addresses, kAsapPort);
//   //         wait for on_connected(id) (or send at once: queued in the engine), send(id, kAsap, msg)
//
// Threading: construct, use and destroy on the EventLoop's thread. The destructor aborts every
// connection and closes every socket WITHOUT calling the handler; call close_all() first for a
// graceful shutdown with on_closed(kShutdown) callbacks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "dataplane/runtime/event_loop.hpp"
#include "dataplane/runtime/message_transport.hpp"
#include "dataplane/runtime/transport_config.hpp"
#include "dataplane/kernel/sctp_stack.hpp"
#include "dataplane/tcp/tls_context.hpp"

namespace poolreg::kernel {

class KernelTransport final : public runtime::MessageTransport {
 public:
  // stack may be nullptr: then SCTP calls fail (TCP only). loop, handler and stack must outlive
  // the transport.
  KernelTransport(runtime::EventLoop& loop, runtime::MessageHandler& handler, SctpStack* stack, runtime::TransportConfig config = {});
  ~KernelTransport() override;
  KernelTransport(const KernelTransport&) = delete;
  KernelTransport& operator=(const KernelTransport&) = delete;

  runtime::ListenResult listen_sctp(WireProtocol protocol, std::span<const IpAddress> addresses, std::uint16_t port) override;
  runtime::ListenResult listen_tcp(WireProtocol protocol, std::span<const IpAddress> addresses, std::uint16_t port,
                          bool mptcp = false) override;
  ConnectionId connect_sctp(WireProtocol protocol, std::span<const IpAddress> addresses, std::uint16_t port,
                            std::uint16_t remote_udp_port = 0) override;
  ConnectionId connect_tcp(WireProtocol protocol, const IpAddress& address, std::uint16_t port,
                           bool mptcp = false) override;
  runtime::SendResult send(ConnectionId id, WireProtocol protocol, std::span<const std::uint8_t> message) override;
  void close(ConnectionId id) override;
  void abort(ConnectionId id) override;
  const ConnectionPeer* peer_info(ConnectionId id) const override;
  runtime::TransportCounters counters() const override;
  std::size_t connection_count() const override;
  int last_error() const noexcept override;

  // TLS over TCP (RFC 5355; see tcp_message_sockets.hpp): a listener with a server-side context,
  // a connection with a client-side one (verify_ip: the server's certificate must name `address`).
  // Same ids, send/close and callbacks as TCP; the TLS counters count handshakes.
  runtime::ListenResult listen_tls(WireProtocol protocol, std::span<const IpAddress> addresses, std::uint16_t port,
                                   const std::shared_ptr<const tcp::TlsContext>& tls);
  ConnectionId connect_tls(WireProtocol protocol, const IpAddress& address, std::uint16_t port,
                           std::shared_ptr<const tcp::TlsContext> tls, bool verify_ip);
  // Certificate rotation (tcp_message_sockets.hpp): listeners accepting with `old` use `next`.
  std::size_t replace_tls(const tcp::TlsContext* old, const std::shared_ptr<const tcp::TlsContext>& next);
  // Why the latest TLS handshake or identity check failed (empty when none did).
  const std::string& last_tls_failure() const noexcept;

  // Gracefully closes every connection (on_closed(kShutdown) for each, deferred) and every
  // listener. The transport stays usable (new listeners/connections may be opened).
  void close_all();
  // Queued (not yet handed to a socket) messages of a connection; 0 for unknown ids.
  std::size_t queued_messages(ConnectionId id) const;
  // A configuration reload: the TCP quotas of TransportConfig (partial_frame_budget checked on
  // the next read, first_message_timeout for connections accepted from now on).
  void set_tcp_quotas(std::size_t partial_frame_budget, TimeNs first_message_timeout) noexcept;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace poolreg::kernel
