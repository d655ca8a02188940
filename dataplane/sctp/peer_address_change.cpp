#include "dataplane/sctp/peer_address_change.hpp"

#include <algorithm>

#include "dataplane/sctp/sctp_address_params.hpp"

namespace poolreg::sctp {

PeerAddressChangeResult apply_peer_address_change(std::vector<IpAddress>& addresses, PeerAddressChange change,
                                                  const IpAddress& address, std::size_t max_addresses) {
  using R = PeerAddressChangeResult;
  if (unusable_peer_address(address)) return R::kUnusable;
  auto it = std::find(addresses.begin(), addresses.end(), address);
  switch (change) {
    case PeerAddressChange::kAdded:
      if (it != addresses.end()) return R::kUnchanged;
      if (addresses.size() >= max_addresses) return R::kOverLimit;
      addresses.push_back(address);
      return R::kChanged;
    case PeerAddressChange::kRemoved:
      if (it == addresses.end()) return R::kUnchanged;
      addresses.erase(it);
      return R::kChanged;
    case PeerAddressChange::kMadePrimary:
      if (it == addresses.begin()) return R::kUnchanged;
      if (it == addresses.end()) {
        if (addresses.size() >= max_addresses) return R::kOverLimit;
        addresses.insert(addresses.begin(), address);
      } else {
        std::rotate(addresses.begin(), it, it + 1);
      }
      return R::kChanged;
  }
  return R::kUnchanged;
}

}  // namespace poolreg::sctp
