// MessageTransport: moves whole ASAP/ENRP messages (opaque bytes; no TLV parsing here) between the
// registrar / client logic and the network. This header is the seam: poolregd and the client
// library program against MessageTransport and MessageHandler; KernelTransport (kernel sockets +
// usrsctp) implements it, tests may use a fake.
//
// Connection model
// - A ConnectionId names one SCTP association or one TCP connection ("a TCP connection plays the
//   role of an association", nextgen.md §6.4). Ids are unique for the life of the transport and
//   never reused; 0 is never a valid id.
// - Each connection has one expected WireProtocol: the protocol of the listener that accepted it or
//   of the connect_*() call that opened it (TCP: demultiplexed by port, nextgen.md §6.3; SCTP: by
//   PPID 11 ASAP / 12 ENRP, parameters.md §1).
// - Lifecycle, all on the event-loop thread:
//     incoming:  on_connected(id, peer) -> on_message(...)* -> on_closed(id, reason)
//     outgoing:  connect_*() returns id -> on_connected(id, peer) -> ... -> on_closed(id, reason)
//                (a failed connect gives on_closed(id, kConnectFailed) without on_connected)
//   An SCTP association's peer addresses may change while it is up (on_addresses_changed).
//   on_closed is delivered exactly once for every id ever handed out, also after the application
//   called close()/abort() itself (then deferred to the next loop pass, never re-entrantly from
//   inside close()/abort()). After on_closed the id is dead: send() returns false.
// - SCTP: a message with the other protocol's PPID is delivered to on_message with that WireProtocol
//   (so message.protocol != peer.protocol): the caller aborts the association (WIRE-06).
//   A PPID that is neither ASAP nor ENRP (nor their pre-IANA values) goes to on_unknown_ppid().
//
// Threading: every MessageHandler callback runs on the EventLoop thread given to the transport,
// and every MessageTransport member must be called on that thread. Callbacks may call any
// MessageTransport member (send, close, abort, connect_*), including for the id being reported.
//
// Errors are values: no member throws on the data path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "registrar/common/connection.hpp"
#include "registrar/common/counter_descriptor.hpp"
#include "registrar/common/expected.hpp"
#include "registrar/common/keepalive_watch.hpp"

namespace poolreg::runtime {

// Default ports (parameters.md §1).
inline constexpr std::uint16_t kAsapPort = 3863;
inline constexpr std::uint16_t kEnrpPort = 9901;
inline constexpr std::uint16_t kSctpUdpEncapsulationPort = 9899;
// IANA: ASAP over TLS and ENRP over TLS (RFC 5355; TCP, dataplane/tcp).
inline constexpr std::uint16_t kAsapTlsPort = 3864;
inline constexpr std::uint16_t kEnrpTlsPort = 9902;

// The message header length field is 16 bits.
inline constexpr std::size_t kMaxMessageSize = 65535;

enum class CloseReason : std::uint8_t {
  kPeerClosed,     // SCTP SHUTDOWN (event or complete) from the peer, TCP FIN
  kCommLost,       // SCTP COMM_LOST (incl. peer ABORT), TCP reset / error
  kPeerRestarted,  // SCTP RESTART: the old id closes, a new id is reported via on_connected
  kConnectFailed,  // outgoing connection never came up
  kLocalClose,     // close() by the application
  kLocalAbort,     // abort() by the application
  kFramingError,   // TCP: Length < 4, % 4 != 0, or > max (nextgen.md §6.2); SCTP: message too big
  kShutdown,       // the transport is being destroyed / stopped
  kQuotaExceeded,  // TCP: reset for the partial-frame budget or the first-message timeout
};
const char* to_string(CloseReason r) noexcept;

// Message metadata delivered with every message.
struct MessageInfo {
  WireProtocol protocol = WireProtocol::kAsap;  // SCTP: from the PPID; TCP: the connection's protocol
  std::uint32_t ppid = 0;               // SCTP: the PPID as received; TCP: 0
  std::uint16_t stream = 0;             // SCTP stream id; TCP: 0
  // The connection's smoothed RTT (µs) when the message was received, as ConnectionPeer::srtt_us;
  // measured only for the messages message_wants_path_rtt() names (registrar/common/
  // pe_distance.hpp), 0 for the others and when nothing was measured yet.
  std::uint32_t srtt_us = 0;
  // SCTP on lanes: the message's LaneOrder stamp (lane_order.hpp), which LaneTransport publishes
  // as finished once the handler returned; 0 elsewhere. Handlers ignore it.
  std::uint64_t lane_stamp = 0;
};

class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  virtual void on_connected(ConnectionId id, const ConnectionPeer& peer) = 0;
  // bytes are valid only during the call.
  virtual void on_message(ConnectionId id, const MessageInfo& info, std::span<const std::uint8_t> bytes) = 0;
  virtual void on_closed(ConnectionId id, CloseReason reason) = 0;
  // A message whose PPID is neither ASAP nor ENRP. Default: ignore (it is counted).
  virtual void on_unknown_ppid(ConnectionId /*id*/, std::uint32_t /*ppid*/) {}
  // The transport answered messages on this connection itself (the DPDK poll lcore's Handle
  // Resolutions) without delivering them: the connection is in use (idle timeouts). Reported at
  // most about once per second per connection. Default: ignore.
  virtual void on_activity(ConnectionId /*id*/) {}
  // SCTP: the peer changed the association's address set (RFC 5061 ADD-IP / DELETE-IP /
  // SET-PRIMARY, accepted by the SCTP stack). peer: as in on_connected, with the whole current
  // address list, primary first; peer_info(id) returns the same from now on. Default: ignore.
  virtual void on_addresses_changed(ConnectionId /*id*/, const ConnectionPeer& /*peer*/) {}
  // A PE whose endpoint keep-alives a lane monitors (LaneTransport::watch_keepalives) timed out
  // or is no longer ours there (keepalive_watch.hpp). Default: ignore.
  virtual void on_keepalive_report(const KeepAliveReport& /*report*/) {}
};

