// The two single-producer/single-consumer rte_rings between the control lcore (registrar logic,
// DpdkSctpTransport) and the poll lcore (SctpConnEngine):
//   commands  control -> poll : send, connect, close, abort
//   events    poll -> control : connected, message, closed, unknown PPID, activity
// Each ring slot holds one heap object (TransportCommand / TransportEvent) whose ownership passes
// with it; message bytes travel in malloc()ed buffers (an event's message is usrsctp's own receive
// buffer, handed over without a copy). The poll lcore wakes the control lcore through an eventfd
// (one write per poll iteration that produced events); the control lcore never wakes the poll
// lcore: it polls the command ring every iteration.
#pragma once

#include <rte_ring.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "dataplane/kernel/message_transport.hpp"

namespace poolreg::dpdk {

struct TransportCommand {
  enum class Kind : std::uint8_t { kSend, kConnect, kClose, kAbort };
  Kind kind = Kind::kSend;
  ConnectionId id = 0;
  WireProtocol protocol = WireProtocol::kAsap;
  std::uint16_t port = 0;            // kConnect
  std::uint16_t udp_port = 0;        // kConnect
  std::vector<IpAddress> addresses;  // kConnect
  std::uint8_t* data = nullptr;      // kSend: malloc()ed
  std::size_t length = 0;
  ~TransportCommand() { std::free(data); }
};

struct TransportEvent {
  // kActivity: messages were answered on the poll lcore (EngineEventSink::on_activity).
  enum class Kind : std::uint8_t { kConnected, kMessage, kClosed, kUnknownPpid, kActivity };
  Kind kind = Kind::kMessage;
  ConnectionId id = 0;
  ConnectionPeer peer;         // kConnected
  kernel::MessageInfo info;      // kMessage
  std::uint8_t* data = nullptr;  // kMessage: malloc()ed
  std::size_t length = 0;
  kernel::CloseReason reason = kernel::CloseReason::kCommLost;  // kClosed
  std::uint32_t ppid = 0;                                       // kUnknownPpid
  ~TransportEvent() { std::free(data); }
};

struct TransportRings {
  rte_ring* commands = nullptr;
  rte_ring* events = nullptr;
  int wake_fd = -1;  // eventfd the control lcore's EventLoop watches
};

}  // namespace poolreg::dpdk
