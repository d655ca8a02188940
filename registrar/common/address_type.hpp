// AddressType / AddressTypeEntry: the RFC 8653 type of a PE's user-transport address (next-gen
// TLV 0x8045, registrar/wire/README.md "Address types"). PoolElement keeps them in a vector
// parallel to its user addresses (pool_element_addresses.hpp edits both together).
//
// Why a parallel vector and not a field of IpAddress: IpAddress is the shared value of every
// transport, ASAP transports and peers included; only user transports of next-gen PEs carry a
// type, so PEs without types pay nothing (an empty vector).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>


namespace poolreg {

// Wire values of the type byte (0 = the PE did not say).
enum class AddressType : std::uint8_t {
  kUnspecified = 0,
  kFixed = 1,                // RFC 8653: kept for a long time, whatever the host's mobility
  kSessionLasting = 2,       // RFC 8653: kept as long as a session that uses it lives
  kNonpersistent = 3,        // RFC 8653: no promise beyond the current attachment
  kGracefulReplacement = 4,  // RFC 8653: still works for a lifetime after the host moved on
};
inline constexpr std::uint8_t kMaxAddressType = 4;

struct AddressTypeEntry {
  AddressType type = AddressType::kUnspecified;
  // Graceful-Replacement only: how long the address keeps working after the PE moved away
  // from it (ms); for a retiring entry on the wire, the time it has left.
  std::uint32_t lifetime_ms = 0;
  // Kept from an older address set after a move: it is dropped at retire_at.
  bool retiring = false;
  // In memory only: absolute retire time (TimeNs of the registrar's clock; a plain integer here so
  // that PoolElement users do not all see clock.hpp); 0 unless retiring.
  std::uint64_t retire_at = 0;

  friend bool operator==(const AddressTypeEntry&, const AddressTypeEntry&) = default;
};

std::string_view address_type_name(AddressType type) noexcept;
// "fixed", "session", "session-lasting", "nonpersistent", "graceful" (any case); nullopt otherwise.
std::optional<AddressType> parse_address_type(std::string_view text) noexcept;

// Order of stability in resolution answers (lower first): Fixed, Session-Lasting,
// Graceful-Replacement, unspecified, Nonpersistent, then retiring entries (registrar/wire/README.md
// "Address types" gives the reasons).
unsigned stability_rank(const AddressTypeEntry& entry) noexcept;

}  // namespace poolreg
