// The daemon's side of operator tooling in one place: RegistrarBindings names the registrar
// objects, register_registrar_commands() adds every poolctl command to a ControlServer (or any
// CommandRegistry), registrar_metrics_text() renders the Prometheus exposition from the same
// objects. Daemon wiring (dataplane/control/README.md):
//
//   control::RegistrarBindings b;  b.handlespace = hs.get(); b.asap = asap.get(); ...
//   control_server = std::make_unique<control::ControlServer>(loop, control_config);
//   control::register_registrar_commands(*control_server, b);
//   if (auto started = control_server->start(); !started) log.error(..., started.error());
//   metrics = std::make_unique<control::MetricsHttpServer>(loop, metrics_config,
//                 [b] { return control::registrar_metrics_text(b); });
//
// Contract: everything runs on the event-loop thread; every pointer must outlive the servers
// (reset the servers first at shutdown). Optional pointers may be null: the commands that need
// them answer {"ok":false,"code":"unavailable"}.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/control/capture_command.hpp"
#include "dataplane/control/command_registry.hpp"
#include "dataplane/control/config_results.hpp"
#include "dataplane/control/control_server.hpp"
#include "dataplane/control/health_report.hpp"
#include "registrar/common/latency_histogram.hpp"
#include "dataplane/control/registrar_results.hpp"
#include "dataplane/runtime/message_transport.hpp"
#include "registrar/asap/asap_server.hpp"
#include "registrar/enrp/enrp_server.hpp"
#include "registrar/handlespace/handlespace.hpp"

namespace spdlog {
class logger;
}

namespace poolreg::control {

struct RegistrarBindings {
  handlespace::Handlespace* handlespace = nullptr;      // required
  asap::AsapServer* asap = nullptr;                     // required
  const Clock* clock = nullptr;                         // required: the event loop's clock
  enrp::EnrpServer* enrp = nullptr;                     // null: ENRP off (peers/audit/takeover unavailable)
  const runtime::MessageTransport* transport = nullptr;  // null: no transport counters
  const LatencyHistogram* resolution_latency = nullptr; // null: no latency histogram
  // Reads every SCTP lane's counters (kernel lanes or DPDK poll lcores; called on the control
  // thread); empty: no lanes.
  std::function<std::vector<LaneStats>()> lanes;
  // Reads every DPDK port's NIC statistics (called on the control thread); empty: no DPDK ports.
  std::function<std::vector<PortStats>()> ports;
  spdlog::logger* logger = nullptr;                     // null: log-level unavailable
  StatusInfo status;                                    // static facts for `status`
  // Optional hook called after log-level changed the logger (e.g. to also set spdlog's default).
  std::function<void(const std::string& level)> on_log_level;
  // Reloads the configuration file (what SIGHUP does); empty: reload unavailable.
  std::function<ReloadReport()> reload;
  // The running configuration (source, every key); empty: config unavailable.
  std::function<std::pair<std::string, std::vector<config::ConfigValue>>()> running_config;
  // The live event stream's counters (EventHub::counters); empty: no event stream.
  std::function<EventStreamCounters()> events;
  // Starts, stops or reads an operator capture (capture_command.hpp; throws CommandError when
  // refused); empty: no capture on this backend (kernel sockets).
  std::function<CaptureState(const CaptureRequest&)> capture;
  // control.test_commands: also add the test-only commands (test-corrupt-view).
  bool test_commands = false;
};

// Adds: status, health, pools, pool, pe, peers, resolve, deregister, audit, takeover-status, stats,
// log-level, reload, config, capture, capture-status (args and results: README.md), and with test_commands test-corrupt-view. Throws std::invalid_argument when a required binding
// is null (start-up error).
void register_registrar_commands(CommandRegistry& registry, const RegistrarBindings& bindings);
inline void register_registrar_commands(ControlServer& server, const RegistrarBindings& bindings) {
  register_registrar_commands(server.registry(), bindings);
}

// StatsSources filled from the bindings.
StatsSources stats_sources(const RegistrarBindings& bindings);
// What `health` and /readyz judge (health_report.hpp), read from the bindings.
HealthInputs health_inputs(const RegistrarBindings& bindings);

// The Prometheus exposition (registrar_metrics.cpp).
std::string registrar_metrics_text(const RegistrarBindings& bindings);
std::string registrar_metrics_text(const StatusInfo& info, TimeNs now, const StatsSources& sources);

// Log level names accepted by log-level: trace, debug, info, warn, error, critical, off
// ("warning" is read as warn).
bool valid_log_level(const std::string& level);

}  // namespace poolreg::control
