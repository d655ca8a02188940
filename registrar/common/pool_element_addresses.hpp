// Edits of a PoolElement's user addresses that keep its RFC 8653 type entries
// (address_type.hpp) parallel to them, and the wire/memory forms of retiring entries.
#pragma once

#include <cstddef>

#include "registrar/common/address_type.hpp"
#include "registrar/common/clock.hpp"
#include "registrar/common/pool_element.hpp"

namespace poolreg {

// True when the PE carries one type entry per user address (otherwise its types are ignored).
inline bool has_address_types(const PoolElement& pe) noexcept {
  return !pe.address_types.empty() && pe.address_types.size() == pe.user_transport.addresses.size();
}

// Removes the user addresses (and their type entries) for which `drop(address, entry)` holds;
// returns how many went. Untyped PEs get a default entry in the callback.
template <typename Drop>
std::size_t erase_user_addresses_if(PoolElement& pe, Drop drop) {
  const bool typed = has_address_types(pe);
  auto& addrs = pe.user_transport.addresses;
  std::size_t out = 0;
  for (std::size_t i = 0; i < addrs.size(); ++i) {
    const AddressTypeEntry entry = typed ? pe.address_types[i] : AddressTypeEntry{};
    if (drop(addrs[i], entry)) continue;
    addrs[out] = addrs[i];
    if (typed) pe.address_types[out] = entry;
    ++out;
  }
  const std::size_t removed = addrs.size() - out;
  addrs.resize(out);
  if (typed) pe.address_types.resize(out);
  else pe.address_types.clear();
  return removed;
}

// Wire <-> memory for retiring entries: the wire carries the time left (ms), memory the
// absolute deadline. to_remaining: lifetime_ms := ceil((retire_at - now) / 1 ms), 0 when due.
void retiring_to_remaining(PoolElement& pe, TimeNs now) noexcept;
// retire_at := now + lifetime_ms for every retiring entry.
void retiring_to_deadline(PoolElement& pe, TimeNs now) noexcept;
// Puts a typed PE's user addresses (and their entries) in stability order (stable_sort by
// stability_rank): the order the record stores and every message sends, RFC peers' included.
void order_by_stability(PoolElement& pe);
// Drops the retiring entries (RFC peers never learn them: nothing there would expire them).
void drop_retiring(PoolElement& pe);

}  // namespace poolreg
