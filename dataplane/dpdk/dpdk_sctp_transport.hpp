// DpdkSctpTransport: the control lcore's kernel::MessageTransport for SCTP on the DPDK path. It
// never calls usrsctp: commands go to the poll lcore's SctpConnEngine over TransportRings, events
// come back over the event ring and are delivered to the MessageHandler on the EventLoop thread,
// with the same connection model as KernelTransport (message_transport.hpp): on_closed exactly once
// per id, also after close()/abort() (deferred to the next loop pass).
//
// The transport keeps a mirror of every open connection's PeerInfo (peer_info() answers without
// asking the poll lcore). send() copies the message into the command ring and returns kSent
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

#include "dataplane/dpdk/sctp_conn_engine.hpp"
#include "dataplane/dpdk/transport_rings.hpp"
#include "dataplane/kernel/event_loop.hpp"
#include "dataplane/kernel/message_transport.hpp"

namespace poolreg::dpdk {

// Poll-lcore side: turns engine reports into ring events (with a local backlog when the ring is
// full, so no report is ever lost) and wakes the control lcore.
class RingEventSink final : public EngineEventSink {
 public:
  explicit RingEventSink(const TransportRings& rings) : rings_(rings) {}
  ~RingEventSink() override;

  void on_connected(ConnectionId id, const kernel::PeerInfo& peer) override;
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
  // engine: used directly only by listen_sctp() before mark_started(). ids: shared id counter
  // (the engine allocates ids of incoming associations from it too).
  DpdkSctpTransport(kernel::EventLoop& loop, kernel::MessageHandler& handler, const TransportRings& rings,
                    SctpConnEngine& engine, std::atomic<std::uint64_t>& ids, std::size_t max_message_size);
  ~DpdkSctpTransport() override;

  // From now on the engine belongs to the poll lcore.
  void mark_started() noexcept { started_ = true; }

  kernel::ListenResult listen_sctp(kernel::Protocol protocol, std::span<const IpAddress> addresses,
                                   std::uint16_t port) override;
  kernel::ListenResult listen_tcp(kernel::Protocol protocol, std::span<const IpAddress> addresses,
                                  std::uint16_t port, bool mptcp = false) override;
  kernel::ConnectionId connect_sctp(kernel::Protocol protocol, std::span<const IpAddress> addresses,
                                    std::uint16_t port, std::uint16_t remote_udp_port = 0) override;
  kernel::ConnectionId connect_tcp(kernel::Protocol protocol, const IpAddress& address, std::uint16_t port,
                                   bool mptcp = false) override;
  kernel::SendResult send(kernel::ConnectionId id, kernel::Protocol protocol,
                          std::span<const std::uint8_t> message) override;
  void close(kernel::ConnectionId id) override;
  void abort(kernel::ConnectionId id) override;
  const kernel::PeerInfo* peer_info(kernel::ConnectionId id) const override;
  kernel::TransportCounters counters() const override { return counters_; }
  std::size_t connection_count() const override { return open_.size(); }

  // Graceful close of every connection (on_closed(kShutdown), deferred).
  void close_all();
  // Delivers the events waiting in the ring (the eventfd callback calls it; tests may too).
  void drain_events();

 private:
  bool push_command(TransportCommand* c);
  void flush_backlog();
  void end(kernel::ConnectionId id, kernel::CloseReason reported, TransportCommand::Kind kind);

  kernel::EventLoop& loop_;
  kernel::MessageHandler& handler_;
  TransportRings rings_;
  SctpConnEngine& engine_;
  std::atomic<std::uint64_t>& ids_;
  std::size_t max_message_size_;
  bool started_ = false;
  std::unordered_map<kernel::ConnectionId, kernel::PeerInfo> open_;
  std::deque<TransportCommand*> backlog_;  // commands the full ring did not take (not sends)
  kernel::EventLoop::TimerId backlog_timer_ = kernel::EventLoop::kNoTimer;
  kernel::TransportCounters counters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace poolreg::dpdk
