// ProtocolRouter: transport events -> AsapServer / EnrpServer.
#include "dataplane/daemon/protocol_router.hpp"

#include <spdlog/spdlog.h>

#include "dataplane/runtime/combined_transport.hpp"

namespace poolreg::daemon {

void ProtocolRouter::attach(runtime::MessageTransport& transport, TransportOutput& output, asap::AsapServer& asap,
                            enrp::EnrpServer* enrp) {
  transport_ = &transport;
  output_ = &output;
  asap_ = &asap;
  enrp_ = enrp;
}

void ProtocolRouter::on_connected(ConnectionId id, const ConnectionPeer& peer) {
  const WireProtocol protocol = peer.protocol;
  protocols_[id] = protocol;
  if (output_ != nullptr) output_->note_peer(peer);
  spdlog::debug("connection {} ({} {} {}) up: {}:{} udp {}", id, to_string(protocol),
                peer.kind == TransportProtocol::kTcp ? "TCP" : "SCTP", peer.outgoing ? "outgoing" : "incoming",
                peer.addresses.empty() ? std::string("?") : peer.addresses.front().to_string(), peer.port,
                peer.udp_encapsulation_port);
  if (protocol == WireProtocol::kAsap) {
    if (asap_ != nullptr) asap_->on_connection_up(id, peer);
    return;
  }
  if (enrp_ == nullptr) {
    ++counters_.enrp_without_server;
    if (transport_ != nullptr) transport_->abort(id);
    return;
  }
  enrp_->on_connection_up(id, peer);
}

void ProtocolRouter::on_message(ConnectionId id, const runtime::MessageInfo& info,
                                std::span<const std::uint8_t> bytes) {
  WireProtocol expected;
  if (auto it = protocols_.find(id); it != protocols_.end()) {
    expected = it->second;
  } else if (const ConnectionPeer* peer = transport_ != nullptr ? transport_->peer_info(id) : nullptr) {
    expected = peer->protocol;
  } else {
    expected = info.protocol;
  }
  if (info.protocol != expected) {
    // WIRE-06: the other protocol's PPID on this association.
    ++counters_.wrong_protocol_aborts;
    spdlog::debug("connection {}: {} message on an {} association, aborting (WIRE-06)", id,
                  to_string(info.protocol), to_string(expected));
    if (transport_ != nullptr) transport_->abort(id);
    return;
  }
  if (expected == WireProtocol::kAsap) {
    ++counters_.asap_messages;
    if (asap_ == nullptr) return;
    // Handle Resolutions that came through an SCTP lane are measured there, end to end (their
    // LaneCounters histogram, merged for stats and metrics): recording them here too would count
    // them twice.
    if (resolution_latency_ != nullptr && !bytes.empty() && bytes[0] == 0x05 &&  // Handle Resolution
        id < runtime::kLaneConnectionIdBase) {
      const TimeNs t0 = clock_.now();
      asap_->on_message(id, bytes, info.srtt_us);
      resolution_latency_->record(clock_.now() - t0);
      return;
    }
    asap_->on_message(id, bytes, info.srtt_us);  // the SRTT: a DPF PE's distance
    return;
  }
  ++counters_.enrp_messages;
  if (enrp_ == nullptr) {
    ++counters_.enrp_without_server;
    if (transport_ != nullptr) transport_->abort(id);
    return;
  }
  enrp_->on_message(id, bytes, info.srtt_us);  // the SRTT: the hop added to learned DPF distances
}

void ProtocolRouter::on_activity(ConnectionId id) {
  auto it = protocols_.find(id);
  if (it != protocols_.end() && it->second == WireProtocol::kAsap && asap_ != nullptr) asap_->on_activity(id);
}

void ProtocolRouter::on_addresses_changed(ConnectionId id, const ConnectionPeer& peer) {
  auto it = protocols_.find(id);
  if (it == protocols_.end()) return;
  spdlog::debug("connection {} ({}): peer addresses now {}", id, to_string(it->second), peer.addresses.size());
  if (it->second == WireProtocol::kAsap && asap_ != nullptr) asap_->on_addresses_changed(id, peer);
}

void ProtocolRouter::on_keepalive_report(const KeepAliveReport& report) {
  if (asap_ != nullptr) asap_->on_lane_keepalive(report);
}

void ProtocolRouter::on_closed(ConnectionId id, runtime::CloseReason reason) {
  auto it = protocols_.find(id);
  if (it == protocols_.end()) return;  // never reported up nor opened by us
  const WireProtocol protocol = it->second;
  protocols_.erase(it);
  spdlog::debug("connection {} ({}) closed: {}", id, to_string(protocol),
                runtime::to_string(reason));
  if (protocol == WireProtocol::kAsap) {
    if (asap_ != nullptr) asap_->on_connection_closed(id);
  } else if (enrp_ != nullptr) {
    enrp_->on_connection_closed(id);
  }
}

void ProtocolRouter::on_unknown_ppid(ConnectionId id, std::uint32_t ppid) {
  ++counters_.unknown_ppid;
  spdlog::debug("connection {}: message with unknown PPID {} ignored", id, ppid);
}

}  // namespace poolreg::daemon