// Counters, all monotonic; names are what `poolctl stats` shows.
struct TransportCounters {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_opened = 0;   // outgoing that came up
  std::uint64_t connect_failures = 0;
  std::uint64_t connections_closed = 0;   // on_closed deliveries
  std::uint64_t messages_received = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t messages_sent = 0;        // handed to the kernel / usrsctp
  std::uint64_t bytes_sent = 0;
  std::uint64_t messages_queued = 0;      // sent later from the per-connection queue
  std::uint64_t send_dropped_queue_full = 0;
  std::uint64_t send_failed = 0;          // unknown id, closed, too big, socket error
  std::uint64_t framing_errors = 0;       // TCP connections closed for a bad Length
  std::uint64_t wrong_ppid = 0;           // the other protocol's PPID on an SCTP association
  std::uint64_t unknown_ppid = 0;
  std::uint64_t oversize_messages = 0;    // SCTP messages above max_message_size (dropped)
  std::uint64_t notifications = 0;        // SCTP notifications processed
  std::uint64_t mptcp_fallbacks = 0;      // MPTCP listen/connect fell back to TCP
  // A TCP listener stopped for 100 ms because accept() found no free descriptor (EMFILE/ENFILE:
  // RLIMIT_NOFILE or the system's limit) or no kernel memory; the waiting clients stay in the backlog.
  std::uint64_t accept_pauses = 0;
  // TCP quotas (TransportConfig): connections reset because the partial messages held over all
  // connections exceeded partial_frame_budget (largest first), or because they completed no
  // message within first_message_timeout.
  std::uint64_t partial_frame_budget_resets = 0;
  std::uint64_t first_message_timeouts = 0;
  // TLS (RFC 5355, dataplane/tcp): handshakes completed with an allowed peer; handshakes that
  // failed (bad or missing certificate, other CA, not TLS at all); peers whose verified
  // certificate names no identity on the allow-list; connections closed for not finishing the
  // handshake within tls.handshake_timeout_ms.
  std::uint64_t tls_handshakes = 0;
  std::uint64_t tls_handshake_failures = 0;
  std::uint64_t tls_identity_refused = 0;
  std::uint64_t tls_handshake_timeouts = 0;
};

// Every field of TransportCounters with its descriptor (stats key, Prometheus family, help):
// `poolctl stats` and /metrics read only this table (message_transport.cpp).
std::span<const DescribedField<TransportCounters>> transport_counter_fields() noexcept;

