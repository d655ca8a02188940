// The lane that owns an SCTP-over-UDP peer. Each lane runs its own usrsctp copy, so every packet
// of an association must reach the one lane whose stack holds it. The lane of a peer is a pure
// function of its IP address and UDP port (the AF_CONN address the engine knows it by): the same
// for every packet source (a DPDK port queue, a kernel UDP socket of a SO_REUSEPORT group), for
// packets that arrive on another lane (handed over to the owner) and for associations the control
// thread opens (connect goes to the lane the peer's answers will be steered to).
#pragma once

#include <cstdint>
#include <cstring>

#include "registrar/common/fnv1a.hpp"

namespace poolreg::runtime {

// The lane (0 .. lanes-1) that owns the peer `ip` (4 or 16 bytes, network order) : `udp_port`
// (host order).
inline unsigned steer_lane(const std::uint8_t* ip, bool ipv6, std::uint16_t udp_port, unsigned lanes) noexcept {
  if (lanes <= 1) return 0;
  std::uint8_t key[18];
  const std::size_t n = ipv6 ? 16 : 4;
  std::memcpy(key, ip, n);
  key[n] = static_cast<std::uint8_t>(udp_port >> 8);
  key[n + 1] = static_cast<std::uint8_t>(udp_port);
  return static_cast<unsigned>(fnv1a(key, n + 2) % lanes);
}

}  // namespace poolreg::runtime
