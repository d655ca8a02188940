// unmapped(): an IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) as the IPv4 address
// it stands for; every other address unchanged.
//
// Why: a dual-stack socket reports IPv4 peers in mapped form, so comparisons of addresses seen
// on different transports (ASAP-REG-06 address check, Endpoint Unreachable reporters) must
// see through it. Its own header so that only its few users recompile when it changes.
#pragma once

#include "registrar/common/ip_address.hpp"

namespace poolreg {

inline IpAddress unmapped(const IpAddress& a) noexcept {
  if (a.is_v4()) return a;
  const std::uint8_t* b = a.data();
  for (int i = 0; i < 10; ++i)
    if (b[i] != 0) return a;
  if (b[10] != 0xff || b[11] != 0xff) return a;
  return IpAddress::v4({b[12], b[13], b[14], b[15]});
}

}  // namespace poolreg
