// Software steering of SCTP-over-UDP peers to poll lcores ("lanes"). Each poll lcore runs its own
// usrsctp copy (kernel::UsrsctpStack), so every packet of an association must reach the one lane
// whose stack holds it. The lane of a peer is a pure function of its IP address and UDP source
// port (the AF_CONN address a RemoteEndpoint stands for): the same on every lane, for packets
// that arrive (whatever RX queue RSS or the kernel's fanout put them on) and for associations the
// control lcore opens (connect goes to the lane the peer's answers will be steered to).
//
// A packet read by another lane is handed over through the owner's inbox, a multi-producer /
// single-consumer rte_ring of mbufs (no lock: one CAS per enqueue). Neighbour knowledge (ARP,
// IPv6 neighbour solicitations) is shared the same way: a copy of the frame goes to every other
// lane, which only learns from it.
#pragma once

#include <rte_ring.h>

#include <cstdint>
#include <cstring>

#include "registrar/common/fnv1a.hpp"

namespace poolreg::dpdk {

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

// What a PacketProcessor needs to steer: its own lane and every lane's inbox.
struct Steering {
  unsigned self = 0;
  unsigned lanes = 1;               // 1: no steering
  rte_ring* const* inboxes = nullptr;  // inboxes[lane]: MP/SC ring of rte_mbuf*
};

}  // namespace poolreg::dpdk
