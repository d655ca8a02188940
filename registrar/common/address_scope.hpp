// AddressScope: how far an IP address reaches; the one scope type of the tree. The PE address
// filter (asap.md 4.1 step 4, ASAP-REG-06; AsapConfig::min_address_scope) and the configuration
// ([asap].min_address_scope: its names, its check that asap.listen admits some PE) both use it.
// RSPLIB refuses PE addresses below a configured minimum scope (default site-local), so loopback
// and link-local addresses are dropped unless configured otherwise.
//
// Thread contract: pure functions and constants, no state; callable from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "registrar/common/ip_address.hpp"

namespace poolreg {

// Ordered: a larger value reaches further. kInvalid (unspecified, multicast, 0/8, 240/4) is never
// usable and has no configuration name.
enum class AddressScope : std::uint8_t {
  kInvalid = 0,
  kLoopback = 1,
  kLinkLocal = 2,
  kSiteLocal = 3,  // IPv4 RFC 1918, IPv6 fec0::/10 and unique-local fc00::/7
  kGlobal = 4,
};

// The scopes a configuration may name, narrowest first.
inline constexpr std::array<AddressScope, 4> kUsableAddressScopes{
    AddressScope::kLoopback, AddressScope::kLinkLocal, AddressScope::kSiteLocal, AddressScope::kGlobal};

// Scope of one address; IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are judged as IPv4.
AddressScope address_scope(const IpAddress& address) noexcept;

// "loopback", "link-local", "site-local", "global" (the TOML names), "invalid".
constexpr const char* to_string(AddressScope scope) noexcept {
  switch (scope) {
    case AddressScope::kInvalid:
      return "invalid";
    case AddressScope::kLoopback:
      return "loopback";
    case AddressScope::kLinkLocal:
      return "link-local";
    case AddressScope::kSiteLocal:
      return "site-local";
    case AddressScope::kGlobal:
      return "global";
  }
  return "invalid";
}

// The inverse of to_string for the usable scopes; nullopt otherwise ("invalid" included).
std::optional<AddressScope> address_scope_from_name(std::string_view name) noexcept;

}  // namespace poolreg
