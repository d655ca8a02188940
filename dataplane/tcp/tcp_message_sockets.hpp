// TcpMessageSockets: ASAP/ENRP over TCP (and MPTCP): non-blocking listeners and connections on
// the EventLoop, message framing by TcpFrameReader, bounded send queues, the connection model of
// runtime/message_transport.hpp. The public face of dataplane/tcp; kernel::KernelTransport
// composes it with its SCTP half through the runtime::TransportShared both halves share (ids,
// counters, handler). Loop (control) thread only: construct, use and destroy there.
//
// TLS (RFC 5355): a listener or an outgoing connection given a TlsContext runs TLS over the same
// non-blocking socket. The connection is reported (on_connected) only after the handshake and
// the identity allow-list passed; an accepted connection that fails either, or does not finish
// within TransportConfig::tls_handshake_timeout, is closed without any callback (its id was never
// handed out) and counted; an outgoing one ends with on_closed(kConnectFailed). Graceful closes
// send close_notify; a peer's close_notify is a kPeerClosed, a TCP end without it a kCommLost.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "dataplane/runtime/listener_pause.hpp"
#include "dataplane/runtime/transport_shared.hpp"
#include "dataplane/tcp/outbound_queue.hpp"
#include "dataplane/tcp/tcp_frame_reader.hpp"
#include "dataplane/tcp/tls_context.hpp"
#include "dataplane/tcp/tls_session.hpp"

namespace poolreg::tcp {

// Linux IPPROTO_MPTCP (not in every libc header).
inline constexpr int kIpProtoMptcp = 262;

class TcpMessageSockets {
 public:
  explicit TcpMessageSockets(runtime::TransportShared& shared);
  ~TcpMessageSockets();  // resets every connection, closes every listener, no callbacks

  // tls: nullptr = plain TCP; else a server-side context for listen(), a client-side one for
  // connect() (which then checks that the server's certificate names `address` when verify_ip).
  runtime::ListenResult listen(WireProtocol protocol, std::span<const IpAddress> addresses, std::uint16_t port, bool mptcp,
                               const std::shared_ptr<const TlsContext>& tls = nullptr);
  ConnectionId connect(WireProtocol protocol, const IpAddress& address, std::uint16_t port, bool mptcp,
                       std::shared_ptr<const TlsContext> tls = nullptr, bool verify_ip = false);
  bool owns(ConnectionId id) const { return connections_.count(id) != 0; }
  runtime::SendResult send(ConnectionId id, std::span<const std::uint8_t> message);
  void close(ConnectionId id, runtime::CloseReason reason_reported);
  void abort(ConnectionId id);
  const ConnectionPeer* peer_info(ConnectionId id) const;
  std::size_t connection_count() const noexcept { return reported_open_; }
  std::size_t queued_messages(ConnectionId id) const;
  void close_all(runtime::CloseReason reason);
  // Certificate rotation: the listeners that accept with `old` accept with `next` from now on
  // (connections up keep their session and its context). Returns how many were switched.
  std::size_t replace_tls(const TlsContext* old, const std::shared_ptr<const TlsContext>& next);

 private:
  enum class State : std::uint8_t { kConnecting, kHandshaking, kUp, kClosing };
  struct Listener {
    int fd = -1;
    WireProtocol protocol = WireProtocol::kAsap;
    std::shared_ptr<const TlsContext> tls;
  };
  struct Connection {
    ConnectionId id = 0;
    int fd = -1;
    State state = State::kConnecting;
    ConnectionPeer peer;
    TcpFrameReader reader;
    OutboundQueue queue;
    bool want_write = false;
    runtime::EventLoop::TimerId timer = runtime::EventLoop::kNoTimer;  // connect/first-message timeout, linger
    // Partial-frame budget: the bytes counted in partial_total_ and since when they are held.
    std::size_t partial_counted = 0;
    TimeNs partial_since = 0;
    bool message_seen = false;  // accepted connections: completed one message (first-message timeout)
    // The id was handed out (outgoing: by connect(); accepted: by on_connected after the handshake).
    bool reported = false;
    std::unique_ptr<TlsSession> tls{};  // nullptr = plain TCP
  };

  int open_socket(int family, bool mptcp);
  void on_accept(int listen_fd);
  Connection& add_connection(int fd, WireProtocol protocol, State state, bool outgoing);
  void on_event(ConnectionId id, std::uint32_t events);
  void on_connect_done(Connection& c);
  // The connection is up (TCP connected, TLS handshake done): on_connected, then what was queued
  // meanwhile. nullptr when the handler or a failed write ended it.
  Connection* bring_up(Connection& c);
  void on_readable(ConnectionId id);
  // TLS: starts the handshake (timeout armed), runs one step of it, finishes it (allow-list,
  // on_connected).
  void start_handshake(Connection& c);
  void drive_handshake(Connection& c);
  void handshake_done(Connection& c);
  // The socket calls of the read and write paths, through TLS when the connection has it.
  static ssize_t read_some(Connection& c, std::uint8_t* buffer, std::size_t capacity);
  static ssize_t write_some(Connection& c, const std::uint8_t* data, std::size_t length);
  // Writes queued bytes; false when the connection failed (already ended).
  bool flush(Connection& c);
  void update_interest(Connection& c);
  // Per-client quotas (TransportConfig::partial_frame_budget, first_message_timeout).
  void arm_first_message_timeout(Connection& c);
  void note_message(Connection& c);
  void count_partial(Connection& c);
  void enforce_partial_budget();
  // Ends a connection from a network event: reports now unless the application closed it.
  // error: the errno behind the end when known (a failed connect), for MessageTransport::last_error().
  void end(ConnectionId id, runtime::CloseReason reason, bool reset, int error = 0);
  void destroy(ConnectionId id, bool reset);

  runtime::TransportShared& shared_;
  std::unordered_map<int, Listener> listeners_;
  // Listeners out of the loop's interest while accept() lacks descriptors (no busy loop on EMFILE).
  runtime::ListenerPause accept_pause_{shared_.loop};
  std::unordered_map<ConnectionId, std::unique_ptr<Connection>> connections_;
  std::size_t reported_open_ = 0;
  std::size_t partial_total_ = 0;  // bytes buffered by all connections' readers (partial frames)
};

}  // namespace poolreg::tcp
