// TransportConfig: the limits and timeouts of the socket transports on an EventLoop thread: the
// TCP half (dataplane/tcp) and the SCTP-on-SctpStack half (dataplane/kernel) of a KernelTransport.
// Here, not in either folder, because both halves read it through the one TransportShared they
// share (transport_shared.hpp) and dataplane/kernel builds on dataplane/tcp, never the reverse.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/runtime/message_transport.hpp"
#include "registrar/common/clock.hpp"

namespace poolreg::runtime {

struct TransportConfig {
  std::size_t max_message_size = kMaxMessageSize;          // receive and send limit (TCP framing max)
  std::size_t max_queued_messages = 16384;                 // per connection
  std::size_t max_queued_bytes = 16u << 20;                // per connection
  std::uint16_t default_remote_udp_port = kSctpUdpEncapsulationPort;  // SCTP: connect_sctp(..., 0)
  std::size_t messages_per_pass = 256;                     // TCP: per socket per loop pass
  int tcp_backlog = 1024;
  TimeNs tcp_connect_timeout = 10 * kNsPerSec;
  std::uint16_t sctp_streams = 16;                         // SCTP: outbound streams requested
  // TCP quotas (issue 17, limits.*): bytes of incomplete messages held over all connections
  // (0 = off; beyond it the connection holding the largest, then oldest, partial message is
  // reset), and how long an accepted connection may stay up without one complete message
  // (0 = off; applies to connections accepted from then on).
  std::size_t partial_frame_budget = 0;
  TimeNs first_message_timeout = 0;
  // TLS (dataplane/tcp, tls.handshake_timeout_ms): a connection that has not finished its TLS
  // handshake this long after the TCP connection came up is reset and counted.
  TimeNs tls_handshake_timeout = 10 * kNsPerSec;
};

}  // namespace poolreg::runtime
