// The rings between the control thread (registrar logic, LaneTransport) and one lane (its
// SctpEngine), the same for a DPDK poll lcore and a kernel lane thread:
//   commands  control -> lane : send, connect, close, abort, keep-alive watch / unwatch / timers (SP/SC)
//   events    lane -> control : connected, message, closed, unknown PPID, activity, keep-alive report (SP/SC)
// Each ring slot holds one heap object (LaneCommand / LaneEvent) whose ownership passes with it;
// message bytes travel in malloc()ed buffers (an event's message is the engine's own receive
// buffer, handed over without a copy).
//
// Wake-ups: a lane wakes the control thread through `wake_fd` (an eventfd the control thread's
// EventLoop watches; one write per lane iteration that produced events). The control thread wakes
// a lane that sleeps in the kernel through `lane_wake_fd` (an eventfd in the lane's epoll set; one
// write per control loop pass that queued commands for it); -1 = the lane polls its command ring
// every iteration (DPDK) and needs no wake-up.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "dataplane/runtime/lane_order.hpp"
#include "dataplane/runtime/lane_ring.hpp"
#include "dataplane/runtime/message_transport.hpp"
#include "registrar/common/clock.hpp"
#include "registrar/common/keepalive_watch.hpp"

namespace poolreg::runtime {

struct LaneCommand {
  // kWatchKeepAlives / kUnwatchKeepAlives / kKeepAliveTimers: the lane's LaneKeepAlives
  // (lane_keepalives.hpp); ignored by a lane without one.
  enum class Kind : std::uint8_t {
    kSend,
    kConnect,
    kClose,
    kAbort,
    kWatchKeepAlives,
    kUnwatchKeepAlives,
    kKeepAliveTimers
  };
  Kind kind = Kind::kSend;
  ConnectionId id = 0;
  WireProtocol protocol = WireProtocol::kAsap;
  std::uint16_t port = 0;            // kConnect
  std::uint16_t udp_port = 0;        // kConnect
  std::vector<IpAddress> addresses;  // kConnect
  std::uint8_t* data = nullptr;      // kSend: malloc()ed
  std::size_t length = 0;
  KeepAliveWatch watch;  // kWatchKeepAlives (connection = id); kUnwatchKeepAlives: handle, id
  TimeNs interval = 0;   // kKeepAliveTimers
  TimeNs timeout = 0;
  ~LaneCommand() { std::free(data); }
};

struct LaneEvent {
  // kActivity: messages were answered on the lane (sctp::EngineEventSink::on_activity).
  // kAddressesChanged: the association's peer with its new address list.
  // kKeepAlive: a watched PE timed out or is no longer ours there (keepalive).
  enum class Kind : std::uint8_t {
    kConnected,
    kMessage,
    kClosed,
    kUnknownPpid,
    kActivity,
    kAddressesChanged,
    kKeepAlive
  };
  Kind kind = Kind::kMessage;
  ConnectionId id = 0;
  ConnectionPeer peer;           // kConnected, kAddressesChanged
  MessageInfo info;              // kMessage
  std::uint8_t* data = nullptr;  // kMessage: malloc()ed
  std::size_t length = 0;
  CloseReason reason = CloseReason::kCommLost;  // kClosed
  std::uint32_t ppid = 0;                       // kUnknownPpid
  KeepAliveReport keepalive;                    // kKeepAlive
  ~LaneEvent() { std::free(data); }
};

struct LaneRings {
  LaneRing* commands = nullptr;
  LaneRing* events = nullptr;
  int wake_fd = -1;       // eventfd of the control thread (every lane shares it)
  int lane_wake_fd = -1;  // eventfd of the lane, -1: the lane polls (see above)
  // The lane's engine stamps the messages it hands over (lane_order.hpp), LaneTransport finishes
  // them; nullptr: no order kept (the lane answers resolutions whatever was handed over before).
  LaneOrder* order = nullptr;
};

// Deletes what is still in a lane's rings (after the lane stopped, before the rings go).
inline void drain_and_free(LaneRings& r) {
  if (r.events != nullptr)
    while (void* p = r.events->pop()) delete static_cast<LaneEvent*>(p);
  if (r.commands != nullptr)
    while (void* p = r.commands->pop()) delete static_cast<LaneCommand*>(p);
}

}  // namespace poolreg::runtime
