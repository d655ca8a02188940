// MessageOrigin: where a received ENRP message came from, as far as the transport and the
// message itself tell, and the rule that decides whether that origin is a given peer
// (issue 17: a peer is known by its transport origin, never by the sender ID it claims).
//
// Contract: plain values and a pure function; single-threaded like EnrpServer, which fills an
// origin per received message and asks `shows_peer` before it trusts a claimed sender ID.
#pragma once

#include <cstdint>
#include <vector>

#include "registrar/common/clock.hpp"
#include "registrar/common/ids.hpp"
#include "registrar/common/ip_address.hpp"
#include "registrar/common/message_output.hpp"
#include "registrar/enrp/peer_table.hpp"

namespace poolreg::enrp {

struct MessageOrigin {
  ConnectionId connection = kNoConnectionId;  // none for multicast
  TransportProtocol kind = TransportProtocol::kSctp;
  std::vector<IpAddress> sources;  // observed source addresses (association, UDP source)
  // The peer's ENRP listening port as the transport shows it: an SCTP association's remote
  // port (peers send from their ENRP socket). 0 for TCP (ephemeral source port) and multicast.
  std::uint16_t transport_port = 0;
  std::uint16_t announced_port = 0;  // Presence: port of its Server Information endpoint
};

// True when a message from `origin` may speak for `peer`:
// - it came over the connection we hold for the peer (we opened it to the peer's endpoint, or
//   it was accepted as the peer's before), or
// - one of its source addresses is one of the peer's ENRP endpoint addresses and the port fits:
//   the SCTP association's remote port or the port a Presence announces equals the endpoint's
//   port; when neither is known (TCP or multicast, not a Presence) the address alone decides.
// A peer without a known endpoint (a ghost of a restarted static peer) is never matched by
// address.
bool shows_peer(const MessageOrigin& origin, const PeerEntry& peer) noexcept;

// The latest message dropped because its sender ID did not fit its origin, for the operator
// log (the daemon logs these rate-limited; EnrpCounters::rejected_identity_mismatch counts all).
struct IdentityMismatch {
  TimeNs at = 0;
  RegistrarId claimed = 0;     // the sender ID the message carried
  RegistrarId origin_id = 0;   // the peer its connection belongs to (0: none)
  IpAddress source;            // first source address (unspecified when none is known)
  TransportProtocol kind = TransportProtocol::kSctp;
  bool multicast = false;
};

}  // namespace poolreg::enrp
