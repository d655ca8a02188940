// CombinedTransport: one MessageTransport over two: SCTP calls go to the lanes' LaneTransport,
// TCP calls to a KernelTransport on the control thread (both backends serve TCP from kernel
// sockets on the control thread: see dataplane/daemon/README.md). Connection ids of the two never
// overlap: the lane side hands out ids from kLaneConnectionIdBase up, the kernel side counts from
// 1, so per-id calls are routed by range. Event-loop thread only, like both halves.
#pragma once

#include "dataplane/runtime/message_transport.hpp"

namespace poolreg::runtime {

inline constexpr ConnectionId kLaneConnectionIdBase = 1ull << 40;

class CombinedTransport final : public MessageTransport {
 public:
  CombinedTransport(MessageTransport& sctp, MessageTransport& tcp) : sctp_(sctp), tcp_(tcp) {}

  ListenResult listen_sctp(WireProtocol p, std::span<const IpAddress> a,
                                   std::uint16_t port) override {
    return sctp_.listen_sctp(p, a, port);
  }
  ListenResult listen_tcp(WireProtocol p, std::span<const IpAddress> a, std::uint16_t port,
                                  bool mptcp = false) override {
    return tcp_.listen_tcp(p, a, port, mptcp);
  }
  ConnectionId connect_sctp(WireProtocol p, std::span<const IpAddress> a, std::uint16_t port,
                                    std::uint16_t udp = 0) override {
    return sctp_.connect_sctp(p, a, port, udp);
  }
  ConnectionId connect_sctp_native(WireProtocol p, std::span<const IpAddress> a,
                                   std::uint16_t port) override {
    return sctp_.connect_sctp_native(p, a, port);
  }
  ConnectionId connect_tcp(WireProtocol p, const IpAddress& a, std::uint16_t port,
                                   bool mptcp = false) override {
    return tcp_.connect_tcp(p, a, port, mptcp);
  }
  SendResult send(ConnectionId id, WireProtocol p,
                          std::span<const std::uint8_t> m) override {
    return of(id).send(id, p, m);
  }
  void close(ConnectionId id) override { of(id).close(id); }
  void abort(ConnectionId id) override { of(id).abort(id); }
  const ConnectionPeer* peer_info(ConnectionId id) const override { return of(id).peer_info(id); }
  TransportCounters counters() const override;
  std::size_t connection_count() const override { return sctp_.connection_count() + tcp_.connection_count(); }

 private:
  MessageTransport& of(ConnectionId id) const {
    return id >= kLaneConnectionIdBase ? sctp_ : tcp_;
  }
  MessageTransport& sctp_;
  MessageTransport& tcp_;
};

inline TransportCounters CombinedTransport::counters() const {
  const TransportCounters a = sctp_.counters(), b = tcp_.counters();
  TransportCounters s;
  s.connections_accepted = a.connections_accepted + b.connections_accepted;
  s.connections_opened = a.connections_opened + b.connections_opened;
  s.connect_failures = a.connect_failures + b.connect_failures;
  s.connections_closed = a.connections_closed + b.connections_closed;
  s.messages_received = a.messages_received + b.messages_received;
  s.bytes_received = a.bytes_received + b.bytes_received;
  s.messages_sent = a.messages_sent + b.messages_sent;
  s.bytes_sent = a.bytes_sent + b.bytes_sent;
  s.messages_queued = a.messages_queued + b.messages_queued;
  s.send_dropped_queue_full = a.send_dropped_queue_full + b.send_dropped_queue_full;
  s.send_failed = a.send_failed + b.send_failed;
  s.framing_errors = a.framing_errors + b.framing_errors;
  s.wrong_ppid = a.wrong_ppid + b.wrong_ppid;
  s.unknown_ppid = a.unknown_ppid + b.unknown_ppid;
  s.oversize_messages = a.oversize_messages + b.oversize_messages;
  s.notifications = a.notifications + b.notifications;
  s.mptcp_fallbacks = a.mptcp_fallbacks + b.mptcp_fallbacks;
  s.accept_pauses = a.accept_pauses + b.accept_pauses;
  s.partial_frame_budget_resets = a.partial_frame_budget_resets + b.partial_frame_budget_resets;
  s.first_message_timeouts = a.first_message_timeouts + b.first_message_timeouts;
  s.tls_handshakes = a.tls_handshakes + b.tls_handshakes;
  s.tls_handshake_failures = a.tls_handshake_failures + b.tls_handshake_failures;
  s.tls_identity_refused = a.tls_identity_refused + b.tls_identity_refused;
  s.tls_handshake_timeouts = a.tls_handshake_timeouts + b.tls_handshake_timeouts;
  return s;
}

}  // namespace poolreg::runtime
