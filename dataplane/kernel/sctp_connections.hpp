// SctpConnections: the SCTP half of KernelTransport: the associations and listeners one transport
// owns on the shared SctpStack (sctp_stack.hpp), with the connection model of
// runtime/message_transport.hpp on top of the engine's events. Internal to dataplane/kernel; loop
// thread only.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>

#include "dataplane/kernel/sctp_stack.hpp"
#include "dataplane/runtime/transport_shared.hpp"

namespace poolreg::kernel {

class SctpConnections final : public SctpStack::Owner {
 public:
  SctpConnections(runtime::TransportShared& shared, SctpStack* stack);
  ~SctpConnections() override;  // aborts its associations, stops its listeners, no callbacks

  runtime::ListenResult listen(WireProtocol protocol, std::span<const IpAddress> addresses, std::uint16_t port);
  ConnectionId connect(WireProtocol protocol, std::span<const IpAddress> addresses, std::uint16_t port,
                       std::uint16_t remote_udp_port);
  bool owns(ConnectionId id) const { return open_.count(id) != 0; }
  runtime::SendResult send(ConnectionId id, WireProtocol protocol, std::span<const std::uint8_t> message);
  void close(ConnectionId id, runtime::CloseReason reason_reported);
  void abort(ConnectionId id);
  const ConnectionPeer* peer_info(ConnectionId id) const;
  std::size_t connection_count() const noexcept { return open_.size(); }
  std::size_t queued_messages(ConnectionId id) const;
  // Graceful close of every connection (reported with `reason`, deferred) and every listener.
  void close_all(runtime::CloseReason reason);

  // SctpStack::Owner
  void sctp_connected(ConnectionId id, const ConnectionPeer& peer) override;
  void sctp_message(ConnectionId id, const runtime::MessageInfo& info, std::span<const std::uint8_t> bytes) override;
  void sctp_closed(ConnectionId id, runtime::CloseReason reason) override;
  void sctp_unknown_ppid(ConnectionId id, std::uint32_t ppid) override;
  void sctp_activity(ConnectionId id) override;
  void sctp_addresses_changed(ConnectionId id, const ConnectionPeer& peer) override;

 private:
  runtime::TransportShared& shared_;
  SctpStack* stack_ = nullptr;  // nullptr: no SCTP (no stack, or the stack runs on another loop)
  std::unordered_map<ConnectionId, ConnectionPeer> open_;  // what the application sees
};

}  // namespace poolreg::kernel
