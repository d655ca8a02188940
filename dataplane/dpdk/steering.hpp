// Software steering of SCTP-over-UDP peers to poll lcores ("lanes"). Each poll lcore runs its own
// usrsctp copy (sctp::UsrsctpStack), so every packet of an association must reach the one lane
// whose stack holds it. The lane of a peer is a pure function of its IP address and UDP source
// port (the AF_CONN address a RemoteEndpoint stands for): the same on every lane, for packets
// that arrive (whatever RX queue RSS or the kernel's fanout put them on) and for associations the
// control lcore opens (connect goes to the lane the peer's answers will be steered to).
//
// Where the port's RSS was given rss_steering.hpp's key and table, the owner of an SCTP-over-UDP
// peer is instead the lane RSS delivers it to (RssSteering::lane(), still a function of the
// peer alone), so its frames arrive on their lane and are not handed over.
//
// A peer's other address (multi-homing: listed in its INIT / INIT ACK; ADD-IP) is steered by
// itself, maybe to a lane whose usrsctp does not hold the association. The lane holding it
// publishes it in a runtime::AliasOwnerTable; the owner_lane() of that address (where RSS or
// software steering brings its frames first) looks it up and hands the frame to the holder, unless
// its own engine knows the address as a peer of its own. Nothing is looked up while no alias is
// published (one relaxed load per frame).
//
// A packet read by another lane is handed over through the owner's inbox, a multi-producer /
// single-consumer rte_ring of mbufs (no lock: one CAS per enqueue). Neighbour knowledge (ARP,
// IPv6 neighbour solicitations) is shared the same way: a copy of the frame goes to every other
// lane, which only learns from it.
#pragma once

#include <rte_ring.h>

#include <cstdint>

#include "dataplane/dpdk/rss_steering.hpp"
#include "dataplane/runtime/alias_owner_table.hpp"
#include "dataplane/runtime/steer_lane.hpp"

namespace poolreg::dpdk {

// The lane of a peer: runtime::steer_lane (the one function every packet source and the
// LaneTransport use).
using runtime::steer_lane;

// What a PacketProcessor needs to steer: its own lane and every lane's inbox.
struct Steering {
  unsigned self = 0;
  unsigned lanes = 1;               // 1: no steering
  rte_ring* const* inboxes = nullptr;  // inboxes[lane]: MP/SC ring of rte_mbuf*
  const RssSteering* rss = nullptr;    // set: RSS-predicted ownership for the families it predicts
  // The addresses lanes hold as aliases of multi-homed / ADD-IP peers' associations (published by
  // their engines); null: none. The owner_lane() of such an address hands its frames to the holder.
  const runtime::AliasOwnerTable* aliases = nullptr;
};

// The lane that owns a peer: `port` is its UDP source port, or for a native peer (`native`) its
// SCTP source port. The one rule for frames (PacketProcessor) and connects (the LaneTransport).
inline unsigned owner_lane(const RssSteering* rss, unsigned lanes, const std::uint8_t* ip, bool ipv6,
                           std::uint16_t port, bool native) noexcept {
  if (rss != nullptr && !native && rss->predicts(ipv6)) return rss->lane(ip, ipv6, port);
  return steer_lane(ip, ipv6, port, lanes);
}

}  // namespace poolreg::dpdk
