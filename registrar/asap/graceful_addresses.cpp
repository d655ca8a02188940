#include "registrar/asap/graceful_addresses.hpp"

#include <algorithm>
#include <array>

#include "registrar/common/pool_element_addresses.hpp"

namespace poolreg::asap {

std::size_t keep_graceful_addresses(PoolElement& next, const handlespace::PoolElementView& previous, TimeNs now,
                                    std::size_t max_addresses) {
  const handlespace::PoolElementRecord& old = previous.record();
  if (!old.has_address_types()) return 0;
  std::array<AddressTypeEntry, 256> types{};
  const std::size_t n = old.address_types(types);
  std::size_t kept = 0;
  std::size_t i = 0;
  for (const IpAddress ip : previous.user_addresses()) {
    if (i >= n) break;
    const AddressTypeEntry e = types[i++];
    if (e.type != AddressType::kGracefulReplacement) continue;
    auto& addrs = next.user_transport.addresses;
    if (std::find(addrs.begin(), addrs.end(), ip) != addrs.end()) continue;  // still registered
    AddressTypeEntry retiring = e;
    if (!e.retiring) {
      if (e.lifetime_ms == 0) continue;
      retiring.retiring = true;
      retiring.retire_at = now + static_cast<TimeNs>(e.lifetime_ms) * kNsPerMs;
    } else if (e.retire_at <= now) {
      continue;
    }
    if (addrs.size() >= max_addresses) break;
    // The new set may be untyped: its addresses become "unspecified" beside the kept one.
    if (!has_address_types(next)) next.address_types.assign(addrs.size(), AddressTypeEntry{});
    addrs.push_back(ip);
    next.address_types.push_back(retiring);
    ++kept;
  }
  return kept;
}

}  // namespace poolreg::asap
