// TransportOutput: the registrar's MessageOutput (registrar/common/message_output.hpp) over the
// MessageTransport (both speak the connection vocabulary of registrar/common/connection.hpp);
// connect() opens SCTP or TCP by the endpoint's transport protocol.
//
// SCTP over UDP (RFC 6951) or native SCTP (IP protocol 132): an outgoing association needs to
// know which the peer speaks and, over UDP, its UDP encapsulation port; no ASAP/ENRP parameter
// carries either. It is chosen in this order:
//   1. learned: how an association we already had with that address and SCTP port ran, native
//      or over UDP from which port (note_peer(), fed by the router with every association that
//      comes up: a native peer that reached us is connected natively);
//   2. configured for that address and SCTP port (udp_port, or sctp_native = true, of an
//      [[enrp.peers]] entry);
//   3. configured per remote SCTP port (one-host clusters where every registrar runs its own
//      usrsctp stack on its own UDP port; poolregd --sctp-peer-udp-port SCTPPORT=UDPPORT);
//   4. the transport's default (RFC 6951: 9899; poolregd --sctp-remote-udp-port).
// A native route goes through MessageTransport::connect_sctp_native (which fails at once, counted
// in connects_failed_at_once, when the lanes have no native path).
//
// Threading: event-loop thread only, like the transport.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "dataplane/runtime/lane_transport.hpp"
#include "dataplane/runtime/message_transport.hpp"
#include "registrar/common/message_output.hpp"

namespace poolreg::daemon {

struct TransportOutputCounters {
  std::uint64_t sends_failed = 0;
  std::uint64_t connects = 0;
  std::uint64_t connects_failed_at_once = 0;
};

// How connect() reaches an SCTP peer: natively, or over UDP to udp_port (0 = the transport's default).
struct SctpRoute {
  bool native = false;
  std::uint16_t udp_port = 0;
  friend bool operator==(const SctpRoute&, const SctpRoute&) = default;
};

class TransportOutput final : public MessageOutput {
 public:
  // on_connect: told about every id connect() hands out (the router needs the protocol of
  // outgoing ids, whose on_closed(kConnectFailed) may come without on_connected).
  TransportOutput(runtime::MessageTransport& transport, bool mptcp,
                  std::function<void(ConnectionId, WireProtocol)> on_connect);

  bool send(ConnectionId connection, WireProtocol protocol, std::span<const std::uint8_t> message) override;
  void abort(ConnectionId connection) override;
  void close(ConnectionId connection) override;
  ConnectionId connect(WireProtocol protocol, const TransportEndpoint& to) override;
  // Endpoint keep-alives on the lanes (asap.keepalive_on_lanes): PEs over an SCTP association
  // that runs on a lane go to that lane (LaneTransport::watch_keepalives); without lanes (or
  // over TCP) AsapServer keeps them.
  bool watch_keepalives(const KeepAliveWatch& watch) override {
    return lanes_ != nullptr && lanes_->watch_keepalives(watch);
  }
  void unwatch_keepalives(ConnectionId connection, const PoolHandle& handle, PoolElementId id) override {
    if (lanes_ != nullptr) lanes_->unwatch_keepalives(connection, handle, id);
  }
  void set_keepalive_timers(TimeNs interval, TimeNs timeout) override {
    if (lanes_ != nullptr) lanes_->set_keepalive_timers(interval, timeout);
  }
  // The lanes' transport (null: none); must outlive this output.
  void set_lanes(runtime::LaneTransport* lanes) noexcept { lanes_ = lanes; }

  // ENRP over TLS ([tls] with enrp.tcp): every ENRP TCP connect() goes through `connect` (the
  // kernel transport's connect_tls with the ENRP client context) instead of plain connect_tcp.
  using TlsConnect = std::function<ConnectionId(WireProtocol, const IpAddress&, std::uint16_t)>;
  void set_enrp_tls(TlsConnect connect) { enrp_tls_ = std::move(connect); }

  // Remote UDP encapsulation port for associations to (address, SCTP port) (rule 2 above).
  void set_endpoint_udp_port(const IpAddress& address, std::uint16_t sctp_port, std::uint16_t udp_port) {
    configured_[key_of(address, sctp_port)] = SctpRoute{false, udp_port};
  }
  // Native SCTP for associations to (address, SCTP port) (rule 2 above: sctp_native of a peer).
  void set_endpoint_native(const IpAddress& address, std::uint16_t sctp_port) {
    configured_[key_of(address, sctp_port)] = SctpRoute{true, 0};
  }
  // Remote UDP encapsulation port for associations to SCTP port `sctp_port` (rule 3 above).
  void set_peer_udp_port(std::uint16_t sctp_port, std::uint16_t udp_port) { by_port_[sctp_port] = udp_port; }
  // Rule 1: remembers how an SCTP association that came up runs (native, or its UDP port).
  void note_peer(const ConnectionPeer& peer);
  // How connect() would reach (address, sctp_port).
  SctpRoute sctp_route(const IpAddress& address, std::uint16_t sctp_port) const;
  // The UDP port connect() would use for (address, sctp_port); 0 = the transport's default (or native).
  std::uint16_t remote_udp_port(const IpAddress& address, std::uint16_t sctp_port) const {
    return sctp_route(address, sctp_port).udp_port;
  }

  const TransportOutputCounters& counters() const noexcept { return counters_; }

 private:
  using Key = std::pair<std::string, std::uint16_t>;  // raw address bytes, SCTP port
  static Key key_of(const IpAddress& a, std::uint16_t port);

  runtime::MessageTransport& transport_;
  runtime::LaneTransport* lanes_ = nullptr;
  bool mptcp_;
  std::function<void(ConnectionId, WireProtocol)> on_connect_;
  TlsConnect enrp_tls_;
  std::map<Key, SctpRoute> learned_;
  std::map<Key, SctpRoute> configured_;
  std::map<std::uint16_t, std::uint16_t> by_port_;
  TransportOutputCounters counters_;
};

}  // namespace poolreg::daemon
