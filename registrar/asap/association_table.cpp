#include "registrar/asap/association_table.hpp"

#include <utility>

namespace poolreg::asap {

Association& AssociationTable::upsert(ConnectionId id, const ConnectionPeer& peer, TimeNs now, const RateLimit& hr,
                                      const RateLimit& eu) {
  auto [it, inserted] = table_.try_emplace(id);
  Association& a = it->second;
  if (!inserted) unindex(id, a.peer);
  a.peer = peer;
  index(id, a.peer);
  if (inserted) {
    a.last_activity = now;
    a.hr_bucket = TokenBucket(hr, now);
    a.eu_bucket = TokenBucket(eu, now);
  }
  return a;
}

Association* AssociationTable::find(ConnectionId id) noexcept {
  auto it = table_.find(id);
  return it == table_.end() ? nullptr : &it->second;
}

const Association* AssociationTable::find(ConnectionId id) const noexcept {
  auto it = table_.find(id);
  return it == table_.end() ? nullptr : &it->second;
}

void AssociationTable::erase(ConnectionId id) noexcept {
  auto it = table_.find(id);
  if (it == table_.end()) return;
  unindex(id, it->second.peer);
  table_.erase(it);
}

std::vector<IpAddress> AssociationTable::replace_addresses(ConnectionId id, std::vector<IpAddress> addresses) {
  auto it = table_.find(id);
  if (it == table_.end()) return {};
  ConnectionPeer& peer = it->second.peer;
  unindex(id, peer);
  std::vector<IpAddress> before = std::exchange(peer.addresses, std::move(addresses));
  index(id, peer);
  return before;
}

ConnectionId AssociationTable::find_sctp_asap_peer(const TransportEndpoint& endpoint) const noexcept {
  if (endpoint.protocol != TransportProtocol::kSctp || endpoint.port == 0) return kNoConnectionId;
  for (const IpAddress& a : endpoint.addresses) {
    auto it = by_endpoint_.find(Endpoint{a, endpoint.port});
    if (it != by_endpoint_.end()) return it->second;
  }
  return kNoConnectionId;
}

void AssociationTable::index(ConnectionId id, const ConnectionPeer& peer) {
  if (!indexed(peer)) return;
  for (const IpAddress& a : peer.addresses) by_endpoint_[Endpoint{a, peer.port}] = id;
}

void AssociationTable::unindex(ConnectionId id, const ConnectionPeer& peer) noexcept {
  if (!indexed(peer)) return;
  for (const IpAddress& a : peer.addresses) {
    auto it = by_endpoint_.find(Endpoint{a, peer.port});
    if (it != by_endpoint_.end() && it->second == id) by_endpoint_.erase(it);
  }
}

}  // namespace poolreg::asap
