// The lane that owns an SCTP-over-UDP peer. Each lane runs its own usrsctp copy, so every packet
// of an association must reach the one lane whose stack holds it. The lane of a peer is a pure
// function of its IP address and UDP port (the AF_CONN address the engine knows it by): the same
// for every packet source (a DPDK port queue, a kernel UDP socket of a SO_REUSEPORT group), for
// packets that arrive on another lane (handed over to the owner) and for associations the control
// thread opens (connect goes to the lane the peer's answers will be steered to).
//
// The function is chosen so that a classic BPF program can compute it from a datagram's IP and
// UDP headers (32-bit loads in network order, xor, mul, rsh, mod): on kernel sockets a
// SO_ATTACH_REUSEPORT_CBPF program (dataplane/kernel/reuseport_steering.hpp) makes the kernel
// deliver every datagram to its owner lane's socket, so no lane has to hand packets over. Change
// it only together with that program (its tests compare the two).
//
//   h    = XOR of the address's 32-bit big-endian words (1 for IPv4, 4 for IPv6) ^ udp_port
//   h    = h * 0x9E3779B1 (mod 2^32)   Fibonacci hashing: multiplicative, so the sequential
//                                      ports a NAT gives the peers behind one address spread
//                                      over all lanes (the high bits mix every input bit)
//   lane = (h >> 16) % lanes
#pragma once

#include <cstdint>

namespace poolreg::runtime {

inline constexpr std::uint32_t kSteerLaneMultiplier = 0x9E3779B1u;  // 2^32 / golden ratio, odd

// The steering hash before the modulo: (lane = steer_hash(...) % lanes).
constexpr std::uint32_t steer_hash(const std::uint8_t* ip, bool ipv6, std::uint16_t udp_port) noexcept {
  std::uint32_t h = 0;
  const unsigned words = ipv6 ? 4 : 1;
  for (unsigned w = 0; w < words; ++w) {
    const std::uint8_t* p = ip + 4 * w;
    h ^= (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
  }
  h ^= udp_port;
  h *= kSteerLaneMultiplier;
  return h >> 16;
}

// The lane (0 .. lanes-1) that owns the peer `ip` (4 or 16 bytes, network order) : `udp_port`
// (host order).
constexpr unsigned steer_lane(const std::uint8_t* ip, bool ipv6, std::uint16_t udp_port, unsigned lanes) noexcept {
  if (lanes <= 1) return 0;
  return steer_hash(ip, ipv6, udp_port) % lanes;
}

}  // namespace poolreg::runtime
