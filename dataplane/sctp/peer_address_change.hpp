// One change of a live association's peer address set, as usrsctp reports it after it accepted
// an ASCONF from the peer (RFC 5061: ADD-IP, DELETE-IP, SET-PRIMARY; SCTP_PEER_ADDR_CHANGE with
// SCTP_ADDR_ADDED / SCTP_ADDR_REMOVED / SCTP_ADDR_MADE_PRIM), applied to the list the engine
// reports as ConnectionPeer::addresses (primary first).
//
// Why a pure function: the rules (bound, order, what is not an address) are tested without
// usrsctp. Any thread; no state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "registrar/common/ip_address.hpp"

namespace poolreg::sctp {

enum class PeerAddressChange : std::uint8_t { kAdded, kRemoved, kMadePrimary };

enum class PeerAddressChangeResult : std::uint8_t {
  kChanged,    // the list changed
  kUnchanged,  // already so (added twice, removed an address not in the list, primary already first)
  kOverLimit,  // an addition (or a new primary) beyond `max_addresses`: ignored
  kUnusable,   // unspecified, multicast or broadcast: ignored
};

// Added: appended (kept last). Removed: erased, also the first one (the peer may drop the address
// the association started on; the list may become empty). Made primary: moved to the front (added
// there when missing and there is room).
PeerAddressChangeResult apply_peer_address_change(std::vector<IpAddress>& addresses, PeerAddressChange change,
                                                  const IpAddress& address, std::size_t max_addresses);

}  // namespace poolreg::sctp
