// MessageOutput: how registrar logic (ASAP, ENRP) sends messages without knowing about sockets.
// The daemon implements it over its transport (kernel sockets or DPDK); tests use a fake that
// records what was sent.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "registrar/common/ip_address.hpp"
#include "registrar/common/transport.hpp"

namespace poolreg {

// One SCTP association or TCP connection; 0 is never valid. Assigned by the transport.
using ConnectionId = std::uint64_t;
inline constexpr ConnectionId kNoConnectionId = 0;

enum class WireProtocol : std::uint8_t { kAsap = 0, kEnrp = 1 };

// What the registrar knows about the far end of a connection (from the transport).
struct ConnectionPeer {
  TransportProtocol kind = TransportProtocol::kSctp;  // kSctp or kTcp
  WireProtocol protocol = WireProtocol::kAsap;
  bool outgoing = false;
  std::vector<IpAddress> addresses;  // SCTP: every peer address; TCP: one
  std::uint16_t port = 0;
  std::uint16_t udp_encapsulation_port = 0;  // SCTP over UDP (RFC 6951); 0 otherwise
};

class MessageOutput {
 public:
  virtual ~MessageOutput() = default;
  // Sends one whole encoded message; false when the connection is gone or its queue is full.
  virtual bool send(ConnectionId connection, WireProtocol protocol, std::span<const std::uint8_t> message) = 0;
  // SCTP ABORT / TCP RST (e.g. a PE that missed its keep-alive, a wrong PPID).
  virtual void abort(ConnectionId connection) = 0;
  // Graceful end (SCTP SHUTDOWN / TCP FIN) after what is queued, e.g. an idle PU association.
  // An output that has no graceful end aborts instead.
  virtual void close(ConnectionId connection) { abort(connection); }
  // Opens a new association to `to` (its protocol decides SCTP or TCP). Returns the id at once
  // (kNoConnectionId on immediate failure); messages sent before it is up are queued by the
  // transport. Used for keep-alives with H=1 after a takeover and for ENRP peers.
  virtual ConnectionId connect(WireProtocol protocol, const TransportEndpoint& to) = 0;
};

}  // namespace poolreg
