// DpdkSctpTransport: the control lcore's kernel::MessageTransport for SCTP on the DPDK path. It
// never calls usrsctp: commands go to the poll lcores' SctpConnEngines over TransportRings (one
// pair per poll lcore, a "lane"), events come back over the event rings and are delivered to the
// MessageHandler on the EventLoop thread,
// with the same connection model as KernelTransport (message_transport.hpp): on_closed exactly once
// per id, also after close()/abort() (deferred to the next loop pass).
//
// The transport keeps a mirror of every open connection's ConnectionPeer and lane (peer_info() answers
// without asking the poll lcore; commands for a connection go to its lane). An incoming
// association belongs to the lane whose event ring reported it; an outgoing one to the lane its
// peer's packets are steered to (steer_lane, steering.hpp). send() copies the message into the command ring and returns kSent
// ("handed to the dataplane"; the engine queues it if usrsctp's send buffer is full), kQueueFull
// when the ring is full. Listeners must be opened before the poll lcore starts (start-up only);
// TCP is not served here (ListenResult error ENOTSUP: the kernel transport serves TCP alongside,
// see combined_transport.hpp).
//
// Threading: EventLoop thread only, except the EngineEventSink side (RingEventSink), which is
// the poll lcore's.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include "dataplane/dpdk/sctp_conn_engine.hpp"
#include "dataplane/dpdk/transport_rings.hpp"
#include "dataplane/kernel/event_loop.hpp"
#include "dataplane/kernel/message_transport.hpp"

namespace poolreg::dpdk {

// One poll lcore as the control side sees it: its rings and (for start-up listens) its engine.
struct TransportLane {
  TransportRings rings;  // every lane shares the one wake_fd
  SctpConnEngine* engine = nullptr;
};

// Poll-lcore side: turns engine reports into ring events (with a local backlog when the ring is
// full, so no report is ever lost) and wakes the control lcore.
class RingEventSink final : public EngineEventSink {
 public:
  explicit RingEventSink(const TransportRings& rings) : rings_(rings) {}
  ~RingEventSink() override;

  void on_connected(ConnectionId id, const ConnectionPeer& peer) override;
  void on_message(ConnectionId id, const kernel::MessageInfo& info, std::uint8_t* data,
                  std::size_t length) override;
  void on_closed(ConnectionId id, CloseReason reason) override;
  void on_unknown_ppid(ConnectionId id, std::uint32_t ppid) override;
  void on_activity(ConnectionId id) override;

  // End of a poll iteration: retries the backlog, writes the eventfd if anything was queued.
  void flush();
  std::size_t backlog() const noexcept { return backlog_.size(); }

 private:
  void push(TransportEvent* e);
  const TransportRings& rings_;
  std::deque<TransportEvent*> backlog_;
  bool produced_ = false;
};

class DpdkSctpTransport final : public kernel::MessageTransport {
 public:
  // lanes: at least one; their engines are used directly only by listen_sctp() before
  // mark_started(). ids: shared id counter (the engines allocate ids of incoming associations
  // from it too).
  DpdkSctpTransport(kernel::EventLoop& loop, kernel::MessageHandler& handler, std::vector<TransportLane> lanes,
                    std::atomic<std::uint64_t>& ids, std::size_t max_message_size);
  ~DpdkSctpTransport() override;

  // From now on the engines belong to the poll lcores.
  void mark_started() noexcept { started_ = true; }

  kernel::ListenResult listen_sctp(WireProtocol protocol, std::span<const IpAddress> addresses,
                                   std::uint16_t port) override;
  kernel::ListenResult listen_tcp(WireProtocol protocol, std::span<const IpAddress> addresses,
                                  std::uint16_t port, bool mptcp = false) override;
  ConnectionId connect_sctp(WireProtocol protocol, std::span<const IpAddress> addresses,
                                    std::uint16_t port, std::uint16_t remote_udp_port = 0) override;
  ConnectionId connect_tcp(WireProtocol protocol, const IpAddress& address, std::uint16_t port,
                                   bool mptcp = false) override;
  kernel::SendResult send(ConnectionId id, WireProtocol protocol,
                          std::span<const std::uint8_t> message) override;
  void close(ConnectionId id) override;
  void abort(ConnectionId id) override;
  const ConnectionPeer* peer_info(ConnectionId id) const override;
  kernel::TransportCounters counters() const override { return counters_; }
  std::size_t connection_count() const override { return open_.size(); }

  // Graceful close of every connection (on_closed(kShutdown), deferred).
  void close_all();
  // Delivers the events waiting in the rings (the eventfd callback calls it; tests may too).
  void drain_events();
  // The lane of an open connection (tests, diagnostics); -1 when not open.
  int lane_of(ConnectionId id) const;

 private:
  struct Open {
    ConnectionPeer peer;
    unsigned lane = 0;
  };
  bool push_command(unsigned lane, TransportCommand* c);
  void flush_backlog();
  // One bounded pass over a lane's event ring; true when it is drained.
  bool drain_lane(unsigned lane);
  void end(ConnectionId id, kernel::CloseReason reported, TransportCommand::Kind kind);

  kernel::EventLoop& loop_;
  kernel::MessageHandler& handler_;
  std::vector<TransportLane> lanes_;
  int wake_fd_;
  std::atomic<std::uint64_t>& ids_;
  std::size_t max_message_size_;
  bool started_ = false;
  std::unordered_map<ConnectionId, Open> open_;
  // Per lane: commands its full ring did not take (not sends).
  std::vector<std::deque<TransportCommand*>> backlog_;
  kernel::EventLoop::TimerId backlog_timer_ = kernel::EventLoop::kNoTimer;
  kernel::TransportCounters counters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace poolreg::dpdk
