// AddressScope classification (see address_scope.hpp).
#include "registrar/common/address_scope.hpp"

namespace poolreg {

namespace {

AddressScope v4_scope(const std::uint8_t* b) noexcept {
  if (b[0] == 0) return AddressScope::kInvalid;    // 0.0.0.0/8 "this network"
  if (b[0] >= 224) return AddressScope::kInvalid;  // multicast, reserved, broadcast
  if (b[0] == 127) return AddressScope::kLoopback;
  if (b[0] == 169 && b[1] == 254) return AddressScope::kLinkLocal;
  if (b[0] == 10) return AddressScope::kSiteLocal;
  if (b[0] == 172 && (b[1] & 0xf0) == 16) return AddressScope::kSiteLocal;
  if (b[0] == 192 && b[1] == 168) return AddressScope::kSiteLocal;
  return AddressScope::kGlobal;
}

}  // namespace

AddressScope address_scope(const IpAddress& address) noexcept {
  const std::uint8_t* b = address.data();
  if (address.is_v4()) return v4_scope(b);
  bool zero_prefix = true;  // first 10 bytes zero?
  for (int i = 0; i < 10; ++i) zero_prefix = zero_prefix && b[i] == 0;
  if (zero_prefix && b[10] == 0xff && b[11] == 0xff) return v4_scope(b + 12);  // ::ffff:a.b.c.d
  if (zero_prefix && b[10] == 0 && b[11] == 0 && b[12] == 0 && b[13] == 0 && b[14] == 0) {
    if (b[15] == 1) return AddressScope::kLoopback;  // ::1
    if (b[15] == 0) return AddressScope::kInvalid;   // ::
  }
  if (b[0] == 0xff) return AddressScope::kInvalid;                             // multicast
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressScope::kLinkLocal;  // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressScope::kSiteLocal;  // fec0::/10
  if ((b[0] & 0xfe) == 0xfc) return AddressScope::kSiteLocal;                  // fc00::/7
  return AddressScope::kGlobal;
}

std::optional<AddressScope> address_scope_from_name(std::string_view name) noexcept {
  for (AddressScope s : kUsableAddressScopes)
    if (to_string(s) == name) return s;
  return std::nullopt;
}

}  // namespace poolreg
