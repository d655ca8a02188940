#include "registrar/enrp/message_origin.hpp"

#include <algorithm>

namespace poolreg::enrp {

bool shows_peer(const MessageOrigin& origin, const PeerEntry& peer) noexcept {
  if (origin.connection != kNoConnectionId && peer.connection == origin.connection) return true;
  const TransportEndpoint& ep = peer.endpoint;
  if (ep.addresses.empty() || ep.port == 0) return false;
  const bool address_fits = std::any_of(origin.sources.begin(), origin.sources.end(), [&](const IpAddress& a) {
    return std::find(ep.addresses.begin(), ep.addresses.end(), a) != ep.addresses.end();
  });
  if (!address_fits) return false;
  if (origin.transport_port == 0 && origin.announced_port == 0) return true;  // TCP/multicast, no port said
  return origin.transport_port == ep.port || origin.announced_port == ep.port;
}

}  // namespace poolreg::enrp
