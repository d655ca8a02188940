#include "registrar/enrp/peer_links.hpp"

#include <variant>

#include "registrar/enrp/peer_wire_options.hpp"
#include "registrar/wire/enrp_codec.hpp"

namespace poolreg::enrp {

PeerLinks::PeerLinks(const EnrpConfig& config, MessageOutput& output, const Clock& clock)
    : config_(config), output_(output), clock_(clock) {
  scratch_.reserve(2048);
}

void PeerLinks::on_connection_up(ConnectionId connection, const ConnectionPeer& peer) {
  connections_[connection] = peer;
}

void PeerLinks::on_connection_closed(ConnectionId connection) { connections_.erase(connection); }

const ConnectionPeer* PeerLinks::peer_of(ConnectionId connection) const {
  auto it = connections_.find(connection);
  return it == connections_.end() ? nullptr : &it->second;
}

ConnectionId PeerLinks::ensure_connection(PeerEntry& peer) {
  if (peer.connection != kNoConnectionId) return peer.connection;
  if (peer.endpoint.addresses.empty() || peer.endpoint.port == 0) return kNoConnectionId;
  const TimeNs now = clock_.now();
  if (now < peer.next_connect_allowed) return kNoConnectionId;
  peer.next_connect_allowed = now + kNsPerSec;
  const ConnectionId c = output_.connect(WireProtocol::kEnrp, peer.endpoint);
  if (c == kNoConnectionId) return c;
  peer.connection = c;
  // What we know until the transport reports it up (on_connection_up replaces it).
  ConnectionPeer& info = connections_[c];
  info.kind = peer.endpoint.protocol;
  info.protocol = WireProtocol::kEnrp;
  info.outgoing = true;
  info.addresses = peer.endpoint.addresses;
  info.port = peer.endpoint.port;
  return c;
}

Expected<std::span<const std::uint8_t>, wire::EncodeStatus> PeerLinks::encode(
    const wire::EnrpMessage& message, const wire::WireOptions& options) {
  scratch_.clear();
  const auto r = wire::encode(message, options, wire::ByteSink(scratch_));
  if (!r.ok()) return unexpected(r.status);
  return std::span<const std::uint8_t>(scratch_.data(), r.size);
}

bool PeerLinks::send_on(ConnectionId connection, const wire::EnrpMessage& message,
                        const wire::WireOptions& options) {
  if (connection == kNoConnectionId) return false;
  const auto encoded = encode(message, options);
  if (!encoded || !output_.send(connection, WireProtocol::kEnrp, *encoded)) {
    ++send_failures_;
    return false;
  }
  return true;
}

bool PeerLinks::send_to(PeerEntry& peer, const wire::EnrpMessage& message) {
  const ConnectionId c = ensure_connection(peer);
  if (c == kNoConnectionId) return false;
  wire::WireOptions o = options_for(config_, peer);
  // Presence always goes in next-gen form in next-gen mode: NG-Capabilities must lead every
  // Presence so that peers learn about us (RFC peers skip the leading extension TLVs).
  if (config_.next_gen && std::holds_alternative<wire::Presence>(message)) o.next_gen = true;
  return send_on(c, message, o);
}

bool PeerLinks::send_error(ConnectionId connection, RegistrarId receiver, ErrorCause cause,
                           std::span<const std::uint8_t> info, const wire::WireOptions& options) {
  if (connection == kNoConnectionId) return false;
  scratch_.clear();
  const auto r =
      wire::encode_enrp_error(config_.own_id, receiver, cause, info, options, wire::ByteSink(scratch_));
  if (!r.ok()) return false;
  return output_.send(connection, WireProtocol::kEnrp,
                      std::span<const std::uint8_t>(scratch_.data(), r.size));
}

void PeerLinks::resolve_duplicate_connection(PeerEntry& peer, ConnectionId other) {
  auto cur = connections_.find(peer.connection);
  auto oth = connections_.find(other);
  if (cur == connections_.end() || oth == connections_.end()) return;
  if (cur->second.kind != TransportProtocol::kTcp || oth->second.kind != TransportProtocol::kTcp) return;
  if (cur->second.outgoing == oth->second.outgoing) return;
  const bool we_are_lower = config_.own_id < peer.id;
  const ConnectionId ours = cur->second.outgoing ? peer.connection : other;
  const ConnectionId theirs = cur->second.outgoing ? other : peer.connection;
  const ConnectionId keep = we_are_lower ? ours : theirs;
  const ConnectionId drop = we_are_lower ? theirs : ours;
  peer.connection = keep;
  connections_.erase(drop);
  output_.abort(drop);
}

}  // namespace poolreg::enrp
