// LaneTransport: the control thread's runtime::MessageTransport for SCTP served by lanes (DPDK
// poll lcores or kernel lane threads). It never calls usrsctp: commands go to the lanes'
// SctpEngines over their rings (lane_rings.hpp), events come back over the event rings and are
// delivered to the MessageHandler on the EventLoop thread, with the same connection model as
// every transport (message_transport.hpp): on_closed exactly once per id, also after
// close()/abort() (deferred to the next loop pass).
//
// The transport keeps a mirror of every open connection's ConnectionPeer and lane (peer_info()
// answers without asking the lane; commands for a connection go to its lane). An incoming
// association belongs to the lane whose event ring reported it; an outgoing one to the lane its
// peer's packets are steered to (steer_lane.hpp). send() copies the message into the command ring
// and returns kSent ("handed to the lane"; the engine queues it if usrsctp's send buffer is full),
// kQueueFull when the ring is full. Listeners must be opened before the lanes start (start-up
// only); TCP is not served here (ENOTSUP: a KernelTransport serves TCP alongside, see
// combined_transport.hpp).
//
// Waking lanes: a lane with a lane_wake_fd (a kernel lane asleep in epoll_wait) gets one eventfd
// write per control loop pass that queued commands for it (deferred to the end of the pass, so a
// burst of sends costs one syscall); DPDK lanes poll their command ring and have none.
//
// Threading: EventLoop thread only. The lane side is LaneEventSink (lane_event_sink.hpp).
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "dataplane/runtime/event_loop.hpp"
#include "dataplane/runtime/lane_rings.hpp"
#include "dataplane/runtime/message_transport.hpp"
#include "dataplane/sctp/sctp_engine.hpp"

namespace poolreg::runtime {

class LaneTransport final : public MessageTransport {
 public:
  // One lane as the control side sees it: its rings and (for start-up listens) its engine.
  struct Lane {
    LaneRings rings;  // every lane shares the one wake_fd
    sctp::SctpEngine* engine = nullptr;
  };

  // lanes: at least one; their engines are used directly only by listen_sctp() before
  // mark_started(). ids: shared id counter (the engines allocate ids of incoming associations
  // from it too).
  LaneTransport(EventLoop& loop, MessageHandler& handler, std::vector<Lane> lanes, std::atomic<std::uint64_t>& ids,
                std::size_t max_message_size);
  ~LaneTransport() override;
  LaneTransport(const LaneTransport&) = delete;
  LaneTransport& operator=(const LaneTransport&) = delete;

  // From now on the engines belong to the lanes.
  void mark_started() noexcept { started_ = true; }
  // The peer's UDP encapsulation port for connect_sctp(..., remote_udp_port = 0).
  void set_default_remote_udp_port(std::uint16_t port) noexcept { default_remote_udp_port_ = port; }
  // The lanes carry native SCTP (a raw IP socket, or protocol 132 on the DPDK port): only then
  // does connect_sctp_native() open associations (else it refuses at once, counted).
  void set_native(bool on) noexcept { native_ = on; }
  // The lane that will receive a peer's packets, for connect_sctp(): (first address, UDP port of
  // its answers or 0 for native SCTP, SCTP port). Unset: steer_lane of the address and the UDP
  // port (native: the SCTP port). The DPDK backend sets its RSS-predicted owner (dpdk/steering.hpp).
  using OwnerFunction = std::function<unsigned(const IpAddress&, std::uint16_t udp_port, std::uint16_t sctp_port)>;
  void set_owner_function(OwnerFunction owner) { owner_ = std::move(owner); }

  ListenResult listen_sctp(WireProtocol protocol, std::span<const IpAddress> addresses, std::uint16_t port) override;
  ListenResult listen_tcp(WireProtocol protocol, std::span<const IpAddress> addresses, std::uint16_t port,
                          bool mptcp = false) override;
  ConnectionId connect_sctp(WireProtocol protocol, std::span<const IpAddress> addresses, std::uint16_t port,
                            std::uint16_t remote_udp_port = 0) override;
  ConnectionId connect_sctp_native(WireProtocol protocol, std::span<const IpAddress> addresses,
                                   std::uint16_t port) override;
  ConnectionId connect_tcp(WireProtocol protocol, const IpAddress& address, std::uint16_t port,
                           bool mptcp = false) override;
  SendResult send(ConnectionId id, WireProtocol protocol, std::span<const std::uint8_t> message) override;
  void close(ConnectionId id) override;
  void abort(ConnectionId id) override;
  const ConnectionPeer* peer_info(ConnectionId id) const override;
  TransportCounters counters() const override { return counters_; }
  std::size_t connection_count() const override { return open_.size(); }

  // Graceful close of every connection (on_closed(kShutdown), deferred).
  void close_all();
  // Delivers the events waiting in the rings (the eventfd callback calls it; tests may too).
  void drain_events();
  // The lane of an open connection (tests, diagnostics); -1 when not open.
  int lane_of(ConnectionId id) const;
  std::size_t lane_count() const noexcept { return lanes_.size(); }

  // ---- endpoint keep-alives on the lanes (lane_keepalives.hpp) ----
  // The lanes run a LaneKeepAlives each: from now on watch_keepalives() hands PEs to them.
  void set_keepalives_on_lanes(bool on) noexcept { keepalives_on_lanes_ = on; }
  bool keepalives_on_lanes() const noexcept { return keepalives_on_lanes_; }
  // Hands the PE to the lane of its open association (command, ring order). False: keep-alives
  // are not on the lanes, or the association is not open here.
  bool watch_keepalives(const KeepAliveWatch& watch);
  // Takes it back (no-op on the lane when it is not watched there).
  void unwatch_keepalives(ConnectionId connection, const PoolHandle& handle, PoolElementId id);
  // New interval / timeout on every lane.
  void set_keepalive_timers(TimeNs interval, TimeNs timeout);

 private:
  struct Open {
    ConnectionPeer peer;
    unsigned lane = 0;
  };
  bool push_command(unsigned lane, LaneCommand* c);
  void flush_backlog();
  // Marks a lane to be woken at the end of this loop pass (lanes with a lane_wake_fd only).
  void wake_later(unsigned lane);
  void wake_lanes();
  // One bounded pass over a lane's event ring; true when it is drained.
  bool drain_lane(unsigned lane);
  void end(ConnectionId id, CloseReason reported, LaneCommand::Kind kind);
  // connect_sctp() and connect_sctp_native(): udp 0 = native SCTP (the engine's convention).
  ConnectionId connect_on_lane(WireProtocol protocol, std::span<const IpAddress> addresses,
                               std::uint16_t port, std::uint16_t udp);

  EventLoop& loop_;
  MessageHandler& handler_;
  std::vector<Lane> lanes_;
  int wake_fd_;
  std::atomic<std::uint64_t>& ids_;
  std::size_t max_message_size_;
  bool started_ = false;
  std::uint16_t default_remote_udp_port_ = kSctpUdpEncapsulationPort;
  bool native_ = false;
  bool keepalives_on_lanes_ = false;
  OwnerFunction owner_;
  std::unordered_map<ConnectionId, Open> open_;
  // Per lane: commands its full ring did not take (not sends).
  std::vector<std::deque<LaneCommand*>> backlog_;
  std::vector<bool> to_wake_;
  bool wake_pending_ = false;
  EventLoop::TimerId backlog_timer_ = EventLoop::kNoTimer;
  TransportCounters counters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace poolreg::runtime
