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
      id = transport_.connect_sctp(protocol, to.addresses, to.port,
                                   remote_udp_port(to.addresses.front(), to.port));
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
  if (peer.kind != TransportProtocol::kSctp || peer.udp_encapsulation_port == 0) return;
  for (const auto& a : peer.addresses) learned_[key_of(a, peer.port)] = peer.udp_encapsulation_port;
}

std::uint16_t TransportOutput::remote_udp_port(const IpAddress& address, std::uint16_t sctp_port) const {
  if (auto it = learned_.find(key_of(address, sctp_port)); it != learned_.end()) return it->second;
  if (auto it = configured_.find(key_of(address, sctp_port)); it != configured_.end()) return it->second;
  if (auto it = by_port_.find(sctp_port); it != by_port_.end()) return it->second;
  return 0;
}

}  // namespace poolreg::daemon
