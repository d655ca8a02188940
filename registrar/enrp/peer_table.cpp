#include "registrar/enrp/peer_table.hpp"

#include <algorithm>

namespace poolreg::enrp {

const char* peer_state_name(PeerState state) noexcept {
  switch (state) {
    case PeerState::kUnknown: return "unknown";
    case PeerState::kAlive: return "alive";
    case PeerState::kProbing: return "probing";
    case PeerState::kDead: return "dead";
  }
  return "?";
}

PeerEntry& PeerTable::add() {
  const PeerKey key = next_key_++;
  PeerEntry& e = entries_[key];
  e.key = key;
  return e;
}

PeerEntry* PeerTable::find(PeerKey key) {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

const PeerEntry* PeerTable::find(PeerKey key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

PeerEntry* PeerTable::find_by_id(RegistrarId id) {
  if (id == 0) return nullptr;
  for (auto& [key, e] : entries_)
    if (e.id == id) return &e;
  return nullptr;
}

PeerEntry* PeerTable::find_by_short_id(std::uint32_t id) {
  if (id == 0) return nullptr;
  for (auto& [key, e] : entries_)
    if (short_id(e.id) == id) return &e;
  return nullptr;
}

PeerEntry* PeerTable::find_by_connection(ConnectionId connection) {
  if (connection == kNoConnectionId) return nullptr;
  for (auto& [key, e] : entries_)
    if (e.connection == connection) return &e;
  return nullptr;
}

RegistrarId PeerTable::resolve_wire_id(RegistrarId wire_id, RegistrarId own_id) {
  if (wire_id == 0 || (wire_id >> 32) != 0) return wire_id;
  if (short_id(own_id) == wire_id) return own_id;
  if (PeerEntry* p = find_by_short_id(static_cast<std::uint32_t>(wire_id))) return p->id;
  return wire_id;
}

PeerEntry* PeerTable::find_static_by_endpoint(std::span<const IpAddress> addresses, std::uint16_t port) {
  if (port == 0) return nullptr;
  for (auto& [key, e] : entries_) {
    if (!e.is_static || e.endpoint.port != port) continue;
    for (const IpAddress& a : e.endpoint.addresses)
      if (std::find(addresses.begin(), addresses.end(), a) != addresses.end()) return &e;
  }
  return nullptr;
}

}  // namespace poolreg::enrp
