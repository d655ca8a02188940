// TransportOutput: MessageOutput over the kernel transport.
#include "dataplane/daemon/transport_output.hpp"

namespace poolreg::daemon {

TransportOutput::TransportOutput(runtime::MessageTransport& transport, bool mptcp,
                                 std::function<void(ConnectionId, WireProtocol)> on_connect)
    : transport_(transport), mptcp_(mptcp), on_connect_(std::move(on_connect)) {}

bool TransportOutput::send(ConnectionId connection, WireProtocol protocol, std::span<const std::uint8_t> message) {
  const bool ok = runtime::send_ok(transport_.send(connection, protocol, message));
  if (!ok) ++counters_.sends_failed;
  return ok;
}

void TransportOutput::abort(ConnectionId connection) { transport_.abort(connection); }

void TransportOutput::close(ConnectionId connection) { transport_.close(connection); }

ConnectionId TransportOutput::connect(WireProtocol protocol, const TransportEndpoint& to) {
  ConnectionId id = kNoConnectionId;
  if (!to.addresses.empty() && to.port != 0) {
    if (to.protocol == TransportProtocol::kTcp && protocol == WireProtocol::kEnrp && enrp_tls_) {
      id = enrp_tls_(protocol, to.addresses.front(), to.port);
    } else if (to.protocol == TransportProtocol::kTcp) {
      id = transport_.connect_tcp(protocol, to.addresses.front(), to.port, mptcp_);
    } else if (to.protocol == TransportProtocol::kSctp) {
      const SctpRoute route = sctp_route(to.addresses.front(), to.port);
      id = route.native ? transport_.connect_sctp_native(protocol, to.addresses, to.port)
                        : transport_.connect_sctp(protocol, to.addresses, to.port, route.udp_port);
    }
  }
  if (id == kNoConnectionId) {
    ++counters_.connects_failed_at_once;
    return kNoConnectionId;
  }
  ++counters_.connects;
  if (on_connect_) on_connect_(id, protocol);
  return id;
}

TransportOutput::Key TransportOutput::key_of(const IpAddress& a, std::uint16_t port) {
  return {std::string(reinterpret_cast<const char*>(a.data()), a.size()), port};
}

void TransportOutput::note_peer(const ConnectionPeer& peer) {
  if (peer.kind != TransportProtocol::kSctp) return;
  // UDP port 0: the association runs on native SCTP (the engine's convention, sctp_engine.hpp).
  const SctpRoute route{peer.udp_encapsulation_port == 0, peer.udp_encapsulation_port};
  for (const auto& a : peer.addresses) learned_[key_of(a, peer.port)] = route;
}

SctpRoute TransportOutput::sctp_route(const IpAddress& address, std::uint16_t sctp_port) const {
  if (auto it = learned_.find(key_of(address, sctp_port)); it != learned_.end()) return it->second;
  if (auto it = configured_.find(key_of(address, sctp_port)); it != configured_.end()) return it->second;
  if (auto it = by_port_.find(sctp_port); it != by_port_.end()) return SctpRoute{false, it->second};
  return {};
}

}  // namespace poolreg::daemon
