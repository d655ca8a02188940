#include "dataplane/kernel/sctp_connections.hpp"

#include <cerrno>
#include <vector>

namespace poolreg::kernel {

SctpConnections::SctpConnections(runtime::TransportShared& shared, SctpStack* stack) : shared_(shared) {
  if (stack == nullptr) return;
  SctpStack::QueueLimit limit;
  limit.messages = shared_.config.max_queued_messages;
  limit.bytes = shared_.config.max_queued_bytes;
  if (stack->attach(*this, shared_.loop, limit)) stack_ = stack;
}

SctpConnections::~SctpConnections() {
  if (stack_ == nullptr) return;
  open_.clear();
  stack_->detach(*this);  // aborts what is left
}

runtime::ListenResult SctpConnections::listen(WireProtocol protocol, std::span<const IpAddress>, std::uint16_t port) {
  if (stack_ == nullptr) return runtime::listen_error(ENOTSUP, "SCTP: no SctpStack on this transport's loop");
  return stack_->listen(*this, protocol, port);
}

ConnectionId SctpConnections::connect(WireProtocol protocol, std::span<const IpAddress> addresses, std::uint16_t port,
                                      std::uint16_t remote_udp_port) {
  const std::uint16_t udp = remote_udp_port != 0 ? remote_udp_port : shared_.config.default_remote_udp_port;
  const ConnectionId id =
      stack_ == nullptr ? kNoConnectionId : stack_->connect(*this, protocol, addresses, port, udp);
  if (id == kNoConnectionId) {
    ++shared_.counters.connect_failures;
    return kNoConnectionId;
  }
  ConnectionPeer peer;
  peer.kind = TransportProtocol::kSctp;
  peer.protocol = protocol;
  peer.outgoing = true;
  peer.addresses = {addresses.front()};  // the engine connects to the first (one path per peer)
  peer.port = port;
  peer.udp_encapsulation_port = udp;
  open_.emplace(id, std::move(peer));
  return id;
}

runtime::SendResult SctpConnections::send(ConnectionId id, WireProtocol protocol,
                                          std::span<const std::uint8_t> message) {
  if (open_.count(id) == 0) {
    ++shared_.counters.send_failed;
    return runtime::SendResult::kNoConnection;
  }
  if (message.empty() || message.size() > shared_.config.max_message_size) {
    ++shared_.counters.send_failed;
    return runtime::SendResult::kTooBig;
  }
  const runtime::SendResult r = stack_->send(id, protocol, message);
  switch (r) {
    case runtime::SendResult::kQueued:
      ++shared_.counters.messages_queued;
      [[fallthrough]];
    case runtime::SendResult::kSent:  // queued ones count as sent: the engine sends them in order
      ++shared_.counters.messages_sent;
      shared_.counters.bytes_sent += message.size();
      break;
    case runtime::SendResult::kQueueFull:
      ++shared_.counters.send_dropped_queue_full;
      break;
    default:
      ++shared_.counters.send_failed;
      break;
  }
  return r;
}

void SctpConnections::close(ConnectionId id, runtime::CloseReason reason_reported) {
  if (open_.erase(id) == 0) return;
  stack_->close(id);
  shared_.report_closed_later(id, reason_reported);
}

void SctpConnections::abort(ConnectionId id) {
  if (open_.erase(id) == 0) return;
  stack_->abort(id);
  shared_.report_closed_later(id, runtime::CloseReason::kLocalAbort);
}

const ConnectionPeer* SctpConnections::peer_info(ConnectionId id) const {
  auto it = open_.find(id);
  return it == open_.end() ? nullptr : &it->second;
}

std::size_t SctpConnections::queued_messages(ConnectionId id) const {
  return open_.count(id) == 0 ? 0 : stack_->queued_messages(id);
}

void SctpConnections::close_all(runtime::CloseReason reason) {
  if (stack_ == nullptr) return;
  std::vector<ConnectionId> ids;
  for (const auto& [id, peer] : open_) ids.push_back(id);
  for (ConnectionId id : ids) close(id, reason);
  stack_->stop_listening(*this);
}

void SctpConnections::sctp_connected(ConnectionId id, const ConnectionPeer& peer) {
  auto it = open_.find(id);
  if (it != open_.end()) {
    it->second = peer;  // outgoing: now with what the engine knows
    ++shared_.counters.connections_opened;
  } else if (!peer.outgoing) {
    open_.emplace(id, peer);
    ++shared_.counters.connections_accepted;
  } else {
    return;  // closed here before it came up
  }
  shared_.handler.on_connected(id, peer);
}

void SctpConnections::sctp_message(ConnectionId id, const runtime::MessageInfo& info,
                                   std::span<const std::uint8_t> bytes) {
  auto it = open_.find(id);
  if (it == open_.end()) return;
  ++shared_.counters.messages_received;
  shared_.counters.bytes_received += bytes.size();
  if (it->second.protocol != info.protocol) ++shared_.counters.wrong_ppid;
  shared_.handler.on_message(id, info, bytes);
}

void SctpConnections::sctp_closed(ConnectionId id, runtime::CloseReason reason) {
  if (open_.erase(id) == 0) return;
  if (reason == runtime::CloseReason::kConnectFailed) ++shared_.counters.connect_failures;
  shared_.report_closed(id, reason);
}

void SctpConnections::sctp_unknown_ppid(ConnectionId id, std::uint32_t ppid) {
  if (open_.count(id) == 0) return;
  ++shared_.counters.unknown_ppid;
  shared_.handler.on_unknown_ppid(id, ppid);
}

void SctpConnections::sctp_activity(ConnectionId id) {
  if (open_.count(id) != 0) shared_.handler.on_activity(id);
}

void SctpConnections::sctp_addresses_changed(ConnectionId id, const ConnectionPeer& peer) {
  auto it = open_.find(id);
  if (it == open_.end()) return;
  it->second = peer;
  shared_.handler.on_addresses_changed(id, peer);
}

}  // namespace poolreg::kernel
