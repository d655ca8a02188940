// SctpMessageSockets: the SCTP half of KernelTransport: usrsctp one-to-many sockets (listeners and
// per-protocol client sockets), their associations, receive draining and the per-association send
// queues. Internal to dataplane/kernel; loop thread only (see kernel_transport.hpp for the design).
#pragma once

#include <usrsctp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "dataplane/kernel/outbound_queue.hpp"
#include "dataplane/kernel/sctp_stack.hpp"
#include "dataplane/kernel/sctp_upcall_sink.hpp"
#include "dataplane/kernel/transport_shared.hpp"

namespace poolreg::kernel {

class SctpMessageSockets {
 public:
  SctpMessageSockets(TransportShared& shared, SctpStack* stack);
  ~SctpMessageSockets();  // aborts all associations, closes all sockets, no callbacks

  bool available() const noexcept { return stack_ != nullptr && sink_ != nullptr && sink_->fd() >= 0; }

  runtime::ListenResult listen(WireProtocol protocol, std::span<const IpAddress> addresses, std::uint16_t port);
  ConnectionId connect(WireProtocol protocol, std::span<const IpAddress> addresses, std::uint16_t port,
                       std::uint16_t remote_udp_port);
  bool owns(ConnectionId id) const { return connections_.count(id) != 0; }
  runtime::SendResult send(ConnectionId id, WireProtocol protocol, std::span<const std::uint8_t> message);
  void close(ConnectionId id, runtime::CloseReason reason_reported);
  void abort(ConnectionId id);
  const ConnectionPeer* peer_info(ConnectionId id) const;
  std::size_t connection_count() const noexcept { return reported_open_; }
  std::size_t queued_messages(ConnectionId id) const;
  // Graceful close of every connection (reported with `reason`, deferred) and every listener.
  void close_all(runtime::CloseReason reason);

 private:
  struct Socket {
    std::uint64_t key = 0;
    struct socket* so = nullptr;
    WireProtocol protocol = WireProtocol::kAsap;
    bool listener = false;
    bool dedicated = false;        // opened for one outgoing association, closed after it
    bool release_pending = false;
    int family = AF_INET6;
    std::unordered_map<sctp_assoc_t, ConnectionId> assocs;
  };
  enum class State : std::uint8_t { kConnecting, kUp, kClosing };
  struct Connection {
    explicit Connection(const KernelTransportConfig& config)
        : queue(config.max_queued_messages, config.max_queued_bytes) {}
    ConnectionId id = 0;
    std::uint64_t socket_key = 0;
    sctp_assoc_t assoc = 0;
    State state = State::kConnecting;
    ConnectionPeer peer;
    OutboundQueue queue;
    std::vector<std::uint8_t> partial;  // message split over several recvv() calls
    bool partial_oversize = false;
    runtime::EventLoop::TimerId linger_timer = runtime::EventLoop::kNoTimer;
  };

  Socket* open_socket(WireProtocol protocol, int family, bool listener);
  void close_socket(std::uint64_t key);
  Socket* client_socket(WireProtocol protocol, int family);
  // Closes a dedicated client socket once it has no association left (on the next loop pass).
  void release_if_unused(std::uint64_t key);
  Socket* find_socket(std::uint64_t key);
  Connection* find(ConnectionId id);
  const Connection* find(ConnectionId id) const;

  void on_ready();
  void drain(std::uint64_t key);
  void handle_data(Socket& s, const sctp_rcvinfo& info, bool has_info, int flags, std::size_t n);
  void handle_notification(Socket& s, const std::uint8_t* data, std::size_t n);
  void on_assoc_change(Socket& s, const sctp_assoc_change& change);
  void assoc_up(Socket& s, sctp_assoc_t assoc, bool restart);
  // Ends a connection because of an event from the network (reports now, unless already reported).
  void assoc_gone(Socket& s, sctp_assoc_t assoc, runtime::CloseReason reason);
  void deliver(Connection& c, const runtime::MessageInfo& info, std::span<const std::uint8_t> bytes);
  void refresh_peer(Socket& s, Connection& c);
  void forget(ConnectionId id);

  // Sends the front of the queue while the socket takes it; true when the queue is empty.
  bool flush(Connection& c);
  void flush_pending();
  ssize_t send_raw(Socket& s, sctp_assoc_t assoc, WireProtocol protocol, const std::uint8_t* data, std::size_t len,
                   std::uint16_t flags);
  // Zero-length request with SCTP_EOF (graceful shutdown) or SCTP_ABORT.
  void send_control(Socket& s, sctp_assoc_t assoc, std::uint16_t flags);
  void arm_flush_timer();

  TransportShared& shared_;
  SctpStack* stack_;
  std::shared_ptr<SctpUpcallSink> sink_;
  std::uint64_t next_socket_key_ = 1;
  std::map<std::uint64_t, std::unique_ptr<Socket>> sockets_;
  std::unordered_map<ConnectionId, Connection> connections_;
  std::size_t reported_open_ = 0;  // connections the application still sees
  std::vector<std::uint64_t> ready_scratch_;
  std::vector<std::uint8_t> rx_buffer_;
  std::unordered_set<ConnectionId> pending_;  // connections with a non-empty queue
  runtime::EventLoop::TimerId flush_timer_ = runtime::EventLoop::kNoTimer;
};

}  // namespace poolreg::kernel
