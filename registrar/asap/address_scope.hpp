// AddressScope: how far an IP address reaches, for the PE address filter (asap.md 4.1 step 4,
// ASAP-REG-06). RSPLIB refuses PE addresses below a configured minimum scope (default
// site-local), so loopback and link-local addresses are dropped unless configured otherwise.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "registrar/common/ip_address.hpp"

namespace poolreg::asap {

// Ordered: a larger value reaches further. kInvalid (unspecified, multicast) is never usable.
enum class AddressScope : std::uint8_t {
  kInvalid = 0,
  kLoopback = 1,
  kLinkLocal = 2,
  kSiteLocal = 3,  // IPv4 RFC 1918, IPv6 fec0::/10 and unique-local fc00::/7
  kGlobal = 4,
};

// Scope of one address; IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are judged as IPv4.
AddressScope address_scope(const IpAddress& address) noexcept;

std::string_view address_scope_name(AddressScope scope) noexcept;
// "loopback", "link-local", "site-local", "global"; nullopt otherwise (config parsing).
std::optional<AddressScope> address_scope_from_name(std::string_view name) noexcept;

}  // namespace poolreg::asap
