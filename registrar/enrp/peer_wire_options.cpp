#include "registrar/enrp/peer_wire_options.hpp"

namespace poolreg::enrp {

bool uses_ng(const EnrpConfig& config, const PeerEntry& peer, std::uint32_t feature) noexcept {
  return config.next_gen && (config.ng_capabilities & feature) != 0 && peer.ng_capabilities &&
         (*peer.ng_capabilities & feature) != 0;
}

wire::WireOptions decode_options(const EnrpConfig& config) noexcept {
  wire::WireOptions o;
  o.next_gen = config.next_gen;
  o.max_message = config.max_message_bytes;
  o.max_pool_handle = config.max_pool_handle_bytes;
  return o;
}

wire::WireOptions options_for(const EnrpConfig& config, const PeerEntry& peer) noexcept {
  wire::WireOptions o = decode_options(config);
  o.next_gen = uses_ng(config, peer, wire::kNgCapId64);
  return o;
}

void adapt_for_peer(const EnrpConfig& config, PoolElement& pe, const PeerEntry& peer) noexcept {
  if (!pe.asap_transport || pe.asap_transport->protocol != TransportProtocol::kTcp) return;
  if (uses_ng(config, peer, wire::kNgCapTcp)) return;
  pe.asap_transport->protocol = TransportProtocol::kSctp;
}

}  // namespace poolreg::enrp
