#include "dataplane/runtime/message_transport.hpp"

#include <array>

namespace poolreg::runtime {

const char* to_string(CloseReason r) noexcept {
  switch (r) {
    case CloseReason::kPeerClosed: return "peer-closed";
    case CloseReason::kCommLost: return "comm-lost";
    case CloseReason::kPeerRestarted: return "peer-restarted";
    case CloseReason::kConnectFailed: return "connect-failed";
    case CloseReason::kLocalClose: return "local-close";
    case CloseReason::kLocalAbort: return "local-abort";
    case CloseReason::kFramingError: return "framing-error";
    case CloseReason::kShutdown: return "shutdown";
    case CloseReason::kQuotaExceeded: return "quota-exceeded";
  }
  return "?";
}

const char* to_string(SendResult r) noexcept {
  switch (r) {
    case SendResult::kSent: return "sent";
    case SendResult::kQueued: return "queued";
    case SendResult::kNoConnection: return "no-connection";
    case SendResult::kTooBig: return "too-big";
    case SendResult::kQueueFull: return "queue-full";
    case SendResult::kError: return "error";
  }
  return "?";
}

namespace {
// Stats key (the field's name), metric, help; byte counters in _bytes_total.
constexpr std::array kTransportFields = std::to_array<DescribedField<TransportCounters>>({
    {{"connections_accepted", "poolreg_transport_connections_accepted_total",
      "Connections and associations accepted from PEs, PUs and peers (TCP and SCTP)."},
     &TransportCounters::connections_accepted},
    {{"connections_opened", "poolreg_transport_connections_opened_total",
      "Outgoing connections and associations that came up (ENRP peers, taken-over PEs)."},
     &TransportCounters::connections_opened},
    {{"connect_failures", "poolreg_transport_connect_failures_total",
      "Outgoing connections and associations that failed to come up; unreachable peers or PEs."},
     &TransportCounters::connect_failures},
    {{"connections_closed", "poolreg_transport_connections_closed_total",
      "Connections and associations closed or lost, either side."},
     &TransportCounters::connections_closed},
    {{"messages_received", "poolreg_transport_messages_received_total",
      "Whole ASAP/ENRP messages received by the transports (before decoding)."},
     &TransportCounters::messages_received},
    {{"bytes_received", "poolreg_transport_received_bytes_total",
      "Bytes of ASAP/ENRP messages received by the transports.", CounterUnit::kBytes},
     &TransportCounters::bytes_received},
    {{"messages_sent", "poolreg_transport_messages_sent_total",
      "ASAP/ENRP messages handed to the kernel or usrsctp."},
     &TransportCounters::messages_sent},
    {{"bytes_sent", "poolreg_transport_sent_bytes_total",
      "Bytes of ASAP/ENRP messages handed to the kernel or usrsctp.", CounterUnit::kBytes},
     &TransportCounters::bytes_sent},
    {{"messages_queued", "poolreg_transport_messages_queued_total",
      "Messages that waited in a connection's send queue because the socket was full; a slow reader."},
     &TransportCounters::messages_queued},
    {{"send_dropped_queue_full", "poolreg_transport_send_dropped_queue_full_total",
      "Messages dropped because a connection's send queue was full; answers that were lost."},
     &TransportCounters::send_dropped_queue_full},
    {{"send_failed", "poolreg_transport_send_failed_total",
      "Messages that could not be sent (unknown or closed connection, too big, socket error)."},
     &TransportCounters::send_failed},
    {{"framing_errors", "poolreg_transport_framing_errors_total",
      "TCP connections closed because a message header carried an impossible Length."},
     &TransportCounters::framing_errors},
    {{"wrong_ppid", "poolreg_transport_wrong_ppid_total",
      "SCTP messages carrying the other protocol's PPID (ENRP on the ASAP port or the reverse); a misconfigured client."},
     &TransportCounters::wrong_ppid},
    {{"unknown_ppid", "poolreg_transport_unknown_ppid_total",
      "SCTP messages with a PPID that is neither ASAP (11) nor ENRP (12); dropped."},
     &TransportCounters::unknown_ppid},
    {{"oversize_messages", "poolreg_transport_oversize_messages_total",
      "SCTP messages above the maximum message size; dropped."},
     &TransportCounters::oversize_messages},
    {{"notifications", "poolreg_transport_notifications_total",
      "SCTP notifications processed (association changes, address events, shutdowns)."},
     &TransportCounters::notifications},
    {{"mptcp_fallbacks", "poolreg_transport_mptcp_fallbacks_total",
      "MPTCP listens or connects that fell back to plain TCP (kernel without MPTCP)."},
     &TransportCounters::mptcp_fallbacks},
    {{"accept_pauses", "poolreg_transport_accept_pauses_total",
      "Times a TCP listener paused 100 ms because accept() found no free descriptor or memory; raise RLIMIT_NOFILE."},
     &TransportCounters::accept_pauses},
    {{"partial_frame_budget_resets", "poolreg_transport_partial_frame_budget_resets_total",
      "TCP connections reset because partial messages over all connections exceeded limits.partial_frame_budget_bytes."},
     &TransportCounters::partial_frame_budget_resets},
    {{"first_message_timeouts", "poolreg_transport_first_message_timeouts_total",
      "TCP connections reset because they completed no message within limits.first_message_timeout_ms."},
     &TransportCounters::first_message_timeouts},
    {{"tls_handshakes", "poolreg_transport_tls_handshakes_total",
      "TLS handshakes completed with a peer whose certificate passed the CA and the identity allow-list."},
     &TransportCounters::tls_handshakes},
    {{"tls_handshake_failures", "poolreg_transport_tls_handshake_failures_total",
      "TLS handshakes that failed: certificate from another CA, missing where required, not TLS, protocol error."},
     &TransportCounters::tls_handshake_failures},
    {{"tls_identity_refused", "poolreg_transport_tls_identity_refused_total",
      "TLS peers refused because their verified certificate names no identity on the tls allow-list."},
     &TransportCounters::tls_identity_refused},
    {{"tls_handshake_timeouts", "poolreg_transport_tls_handshake_timeouts_total",
      "TLS connections closed because the handshake did not finish within tls.handshake_timeout_ms."},
     &TransportCounters::tls_handshake_timeouts},

});
}  // namespace

std::span<const DescribedField<TransportCounters>> transport_counter_fields() noexcept { return kTransportFields; }

}  // namespace poolreg::runtime
