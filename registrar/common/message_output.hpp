// MessageOutput: how registrar logic (ASAP, ENRP) sends messages without knowing about sockets.
// The daemon implements it over its transport (kernel sockets or DPDK); tests use a fake that
// records what was sent.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "registrar/common/clock.hpp"
#include "registrar/common/connection.hpp"
#include "registrar/common/keepalive_watch.hpp"
#include "registrar/common/transport.hpp"

namespace poolreg {

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

  // ---- endpoint keep-alives away from the caller (keepalive_watch.hpp) ----
  // Hands the PE's keep-alive monitoring to where its association runs (a lane). True: taken;
  // from now on its Keep-Alives and their Acks never reach the caller, the outcome comes back as
  // a KeepAliveReport. False (the default; TCP, tests, outputs without lanes): the caller keeps
  // monitoring it. A second watch of the same PE replaces the first.
  virtual bool watch_keepalives(const KeepAliveWatch& /*watch*/) { return false; }
  // Takes a watched PE back. Everything the output sends afterwards on the association (a
  // probe's Keep-Alive) follows it, so its Ack reaches the caller again. No-op when not watched.
  virtual void unwatch_keepalives(ConnectionId /*connection*/, const PoolHandle& /*handle*/,
                                  PoolElementId /*id*/) {}
  // New keep-alive interval / timeout for the watched PEs (from each PE's next timer on).
  virtual void set_keepalive_timers(TimeNs /*interval*/, TimeNs /*timeout*/) {}
};

}  // namespace poolreg
