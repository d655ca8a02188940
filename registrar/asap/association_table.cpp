#include "registrar/asap/association_table.hpp"

namespace poolreg::asap {

Association& AssociationTable::upsert(ConnectionId id, const ConnectionPeer& peer, TimeNs now, const RateLimit& hr,
                                      const RateLimit& eu) {
  auto [it, inserted] = table_.try_emplace(id);
  Association& a = it->second;
  a.peer = peer;
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

}  // namespace poolreg::asap
