#include "registrar/asap/address_quotas.hpp"

#include <algorithm>

#include "registrar/asap/unreachable_reporters.hpp"

namespace poolreg::asap {

std::size_t AddressQuotas::associations_of(const ConnectionPeer& peer) const noexcept {
  auto it = by_address_.find(reporter_address(peer.addresses));
  return it == by_address_.end() ? 0 : it->second.associations;
}

std::size_t AddressQuotas::pes_of(ConnectionId c) const noexcept {
  auto m = members_.find(c);
  if (m == members_.end()) return 0;
  auto it = by_address_.find(m->second.address);
  return it == by_address_.end() ? 0 : it->second.pes;
}

void AddressQuotas::add_association(ConnectionId c, const ConnectionPeer& peer) {
  if (members_.contains(c)) return;
  const IpAddress a = reporter_address(peer.addresses);
  members_.emplace(c, Member{a, 0});
  ++by_address_[a].associations;
}

void AddressQuotas::remove_association(ConnectionId c) noexcept {
  auto m = members_.find(c);
  if (m == members_.end()) return;
  const IpAddress a = m->second.address;
  auto it = by_address_.find(a);
  if (it != by_address_.end()) {
    if (it->second.associations > 0) --it->second.associations;
    it->second.pes -= std::min(it->second.pes, m->second.pes);
  }
  members_.erase(m);
  drop_if_empty(a);
}

void AddressQuotas::add_pe(ConnectionId c) noexcept {
  auto m = members_.find(c);
  if (m == members_.end()) return;
  ++m->second.pes;
  auto it = by_address_.find(m->second.address);
  if (it != by_address_.end()) ++it->second.pes;
}

void AddressQuotas::remove_pe(ConnectionId c) noexcept {
  auto m = members_.find(c);
  if (m == members_.end() || m->second.pes == 0) return;
  --m->second.pes;
  auto it = by_address_.find(m->second.address);
  if (it != by_address_.end() && it->second.pes > 0) --it->second.pes;
}

void AddressQuotas::drop_if_empty(const IpAddress& a) noexcept {
  auto it = by_address_.find(a);
  if (it != by_address_.end() && it->second.associations == 0 && it->second.pes == 0) by_address_.erase(it);
}

}  // namespace poolreg::asap
