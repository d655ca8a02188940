#include "registrar/common/address_type.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "registrar/common/pool_element_addresses.hpp"

namespace poolreg {

std::string_view address_type_name(AddressType type) noexcept {
  switch (type) {
    case AddressType::kFixed: return "fixed";
    case AddressType::kSessionLasting: return "session-lasting";
    case AddressType::kNonpersistent: return "nonpersistent";
    case AddressType::kGracefulReplacement: return "graceful";
    case AddressType::kUnspecified: break;
  }
  return "unspecified";
}

std::optional<AddressType> parse_address_type(std::string_view text) noexcept {
  std::string t;
  for (char ch : text) t.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  if (t == "fixed") return AddressType::kFixed;
  if (t == "session" || t == "session-lasting") return AddressType::kSessionLasting;
  if (t == "nonpersistent") return AddressType::kNonpersistent;
  if (t == "graceful" || t == "graceful-replacement") return AddressType::kGracefulReplacement;
  return std::nullopt;
}

unsigned stability_rank(const AddressTypeEntry& entry) noexcept {
  if (entry.retiring) return 5;
  switch (entry.type) {
    case AddressType::kFixed: return 0;
    case AddressType::kSessionLasting: return 1;
    case AddressType::kGracefulReplacement: return 2;
    case AddressType::kUnspecified: return 3;
    case AddressType::kNonpersistent: return 4;
  }
  return 3;
}

void retiring_to_remaining(PoolElement& pe, TimeNs now) noexcept {
  for (AddressTypeEntry& e : pe.address_types) {
    if (!e.retiring) continue;
    const TimeNs left = e.retire_at > now ? e.retire_at - now : 0;
    const TimeNs ms = (left + kNsPerMs - 1) / kNsPerMs;
    e.lifetime_ms = ms > 0xffffffffu ? 0xffffffffu : static_cast<std::uint32_t>(ms);
  }
}

void retiring_to_deadline(PoolElement& pe, TimeNs now) noexcept {
  for (AddressTypeEntry& e : pe.address_types)
    if (e.retiring) e.retire_at = now + static_cast<TimeNs>(e.lifetime_ms) * kNsPerMs;
}

void order_by_stability(PoolElement& pe) {
  if (!has_address_types(pe)) return;
  std::vector<std::size_t> order(pe.address_types.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return stability_rank(pe.address_types[a]) < stability_rank(pe.address_types[b]);
  });
  std::vector<IpAddress> addresses;
  std::vector<AddressTypeEntry> types;
  addresses.reserve(order.size());
  types.reserve(order.size());
  for (std::size_t i : order) {
    addresses.push_back(pe.user_transport.addresses[i]);
    types.push_back(pe.address_types[i]);
  }
  pe.user_transport.addresses = std::move(addresses);
  pe.address_types = std::move(types);
}

void drop_retiring(PoolElement& pe) {
  erase_user_addresses_if(pe, [](const IpAddress&, const AddressTypeEntry& e) { return e.retiring; });
}

}  // namespace poolreg