enum class SendResult : std::uint8_t {
  kSent,          // handed to the socket
  kQueued,        // socket full: kept in the bounded per-connection queue, sent in order later
  kNoConnection,  // unknown / closed / closing id
  kTooBig,        // larger than max_message_size or empty
  kQueueFull,     // dropped: the per-connection queue is at its limit
  kError,         // socket error (the connection will be closed and reported)
};
inline bool send_ok(SendResult r) noexcept { return r == SendResult::kSent || r == SendResult::kQueued; }
const char* to_string(SendResult r) noexcept;

// Why a listener could not be opened: an errno value and what was tried.
struct ListenError {
  int error = 0;
  std::string detail;
};
// Opening a listener: the bound port (useful with port 0 = any free port), or why not.
using ListenResult = Expected<std::uint16_t, ListenError>;
inline ListenResult listen_error(int error, std::string detail) {
  return Unexpected(ListenError{error, std::move(detail)});
}

class MessageTransport {
 public:
  virtual ~MessageTransport() = default;

  // Listeners. addresses empty = any address (IPv6 socket accepting IPv4 too where the stack
  // allows it). SCTP binds all given addresses to one endpoint (multi-homing).
  virtual ListenResult listen_sctp(WireProtocol protocol, std::span<const IpAddress> addresses, std::uint16_t port) = 0;
  // mptcp: try IPPROTO_MPTCP first and fall back to TCP when the kernel refuses (nextgen.md §6.7).
  virtual ListenResult listen_tcp(WireProtocol protocol, std::span<const IpAddress> addresses, std::uint16_t port,
                                  bool mptcp = false) = 0;

  // Outgoing connections. Returns kNoConnectionId when the attempt fails at once (bad arguments,
  // socket error); otherwise the id, followed later by on_connected or on_closed(kConnectFailed).
  // SCTP: addresses are the peer's addresses (all tried, multi-homing); remote_udp_port is the
  // peer's UDP encapsulation port (0 = the transport's configured default, usually 9899).
  virtual ConnectionId connect_sctp(WireProtocol protocol, std::span<const IpAddress> addresses, std::uint16_t port,
                                    std::uint16_t remote_udp_port = 0) = 0;
  // A native SCTP association (IP protocol 132, no UDP encapsulation), otherwise as connect_sctp().
  // The lanes' LaneTransport (poolregd) implements it; the others return kNoConnectionId (the
  // client side's KernelTransport goes native through its transport config instead:
  // default_remote_udp_port 0 on an SctpStack opened with SctpStackConfig::native).
  virtual ConnectionId connect_sctp_native(WireProtocol /*protocol*/,
                                           std::span<const IpAddress> /*addresses*/, std::uint16_t /*port*/) {
    return kNoConnectionId;
  }
  virtual ConnectionId connect_tcp(WireProtocol protocol, const IpAddress& address, std::uint16_t port,
                                   bool mptcp = false) = 0;

  // Sends one whole message. SCTP: one DATA message with the protocol's PPID on stream 0, ordered.
  // TCP: the bytes as-is (the caller's message carries its own Length), one send() per message.
  // protocol normally equals the connection's protocol; SCTP sends the PPID of the given protocol.
  virtual SendResult send(ConnectionId id, WireProtocol protocol, std::span<const std::uint8_t> message) = 0;
  // Graceful: queued messages are still sent, then SCTP SHUTDOWN / TCP FIN.
  virtual void close(ConnectionId id) = 0;
  // Immediate: SCTP ABORT / TCP RST; queued messages are dropped.
  virtual void abort(ConnectionId id) = 0;

  // nullptr when the id is unknown or closed. Valid until the next call into the transport.
  virtual const ConnectionPeer* peer_info(ConnectionId id) const = 0;
  virtual TransportCounters counters() const = 0;
  virtual std::size_t connection_count() const = 0;
  // The errno behind the latest connect_*() that returned kNoConnectionId, and, while an
  // on_closed(kConnectFailed) is being delivered, behind that failure (ECONNREFUSED, ETIMEDOUT
  // for the connect timeout, ...). 0 when the transport does not know one (an SCTP handshake that
  // got no answer has no errno: usrsctp over UDP never hears an ICMP port unreachable). Lets
  // clients name the cause instead of a bare "connect-failed".
  virtual int last_error() const noexcept { return 0; }
};

}  // namespace poolreg::runtime
