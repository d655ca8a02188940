// How this registrar speaks to one peer on the wire: which next-gen features both sides use, the
// WireOptions that follow, and how a PE is described to that peer (nextgen.md 1, 2, 6.9).
//
// Contract: pure functions of the configuration and the peer's latest Presence (no state, no
// I/O); called on the control thread by EnrpServer, PeerLinks, HandleTableSync and
// TakeoverCoordinator so that all of them choose the same form for a peer.
#pragma once

#include <cstdint>

#include "registrar/common/pool_element.hpp"
#include "registrar/enrp/enrp_config.hpp"
#include "registrar/enrp/peer_table.hpp"
#include "registrar/wire/wire_options.hpp"

namespace poolreg::enrp {

// A next-gen feature is used toward `peer` only when we run next-gen, offer it, and the peer's
// latest Presence advertised it.
bool uses_ng(const EnrpConfig& config, const PeerEntry& peer, std::uint32_t feature) noexcept;

// What we accept from anybody (next-gen decoding in next-gen mode, configured size limits).
wire::WireOptions decode_options(const EnrpConfig& config) noexcept;

// What we send to `peer`: extension TLVs only while it advertised ID64.
wire::WireOptions options_for(const EnrpConfig& config, const PeerEntry& peer) noexcept;

// nextgen.md 6.9: RFC peers (RSPLIB) accept only SCTP ASAP transports, so a TCP-registered PE is
// described to them as SCTP with the same address and port; only TCP-capable next-gen peers see
// the true TCP transport.
void adapt_for_peer(const EnrpConfig& config, PoolElement& pe, const PeerEntry& peer) noexcept;

// checksum.md section 3: RSPLIB writes its host-order 16-bit checksum raw, so the value a
// message (and a capture) shows is the byte-swapped host value. Used for what we announce and
// for comparing what a peer announced with our own view.
constexpr std::uint16_t announced_checksum16(std::uint16_t host_value) noexcept {
  return static_cast<std::uint16_t>((host_value >> 8) | (host_value << 8));
}

}  // namespace poolreg::enrp
