// Kernel steering of a SO_REUSEPORT group: a classic BPF program (SO_ATTACH_REUSEPORT_CBPF)
// computing runtime::steer_lane from each datagram's IP source address and UDP source port, so the
// kernel delivers every datagram of a peer straight to its owner lane's socket and no lane has to
// hand packets over (the software steering of KernelLane stays as the fallback).
//
// The program's return value is the index of the socket in the group, which is the order the
// sockets were bound (lane i's socket must be the i-th bound: KernelLanes opens them in lane
// order, and verify_reuseport_steering() checks it with probe datagrams). It runs with the UDP
// header pulled, so it reads the headers relative to the network header (SKF_NET_OFF):
// - IPv4 (also on a dual-stack AF_INET6 socket: the skb stays IPv4): source address at 12, UDP
//   source port after the IHL;
// - IPv6 with UDP as the next header: source address at 8..23, UDP source port at 40;
// - anything else (IPv6 extension headers, ...): 0xFFFFFFFF, an index beyond the group, for which
//   the kernel falls back to its own 4-tuple hash (then software steering puts the packet right).
// A header load the kernel cannot do ends the program with 0 (socket 0; software steering again).
//
// Threading: any thread; the functions hold no state.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

#include "registrar/common/expected.hpp"
#include "registrar/common/ip_address.hpp"

namespace poolreg::kernel {

// The program for a group of `lanes` sockets (lanes >= 1).
std::vector<sock_filter> reuseport_steering_program(unsigned lanes);

// Attaches the program to the group `fd` belongs to (one socket of it; every socket of the group
// must be bound). Fails with the kernel's reason (old kernel, no cBPF, ...).
Expected<void, std::string> attach_reuseport_steering(int fd, unsigned lanes);
// Removes it again (the kernel's hash then spreads the peers).
void detach_reuseport_steering(int fd);

// Checks that the group's sockets `fds` (in lane order) receive what the program steers to them:
// sends a probe datagram from a few local client sockets to `to`:`port` (the group's address; a
// wildcard group: loopback) until every lane's socket got one, and reads each back from the
// socket steer_lane names. Fails with what arrived where else. Before the lanes read their
// sockets (the probes are consumed here).
Expected<void, std::string> verify_reuseport_steering(const std::vector<int>& fds, const IpAddress& to,
                                                      std::uint16_t port);

}  // namespace poolreg::kernel
