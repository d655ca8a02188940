// ProtocolRouter: the daemon's runtime::MessageHandler. Routes every transport event to the
// protocol logic by the connection's protocol (the listener that accepted it or the connect()
// that opened it): ASAP -> AsapServer, ENRP -> EnrpServer.
//
// - A message whose protocol differs from its connection's (SCTP PPID 12 on an ASAP association
//   or 11 on an ENRP one) aborts the association (WIRE-06) and is counted.
// - ENRP connections while no EnrpServer is attached are aborted.
// - Outgoing connections are announced with note_outgoing() by TransportOutput::connect(), so a
//   failed connect (on_closed without on_connected) still reaches the right server.
//
// Threading: event-loop thread only. attach() before the loop runs; the servers must outlive
// the router's use (the Application owns all of them).
#pragma once

#include <cstdint>
#include <unordered_map>

#include "dataplane/daemon/transport_output.hpp"
#include "dataplane/runtime/message_transport.hpp"
#include "registrar/asap/asap_server.hpp"
#include "registrar/common/latency_histogram.hpp"
#include "registrar/enrp/enrp_server.hpp"

namespace poolreg::daemon {

struct RouterCounters {
  std::uint64_t asap_messages = 0;
  std::uint64_t enrp_messages = 0;
  std::uint64_t wrong_protocol_aborts = 0;  // WIRE-06
  std::uint64_t enrp_without_server = 0;
  std::uint64_t unknown_ppid = 0;
};

class ProtocolRouter final : public runtime::MessageHandler {
 public:
  ProtocolRouter() = default;

  // transport: to abort offending connections. enrp may be null (ASAP only).
  void attach(runtime::MessageTransport& transport, TransportOutput& output, asap::AsapServer& asap,
              enrp::EnrpServer* enrp);
  void note_outgoing(ConnectionId id, WireProtocol protocol) { protocols_[id] = protocol; }
  // Handle Resolutions are timed (receive -> answer handed to the transport) into this
  // histogram when set (poolctl stats, /metrics).
  void set_resolution_latency(LatencyHistogram* histogram) noexcept { resolution_latency_ = histogram; }

  void on_connected(ConnectionId id, const ConnectionPeer& peer) override;
  void on_message(ConnectionId id, const runtime::MessageInfo& info,
                  std::span<const std::uint8_t> bytes) override;
  void on_closed(ConnectionId id, runtime::CloseReason reason) override;
  void on_unknown_ppid(ConnectionId id, std::uint32_t ppid) override;
  // Handle Resolutions answered by the DPDK poll lcore: the ASAP association is in use.
  void on_activity(ConnectionId id) override;
  // SCTP ADD-IP / DELETE-IP / SET-PRIMARY on an ASAP association: AsapServer follows it.
  void on_addresses_changed(ConnectionId id, const ConnectionPeer& peer) override;
  // A lane's endpoint keep-alive report (asap.keepalive_on_lanes): AsapServer decides.
  void on_keepalive_report(const KeepAliveReport& report) override;

  const RouterCounters& counters() const noexcept { return counters_; }
  std::size_t tracked_connections() const noexcept { return protocols_.size(); }

 private:
  runtime::MessageTransport* transport_ = nullptr;
  TransportOutput* output_ = nullptr;
  asap::AsapServer* asap_ = nullptr;
  enrp::EnrpServer* enrp_ = nullptr;
  LatencyHistogram* resolution_latency_ = nullptr;
  SteadyClock clock_;
  std::unordered_map<ConnectionId, WireProtocol> protocols_;
  RouterCounters counters_;
};

}  // namespace poolreg::daemon
