// Application: builds the registrar from its configuration and runs the event loop.
#include "dataplane/daemon/application.hpp"

#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "dataplane/control/control_server.hpp"
#include "dataplane/control/event_hub.hpp"
#include "registrar/common/latency_histogram.hpp"
#include "dataplane/control/metrics_http_server.hpp"
#include "dataplane/control/registrar_commands.hpp"
#include "config/config_diff.hpp"
#include "config/config_loader.hpp"
#include "dataplane/daemon/config_mapping.hpp"
#include "dataplane/daemon/config_reload.hpp"
#include "dataplane/daemon/logging.hpp"
#include "dataplane/daemon/privilege_drop.hpp"
#include "dataplane/daemon/listen_summary.hpp"
#include "dataplane/daemon/protocol_router.hpp"
#include "dataplane/daemon/server_announcer.hpp"
#include "dataplane/daemon/service_notifier.hpp"
#include "dataplane/daemon/tls_setup.hpp"
#include "dataplane/runtime/errno_text.hpp"
#include "dataplane/daemon/transport_output.hpp"
#include "dataplane/kernel/kernel_lanes.hpp"
#include "dataplane/kernel/kernel_transport.hpp"
#include "dataplane/kernel/udp_multicast_socket.hpp"
#include "dataplane/runtime/combined_transport.hpp"
#include "dataplane/runtime/event_loop.hpp"
#include "dataplane/runtime/listener_pause.hpp"
#include "registrar/asap/asap_server.hpp"
#include "registrar/asap/server_announce.hpp"
#include "registrar/enrp/enrp_server.hpp"
#include "registrar/handlespace/handlespace.hpp"
#include "registrar/handlespace/qsbr.hpp"
#if POOLREG_HAVE_DPDK
#include "dataplane/daemon/capture_binding.hpp"
#include "dataplane/daemon/dpdk_config_mapping.hpp"
#include "dataplane/dpdk/dpdk_backend.hpp"
#include "dataplane/dpdk/port_stats.hpp"
#endif

namespace poolreg::daemon {
namespace {

constexpr TimeNs kMaxLoopWait = 100 * kNsPerMs;
constexpr TimeNs kReclaimPeriod = 100 * kNsPerMs;
// At most one log line per this period for ENRP messages dropped as impostors: an attacker
// repeating them must not flood the log (the counter has the full number).
constexpr TimeNs kIdentityLogPeriod = 10 * kNsPerSec;
// At most one log line per this period for listeners resting because accept() lacked descriptors
// (EMFILE/ENFILE): the state can last, the counters (accept_pauses) have the full number.
constexpr TimeNs kAcceptPauseLogPeriod = 10 * kNsPerSec;
// The same for clients closed by a per-client quota (issue 17): a flood must not flood the log.
constexpr TimeNs kQuotaLogPeriod = 10 * kNsPerSec;
constexpr TimeNs kShutdownFlush = 1500 * kNsPerMs;
constexpr TimeNs kFeedbackDrainPeriod = 10 * kNsPerMs;

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev != nullptr ? std::string("SIG") + abbrev : std::to_string(sig);
}

// AsapServer needs its OwnedPeListener at construction, EnrpServer needs the AsapServer (its
// PeMonitor) at construction: this forwarder breaks the cycle.
class OwnedPeForwarder final : public OwnedPeListener {
 public:
  void set(OwnedPeListener* target) noexcept { target_ = target; }
  void on_owned_pe_registered(const PoolHandle& handle, const PoolElement& pe) override {
    if (target_ != nullptr) target_->on_owned_pe_registered(handle, pe);
  }
  void on_owned_pe_transport_changed(const PoolHandle& handle, const PoolElement& pe) override {
    if (target_ != nullptr) target_->on_owned_pe_transport_changed(handle, pe);
  }
  void on_owned_pe_removed(const PoolHandle& handle, const PoolElement& pe) override {
    if (target_ != nullptr) target_->on_owned_pe_removed(handle, pe);
  }

 private:
  OwnedPeListener* target_ = nullptr;
};

// EnrpMulticast over a UdpMulticastSocket (239.0.0.51:9901 by default).
class UdpEnrpMulticast final : public enrp::EnrpMulticast {
 public:
  explicit UdpEnrpMulticast(std::unique_ptr<kernel::UdpMulticastSocket> socket) : socket_(std::move(socket)) {}
  bool send_presence(std::span<const std::uint8_t> message) override { return socket_->send(message); }

 private:
  std::unique_ptr<kernel::UdpMulticastSocket> socket_;
};

// First configured IPv4 unicast address (multicast interface selection), else 0.0.0.0.
IpAddress multicast_interface(const std::vector<IpAddress>& listen) {
  for (const auto& a : listen)
    if (a.is_v4() && !is_unspecified(a)) return a;
  return IpAddress::v4(0u);
}

// The one address the kernel lanes' UDP sockets bind to: the only unicast address of asap.listen
// and enrp.listen together; none (the wildcard) when there are several or a wildcard.
std::optional<IpAddress> single_listen_address(const config::RegistrarConfig& c) {
  std::optional<IpAddress> only;
  for (const auto* list : {&c.asap.listen, &c.enrp.listen}) {
    for (const IpAddress& a : *list) {
      if (is_unspecified(a) || a.is_multicast()) return std::nullopt;
      if (only && !(*only == a)) return std::nullopt;
      only = a;
    }
  }
  return only;
}

// The addresses the native SCTP listener ports take packets for (the raw socket sees every local
// address): asap.listen for ASAP, enrp.listen (else asap.listen) for ENRP; a wildcard lifts it.
std::vector<kernel::NativeListener> native_listeners(const config::RegistrarConfig& c) {
  auto unicast = [](const std::vector<IpAddress>& listen) {
    std::vector<IpAddress> out;
    for (const IpAddress& a : bind_addresses(listen))
      if (!a.is_multicast()) out.push_back(a);
    return out;
  };
  std::vector<kernel::NativeListener> out;
  if (c.asap.sctp && c.asap.sctp_native) out.push_back({c.asap.sctp_port, unicast(c.asap.listen)});
  if (c.enrp.enabled && c.enrp.sctp_native)
    out.push_back({c.enrp.sctp_port, unicast(c.enrp.listen.empty() ? c.asap.listen : c.enrp.listen)});
  return out;
}

}  // namespace

struct Application::Runtime {
  // QSBR reader slots: this thread and one per lane (kernel lanes or DPDK poll lcores).
  explicit Runtime(const DaemonContext& c)
      : ctx(c), log(c.logger), running(c.config), domain(2 + kernel::KernelLanes::kMaxLanes) {}

  // Start-up, in named steps (build() runs them in order).
  bool build();
  void build_handlespace();
  bool build_transports();
  bool open_listeners();
  void build_protocol_logic();
  void start_announce();
  bool start_operator_side();
  bool drop_privileges();
  // SCTP on lanes: the kernel lanes or the DPDK poll lcores, joined with TCP by `combined`.
  bool build_lanes();
  // Starts the lanes' threads / lcores once the listeners are open.
  bool start_lanes();
  void service_timers();
  int loop_timeout_ms() const;
  void shutdown();
  std::string bound_summary() const;
  // SIGHUP and the control command `reload`: reopen the log file, read the configuration again,
  // apply its live keys (config_reload.hpp), refuse and log the rest; an invalid file changes
  // nothing. Logs what it did.
  control::ReloadReport reload(std::string_view trigger);
  control::ReloadReport reload_configuration(std::string_view trigger);
  void apply_live_config(const config::RegistrarConfig& c);
  std::string config_source() const;

  const DaemonContext& ctx;
  spdlog::logger& log;
  // The configuration in effect: ctx.config plus the live keys of every reload since.
  config::RegistrarConfig running;

  handlespace::QsbrDomain domain;
  std::unique_ptr<handlespace::Handlespace> hs;
  std::unique_ptr<handlespace::ReaderContext> reader;
  runtime::EventLoop loop;
  ProtocolRouter router;
  // TCP (ASAP, ENRP) on kernel sockets of this thread, in both backends.
  std::unique_ptr<kernel::KernelTransport> transport;
  // SCTP on lanes: kernel lanes (threads on UDP sockets) or, in DPDK mode, the poll lcores.
  std::unique_ptr<kernel::KernelLanes> kernel_lanes;
#if POOLREG_HAVE_DPDK
  std::unique_ptr<dpdk::DpdkBackend> dpdk_backend;
#endif
  runtime::LaneTransport* lanes = nullptr;  // the lanes' control-side transport (either backend)
  // What the protocol logic talks to: SCTP on the lanes combined with TCP on the kernel transport
  // (or the kernel transport alone when SCTP is off).
  std::unique_ptr<runtime::CombinedTransport> combined;
  runtime::MessageTransport* wire = nullptr;
  bool dpdk_mode = false;
  bool resolutions_on_lanes = false;  // the lanes answer Handle Resolutions (their own AsapConfig copy)
  std::unique_ptr<TransportOutput> output;
  OwnedPeForwarder forwarder;
  // Registrar events (poolctl events): raised by AsapServer/EnrpServer on this thread, delivered
  // to the control socket's EventHub; outlives both servers.
  RegistrarEventSink events;
  std::unique_ptr<asap::AsapServer> asap;
  std::unique_ptr<UdpEnrpMulticast> enrp_multicast;
  std::unique_ptr<enrp::EnrpServer> enrp;
  std::unique_ptr<ServerAnnouncer> announcer;
  // Operator side (dataplane/control); declared last so they go first.
  LatencyHistogram resolution_latency;
  std::unique_ptr<control::RegistrarBindings> bindings;
  std::unique_ptr<control::EventHub> event_hub;  // after control: the server goes first
  std::unique_ptr<control::ControlServer> control;
  std::unique_ptr<control::MetricsHttpServer> metrics;

  // Ports really bound (0 = that listener is not open).
  std::uint16_t udp_port = 0;
  std::uint16_t asap_sctp = 0;
  std::uint16_t asap_tcp = 0;
  std::uint16_t enrp_sctp = 0;
  std::uint16_t enrp_tcp = 0;
  std::uint16_t asap_tls = 0;
  std::uint16_t enrp_tls = 0;  // when open, ENRP over TCP is this TLS listener (no plain one)
  // The ENRP endpoint announced over TCP: the TLS port when ENRP runs over TLS.
  std::uint16_t enrp_stream_port() const { return enrp_tls != 0 ? enrp_tls : enrp_tcp; }
  TlsContexts tls;  // [tls]: empty while TLS is off
  bool enrp_on = false;  // [enrp] enabled and a transport for it

  TimeNs next_reclaim = 0;
  TimeNs next_enrp_watch = 0;
  bool enrp_startup_logged = false;
  // Operator log of ENRP events (the protocol logic does not log): peer states by endpoint,
  // takeovers won, messages dropped as impostors (rate-limited).
  std::map<std::string, enrp::PeerState> peer_states;
  std::uint64_t takeovers_won = 0;
  std::uint64_t identity_mismatches_logged = 0;
  TimeNs next_identity_log = 0;
  void watch_enrp();
  // Operator log of listeners resting for lack of descriptors (the transports do not log):
  // TCP (ASAP, ENRP), control socket, metrics; rate-limited.
  std::uint64_t accept_pauses_logged = 0;
  TimeNs next_accept_pause_log = 0;
  void watch_accept_pauses();
  // Operator log of clients closed by a per-client quota (the transports and AsapServer only
  // count): associations over max_associations_per_address, TCP connections reset for the
  // partial-frame budget or the first-message timeout; rate-limited.
  std::uint64_t quota_closes_logged[3] = {0, 0, 0};
  TimeNs next_quota_log = 0;
  void watch_client_quotas();
  // Operator log of TLS peers refused (the transport only counts): handshake failures, identities
  // not on the allow-list, handshake timeouts since the last report, with the latest reason;
  // rate-limited like the quotas.
  std::uint64_t tls_refusals_logged[3] = {0, 0, 0};
  TimeNs next_tls_log = 0;
  void watch_tls_refusals();
  // A reload reads the TLS files again (certificate rotation at the same paths; the tls.* keys
  // themselves need a restart): the listeners accept with the new contexts, outgoing ENRP
  // connections use them from their next connect; connections up keep their session. Files that
  // do not load (or do not match) leave the running contexts in place.
  void reload_tls(std::string_view trigger, control::ReloadReport& r);
  std::optional<int> stop_signal;
  // systemd readiness (Type=notify): READY after the listeners are open, RELOADING, STOPPING.
  ServiceNotifier notifier{log};
};

bool Application::Runtime::build() {
  const config::RegistrarConfig& c = ctx.config;
#if POOLREG_HAVE_DPDK
  dpdk_mode = c.dpdk.enabled;
#else
  if (c.dpdk.enabled) log.warn("[dpdk] enabled = true, but the DPDK backend is not built in: using kernel sockets");
#endif

  // The named steps, in order: each needs what the ones before built.
  build_handlespace();
  if (!build_transports()) return false;
  if (!open_listeners()) return false;
  build_protocol_logic();
  start_announce();
  if (!start_operator_side()) return false;
  // Every socket is bound (and EAL started): switch user before the lanes' threads start, so
  // they are created with the reduced credentials.
  if (!drop_privileges()) return false;
  return start_lanes();
}

// registrar.user: switch from root to it, keeping only capabilities_needed(). Fatal on failure.
bool Application::Runtime::drop_privileges() {
  const config::RegistrarConfig& c = ctx.config;
  if (c.registrar.user.empty()) return true;
  auto target = resolve_run_as(c.registrar.user, c.registrar.group);
  if (!target) {
    log.error("privilege drop: {}", target.error());
    return false;
  }
  if (::geteuid() == 0) {
    // Opened again after the drop: the log file (reload), the control socket (removed at stop).
    const std::vector<std::string> paths = {c.registrar.log_file, bindings->status.control_socket};
    for (const auto& problem : hand_over_paths(*target, paths)) log.warn("privilege drop: {}", problem);
  }
  const std::vector<Capability> keep = capabilities_needed(dpdk_mode);
  auto dropped = daemon::drop_privileges(*target, keep);
  if (!dropped) {
    log.error("privilege drop to user {} failed, not starting: {}", c.registrar.user, dropped.error());
    return false;
  }
  log.info("running as user {}: {}", c.registrar.user, *dropped);
  return true;
}

// Handlespace and this thread's reader slot.
void Application::Runtime::build_handlespace() {
  const config::RegistrarConfig& c = ctx.config;
  const RegistrarId id = ctx.registrar_id;
  hs = std::make_unique<handlespace::Handlespace>(
      to_handlespace_config(c, std::max(1u, std::thread::hardware_concurrency())), domain);
  reader = std::make_unique<handlespace::ReaderContext>(domain, id ^ 0x9e3779b97f4a7c15ull);
}

// SCTP (ASAP and ENRP over UDP encapsulation) on lanes; TCP on this thread's kernel sockets; the
// MessageOutput the protocol logic sends through.
bool Application::Runtime::build_transports() {
  const config::RegistrarConfig& c = ctx.config;
  enrp_on = c.enrp.enabled;
  const bool want_sctp = c.asap.sctp || enrp_on;
  runtime::TransportConfig tc;
  tc.max_message_size = c.asap.max_message_bytes;
  tc.default_remote_udp_port = ctx.sctp_udp.default_remote;
  tc.partial_frame_budget = c.limits.partial_frame_budget_bytes;
  tc.first_message_timeout = static_cast<TimeNs>(c.limits.first_message_timeout_ms) * kNsPerMs;
  tc.tls_handshake_timeout = static_cast<TimeNs>(c.tls.handshake_timeout_ms) * kNsPerMs;
  auto contexts = make_tls_contexts(c.tls);
  if (!contexts) {
    log.error("{}", contexts.error());
    return false;
  }
  tls = std::move(contexts).value();
  transport = std::make_unique<kernel::KernelTransport>(loop, router, nullptr, tc);
  wire = transport.get();
  if (want_sctp && c.asap.udp_encapsulation_port == 0 && !dpdk_mode) {
    log.warn("asap.udp_encapsulation_port = 0: SCTP (usrsctp over UDP) is off, ASAP SCTP and ENRP SCTP not served");
  } else if ((want_sctp || dpdk_mode) && !build_lanes()) {
    return false;
  }
  output = std::make_unique<TransportOutput>(*wire, c.asap.mptcp,
                                             [this](ConnectionId cid, WireProtocol p) { router.note_outgoing(cid, p); });
  output->set_lanes(lanes);  // endpoint keep-alives of SCTP PEs on their lanes (asap.keepalive_on_lanes)
  for (const auto& [sctp_port, udp] : ctx.sctp_udp.by_sctp_port) output->set_peer_udp_port(sctp_port, udp);
  for (const auto& p : c.enrp.peers) {
    if (p.sctp_native) output->set_endpoint_native(p.address.address, p.address.port);
    if (p.udp_port != 0) output->set_endpoint_udp_port(p.address.address, p.address.port, p.udp_port);
  }
  if (enrp_over_tls(c)) {
    output->set_enrp_tls([this](WireProtocol p, const IpAddress& a, std::uint16_t port) {
      return transport->connect_tls(p, a, port, tls.enrp_client, /*verify_ip=*/false);
    });
  }
  return true;
}

// The ASAP and ENRP listeners (SCTP on the lanes, TCP here); ENRP off when it has no transport.
bool Application::Runtime::open_listeners() {
  const config::RegistrarConfig& c = ctx.config;
  const bool sctp_available = lanes != nullptr;
  const std::vector<IpAddress> asap_bind = bind_addresses(c.asap.listen);
  if (c.asap.sctp && sctp_available) {
    auto r = wire->listen_sctp(WireProtocol::kAsap, asap_bind, c.asap.sctp_port);
    if (!r) {
      log.error("ASAP SCTP listener on port {} failed: {} ({})", c.asap.sctp_port, strerror(r.error().error), r.error().detail);
      return false;
    }
    asap_sctp = *r;
  }
  if (c.asap.tcp) {
    auto r = transport->listen_tcp(WireProtocol::kAsap, asap_bind, c.asap.tcp_port, c.asap.mptcp);
    if (!r) {
      log.error("ASAP TCP listener on port {} failed: {} ({})", c.asap.tcp_port, strerror(r.error().error), r.error().detail);
      return false;
    }
    asap_tcp = *r;
  }
  if (tls.asap_server && c.tls.asap_port != 0) {
    auto r = transport->listen_tls(WireProtocol::kAsap, asap_bind, c.tls.asap_port, tls.asap_server);
    if (!r) {
      log.error("ASAP TLS listener on port {} failed: {} ({})", c.tls.asap_port, runtime::errno_text(r.error().error),
                r.error().detail);
      return false;
    }
    asap_tls = *r;
  }
  if (enrp_on) {
    const std::vector<IpAddress> enrp_bind = bind_addresses(c.enrp.listen.empty() ? c.asap.listen : c.enrp.listen);
    if (sctp_available) {
      auto r = wire->listen_sctp(WireProtocol::kEnrp, enrp_bind, c.enrp.sctp_port);
      if (!r) {
        log.error("ENRP SCTP listener on port {} failed: {} ({})", c.enrp.sctp_port, strerror(r.error().error), r.error().detail);
        return false;
      }
      enrp_sctp = *r;
    }
    if (enrp_over_tls(c)) {
      auto r = transport->listen_tls(WireProtocol::kEnrp, enrp_bind, c.tls.enrp_port, tls.enrp_server);
      if (!r) {
        log.error("ENRP TLS listener on port {} failed: {} ({})", c.tls.enrp_port, runtime::errno_text(r.error().error),
                  r.error().detail);
        return false;
      }
      enrp_tls = *r;
    } else if (c.enrp.tcp) {
      auto r = transport->listen_tcp(WireProtocol::kEnrp, enrp_bind, c.enrp.tcp_port, false);
      if (!r) {
        log.error("ENRP TCP listener on port {} failed: {} ({})", c.enrp.tcp_port, strerror(r.error().error), r.error().detail);
        return false;
      }
      enrp_tcp = *r;
    }
    if (enrp_sctp == 0 && enrp_stream_port() == 0) {
      log.warn("ENRP has no transport (no SCTP stack and enrp.tcp off): running ASAP only");
      enrp_on = false;
    }
  }
  return true;
}

// AsapServer, EnrpServer (+ multicast), the router between them and the transports.
void Application::Runtime::build_protocol_logic() {
  const config::RegistrarConfig& c = ctx.config;
  const RegistrarId id = ctx.registrar_id;
  asap = std::make_unique<asap::AsapServer>(to_asap_config(c, id), *hs, *reader, *output, loop.clock(),
                                            enrp_on ? &forwarder : nullptr);
  asap->set_event_sink(&events);
  if (enrp_on) {
    enrp::EnrpConfig ec = to_enrp_config(c, id, enrp_sctp, enrp_stream_port());
    if (c.enrp.multicast) {
      kernel::UdpMulticastConfig mc;
      mc.group = c.enrp.multicast_address.address;
      mc.port = c.enrp.multicast_address.port;
      mc.interface_address = multicast_interface(c.enrp.listen.empty() ? c.asap.listen : c.enrp.listen);
      mc.ttl = static_cast<int>(c.enrp.multicast_ttl);
      mc.receive = true;
      auto socket = kernel::UdpMulticastSocket::open(
          loop, mc, [this](std::span<const std::uint8_t> payload, const IpAddress& from, std::uint16_t port) {
            if (enrp) enrp->on_multicast_message(from, port, payload);
          });
      if (socket) {
        enrp_multicast = std::make_unique<UdpEnrpMulticast>(std::move(socket).value());
      } else {
        log.warn("ENRP multicast {} not available: {}; static peers only",
                 config::to_string(c.enrp.multicast_address), socket.error());
        ec.multicast = false;
      }
    }
    enrp = std::make_unique<enrp::EnrpServer>(ec, *hs, *output, loop.clock(), *asap, enrp_multicast.get());
    enrp->set_event_sink(&events);
    forwarder.set(enrp.get());
  }
  router.attach(*wire, *output, *asap, enrp.get());

}

// Optional ASAP Server Announce.
void Application::Runtime::start_announce() {
  const config::RegistrarConfig& c = ctx.config;
  const RegistrarId id = ctx.registrar_id;
  if (!c.asap.server_announce) return;
  std::vector<std::uint8_t> message;
  std::vector<IpAddress> addresses;
  for (const auto& a : c.asap.listen)
    if (!is_unspecified(a)) addresses.push_back(a);
  const std::uint16_t tcp_in_announce =
      c.registrar.mode == config::WireMode::kNextgen ? asap_tcp : static_cast<std::uint16_t>(0);
  auto r = asap::encode_server_announce(id, addresses, asap_sctp != 0 ? asap_sctp : c.asap.sctp_port,
                                        wire::ByteSink(message), tcp_in_announce);
  ServerAnnounceSettings s;
  s.group = c.asap.announce_address.address;
  s.port = c.asap.announce_address.port;
  s.interface_address = multicast_interface(c.asap.listen);
  s.ttl = static_cast<int>(c.asap.announce_ttl);
  s.interval = static_cast<TimeNs>(c.asap.announce_interval_ms) * kNsPerMs;
  std::string error = "encoding failed";
  if (r.ok()) {
    auto created = ServerAnnouncer::create(loop, s, std::move(message));
    if (created)
      announcer = std::move(created).value();
    else
      error = created.error();
  }
  if (!announcer) log.warn("Server Announce disabled: {}", error);
}

bool Application::Runtime::build_lanes() {
  const config::RegistrarConfig& c = ctx.config;
  const RegistrarId id = ctx.registrar_id;
  bool resolving = false;
#if POOLREG_HAVE_DPDK
  if (dpdk_mode) {
    // SCTP on the DPDK port (usrsctp AF_CONN on the poll lcores), TCP on kernel sockets.
    auto dc = to_backend_config(c);
    auto created = dc ? dpdk::DpdkBackend::create(*dc, loop, router)
                      : Expected<std::unique_ptr<dpdk::DpdkBackend>, std::string>(unexpected(dc.error()));
    if (!created) {
      log.error("DPDK backend: {}", created.error());
      return false;
    }
    dpdk_backend = std::move(*created);
    if (c.registrar.resolve_on_lanes && c.dpdk.resolve_on_poll_lcore) {
      if (auto enabled = dpdk_backend->enable_poll_resolution(*hs, domain, to_asap_config(c, id)); !enabled) {
        log.error("DPDK backend: {}", enabled.error());
        return false;
      }
      resolving = true;
    }
    if (auto enabled = dpdk_backend->enable_lane_keepalives(*hs, domain, to_asap_config(c, id)); !enabled) {
      log.error("DPDK backend: {}", enabled.error());
      return false;
    }
    lanes = &dpdk_backend->transport();
    lanes->set_native(dpdk_backend->native_sctp());
    udp_port = c.asap.udp_encapsulation_port;
  }
#endif
  if (!dpdk_mode) {
    kernel::KernelLanesConfig kc;
    kc.lanes = c.registrar.lanes != 0 ? c.registrar.lanes : kernel::automatic_lane_count();
    kc.udp_port = c.asap.udp_encapsulation_port;
    kc.bind_address = single_listen_address(c);
    kc.engine.max_message_size = c.asap.max_message_bytes;
    // Real links are rarely above 1500 bytes: keep every SCTP packet (and its IPv6/UDP
    // encapsulation, 48 bytes) within one Ethernet frame; loopback does not mind.
    kc.engine.path_mtu = 1500 - 48;
    if (c.asap.sctp_heartbeat_interval_ms != 0) kc.engine.heartbeat_interval_ms = c.asap.sctp_heartbeat_interval_ms;
    kc.engine.path_rtx_max = c.asap.sctp_path_max_retrans;
    kc.engine.cookie_life_ms = c.asap.sctp_cookie_life_ms;
    kc.engine.max_pending_peers = c.limits.max_pending_sctp_peers;
    kc.engine.evict_init_only_peers = c.limits.sctp_init_only_evict_ms != 0;
    kc.engine.min_init_age_ms = c.limits.sctp_init_only_evict_ms;
    kc.native_ports = native_sctp_ports(c);
    kc.native_listeners = native_listeners(c);
    auto created = kernel::KernelLanes::create(kc, loop, router);
    if (!created) {
      log.error("SCTP lanes: {}", created.error());
      return false;
    }
    kernel_lanes = std::move(*created);
    if (!kernel_lanes->steering_warning().empty()) log.warn("SCTP lanes: {}", kernel_lanes->steering_warning());
    if (!kernel_lanes->native_warning().empty()) log.warn("native SCTP: {}", kernel_lanes->native_warning());
    if (kernel_lanes->native_sctp() && kernel::host_kernel_sctp_loaded())
      log.warn("native SCTP: the host kernel's SCTP module is loaded (/sys/module/sctp): it answers native SCTP "
               "packets for ports it has no socket on with ABORT, which kills our peers' associations; unload it "
               "(modprobe -r sctp) or set asap.sctp_native = false and enrp.sctp_native = false");
    if (c.registrar.resolve_on_lanes) {
      if (auto enabled = kernel_lanes->enable_lane_resolution(*hs, domain, to_asap_config(c, id)); !enabled) {
        log.error("SCTP lanes: {}", enabled.error());
        return false;
      }
      resolving = true;
    }
    // Always there (a reader slot and an empty wheel per lane): asap.keepalive_on_lanes decides in
    // AsapServer, live, whether PEs are handed over.
    if (auto enabled = kernel_lanes->enable_lane_keepalives(*hs, domain, to_asap_config(c, id)); !enabled) {
      log.error("SCTP lanes: {}", enabled.error());
      return false;
    }
    lanes = &kernel_lanes->transport();
    lanes->set_native(kernel_lanes->native_sctp());
    udp_port = kernel_lanes->udp_port();
    if (!kernel_lanes->native_sctp()) {
      for (const auto& p : c.enrp.peers)
        if (p.sctp_native)
          log.warn("ENRP peer {} (sctp_native): native SCTP is off, its ENRP associations cannot be opened",
                   config::to_string(p.address));
    }
  }
  lanes->set_default_remote_udp_port(ctx.sctp_udp.default_remote);
  resolutions_on_lanes = resolving;
  if (resolving) {
    // Resolutions on the lanes queue selection feedback (least-used policies) without waking
    // this loop: drain it (we are every shard's writer) well before a queue fills up.
    loop.schedule_every(kFeedbackDrainPeriod, [this] { hs->drain_feedback(); });
  }
  combined = std::make_unique<runtime::CombinedTransport>(*lanes, *transport);
  wire = combined.get();
  return true;
}

bool Application::Runtime::start_lanes() {
  if (kernel_lanes) {
    if (auto started = kernel_lanes->start(); !started) {
      log.error("SCTP lanes: {}", started.error());
      return false;
    }
    log.info("SCTP: {}", kernel_lanes->describe());
  }
#if POOLREG_HAVE_DPDK
  if (dpdk_backend) {
    if (auto started = dpdk_backend->start(); !started) {
      log.error("DPDK backend: {}", started.error());
      return false;
    }
    log.info("DPDK backend: {}", dpdk_backend->describe());
  }
#endif
  return true;
}

bool Application::Runtime::start_operator_side() {
  const config::RegistrarConfig& c = ctx.config;
  router.set_resolution_latency(&resolution_latency);
  control::RegistrarBindings b;
  b.handlespace = hs.get();
  b.asap = asap.get();
  b.enrp = enrp.get();
  b.transport = wire;
  b.resolution_latency = &resolution_latency;
  if (kernel_lanes) {
    // Each lane's single-writer counters, read with relaxed loads on this (the control) thread.
    b.lanes = [lanes = kernel_lanes.get()] {
      std::vector<control::LaneStats> stats;
      for (std::size_t i = 0; i < lanes->lane_count(); ++i) {
        control::LaneStats lane;
        lane.lane = static_cast<unsigned>(i);
        lane.backend = "kernel";
        lanes->counters(i).for_each_counter([&lane](const CounterDescriptor& d, std::uint64_t value) {
          lane.counters.push_back({&d, {}, value});
        });
        lane.resolution_latency = std::make_shared<LatencyHistogram>(lanes->counters(i).resolution_latency);
        stats.push_back(std::move(lane));
      }
      return stats;
    };
  }
#if POOLREG_HAVE_DPDK
  if (dpdk_backend) {
    // Each lane's single-writer counters, read with relaxed loads on this (the control) thread.
    b.lanes = [backend = dpdk_backend.get()] {
      std::vector<control::LaneStats> lanes;
      for (std::size_t i = 0; i < backend->lane_count(); ++i) {
        control::LaneStats lane;
        lane.lane = static_cast<unsigned>(i);
        lane.backend = "dpdk";
        lane.lcore = backend->poll_lcore(i);
        backend->counters(i).for_each_counter([&lane](const CounterDescriptor& d, std::uint64_t value) {
          lane.counters.push_back({&d, {}, value});
        });
        lane.resolution_latency = std::make_shared<LatencyHistogram>(backend->counters(i).resolution_latency);
        lanes.push_back(std::move(lane));
      }
      return lanes;
    };
    // NIC statistics of every port, read on this (the control, main) lcore: ethdev's stats
    // getters only read the PMD's counters while the poll lcores run (port_stats.hpp).
    b.ports = [backend = dpdk_backend.get()] {
      std::vector<control::PortStats> ports;
      for (std::size_t i = 0; i < backend->port_count(); ++i)
        ports.push_back({backend->port_id(i), backend->port_name(i), dpdk::read_port_counters(backend->port_id(i))});
      return ports;
    };
    b.capture = capture_binding(dpdk_backend->capture(), log);
  }
#endif
  b.logger = &log;
  b.reload = [this] { return reload("poolctl reload"); };
  // poolctl log-level changes the running level: `config` shows it, a reload compares with it.
  b.on_log_level = [this](const std::string& level) {
    for (auto l : {config::LogLevel::kTrace, config::LogLevel::kDebug, config::LogLevel::kInfo, config::LogLevel::kWarn,
                   config::LogLevel::kError, config::LogLevel::kCritical, config::LogLevel::kOff})
      if (level == config::to_string(l)) running.registrar.log_level = l;
  };
  b.running_config = [this] { return std::make_pair(config_source(), config::config_values(running)); };
  b.clock = &loop.clock();
  b.test_commands = c.control.test_commands;
  b.status.registrar_id = ctx.registrar_id;
  b.status.mode = config::to_string(c.registrar.mode);
  b.status.version = POOLREG_VERSION;
  b.status.started_at = loop.now();
  b.status.cores = std::thread::hardware_concurrency();
  b.status.shards = hs->shard_count();
  b.status.control_socket = c.control.enabled ? config::effective_control_socket_path(c.control) : std::string();
  if (c.metrics.enabled) {
    control::MetricsHttpServerConfig mc;
    mc.address = c.metrics.listen.address;
    mc.port = c.metrics.listen.port;
    metrics = std::make_unique<control::MetricsHttpServer>(loop, mc, [this] { return control::registrar_metrics_text(*bindings); });
    // /readyz: the checks of `poolctl health` (load balancers and orchestrators probe it).
    metrics->set_readiness(
        [this] { return control::readiness_text(control::evaluate_health(control::health_inputs(*bindings))); });
    if (auto started = metrics->start(); !started) {
      log.error("metrics endpoint {}: {}", config::to_string(c.metrics.listen), started.error());
      return false;
    }
    b.status.metrics_listen = config::to_string(config::SocketAddress{c.metrics.listen.address, metrics->bound_port()});
  }
  if (c.control.enabled) {
    control = std::make_unique<control::ControlServer>(
        loop, control::ControlServerConfig{b.status.control_socket, c.control.socket_mode});
    control::EventHubConfig hc;
    hc.own_id = ctx.registrar_id;
    event_hub = std::make_unique<control::EventHub>(events, hc);
    event_hub->attach(*control);
    b.events = [this] { return event_hub->counters(); };
  }
  b.status.listeners = {bound_summary()};
  bindings = std::make_unique<control::RegistrarBindings>(b);
  if (control) {
    control::register_registrar_commands(*control, *bindings);
    // Who changed what (issue 17): every mutating command, its sender's uid/pid and the outcome.
    control->registry().set_audit([this](const control::CommandAudit& a) { log.info("{}", control::audit_line(a)); });
    if (auto started = control->start(); !started) {
      log.error("control socket {}: {}", bindings->status.control_socket, started.error());
      return false;
    }
  }
  return true;
}

std::string Application::Runtime::bound_summary() const {
  // describe_listeners() over a copy carrying the bound ports, so the line shows what is open.
  config::RegistrarConfig shown = ctx.config;
  shown.asap.sctp = asap_sctp != 0;
  shown.asap.sctp_port = asap_sctp != 0 ? asap_sctp : shown.asap.sctp_port;
  shown.asap.udp_encapsulation_port = udp_port;
  bool native = kernel_lanes && kernel_lanes->native_sctp();
#if POOLREG_HAVE_DPDK
  native = native || (dpdk_backend && dpdk_backend->native_sctp());
#endif
  shown.asap.sctp_native = native && ctx.config.asap.sctp_native;
  shown.enrp.sctp_native = native && ctx.config.enrp.sctp_native;
  shown.asap.tcp = asap_tcp != 0;
  shown.asap.tcp_port = asap_tcp != 0 ? asap_tcp : shown.asap.tcp_port;
  shown.asap.server_announce = announcer != nullptr;
  shown.enrp.enabled = enrp != nullptr;
  shown.enrp.sctp_port = enrp_sctp;
  shown.enrp.tcp = enrp_stream_port() != 0;
  shown.enrp.tcp_port = enrp_tcp;
  shown.tls.asap_port = asap_tls;
  shown.tls.enrp_port = enrp_tls;
  shown.enrp.multicast = enrp_multicast != nullptr;
  shown.control.enabled = control != nullptr;
  shown.metrics.enabled = metrics != nullptr;
  if (metrics) shown.metrics.listen.port = metrics->bound_port();
  shown.dpdk.enabled = dpdk_mode;
  return describe_listeners(shown);
}

int Application::Runtime::loop_timeout_ms() const {
  const TimeNs now = loop.now();
  TimeNs due = now + kMaxLoopWait;
  if (auto a = asap->next_timer_due()) due = std::min(due, *a);
  if (enrp) due = std::min(due, enrp->next_timer_due());
  if (due <= now) return 0;
  return static_cast<int>((due - now + kNsPerMs - 1) / kNsPerMs);
}

void Application::Runtime::service_timers() {
  const TimeNs now = loop.now();
  if (auto a = asap->next_timer_due(); a && *a <= now) asap->run_timers(now);
  if (enrp && enrp->next_timer_due() <= now) enrp->run_timers(now);
  hs->drain_feedback();
  if (now >= next_reclaim) {
    domain.reclaim();
    next_reclaim = now + kReclaimPeriod;
  }
  if (enrp && now >= next_enrp_watch) {
    watch_enrp();
    next_enrp_watch = now + kReclaimPeriod;
  }
  if (now >= next_accept_pause_log) watch_accept_pauses();
  if (now >= next_quota_log) watch_client_quotas();
  if (tls.asap_server && now >= next_tls_log) watch_tls_refusals();
  if (enrp && !enrp_startup_logged && enrp->startup_complete()) {
    enrp_startup_logged = true;
    log.info("ENRP start-up complete: {} PEs in the handlespace", hs->counters().pes);
  }
  // RSPLIB announces only after its ENRP start-up phase (asap.md 4.8).
  if (announcer && !announcer->started() && (!enrp || enrp->startup_complete())) {
    announcer->start();
    log.info("Server Announce started to {}", config::to_string(ctx.config.asap.announce_address));
  }
}

void Application::Runtime::watch_enrp() {
  for (const auto& p : enrp->peers()) {
    std::string key;
    for (const auto& a : p.endpoint.addresses) key += a.to_string() + ",";
    key += std::to_string(p.endpoint.port);
    auto [it, fresh] = peer_states.try_emplace(key, p.state);
    if (!fresh && it->second == p.state) continue;
    it->second = p.state;
    if (fresh && p.state == enrp::PeerState::kUnknown) continue;
    // A dead static peer is already reset (ID 0, its PEs taken over): name it by what it was.
    const bool dead = p.state == enrp::PeerState::kDead;
    log.info("ENRP peer {} ({}:{}) is {} ({} PEs)", format_registrar_id(ctx.config.registrar.mode, p.last_id),
             p.endpoint.addresses.empty() ? std::string("?") : p.endpoint.addresses.front().to_string(),
             p.endpoint.port, enrp::peer_state_name(p.state), dead ? p.last_pe_count : p.pe_count);
  }
  const auto& c = enrp->counters();
  const TimeNs now = loop.now();
  if (c.rejected_identity_mismatch != identity_mismatches_logged && now >= next_identity_log) {
    const auto& m = enrp->last_identity_mismatch();
    const std::uint64_t fresh = c.rejected_identity_mismatch - identity_mismatches_logged;
    identity_mismatches_logged = c.rejected_identity_mismatch;
    next_identity_log = now + kIdentityLogPeriod;
    if (m) {
      log.warn("ENRP: {} message(s) dropped whose sender ID does not fit their origin; latest claims {} from {} "
               "over {}{}",
               fresh, format_registrar_id(ctx.config.registrar.mode, m->claimed),
               m->source.to_string(), m->multicast ? "multicast" : (m->kind == TransportProtocol::kTcp ? "TCP" : "SCTP"),
               m->origin_id != 0 ? " (a connection of " + format_registrar_id(ctx.config.registrar.mode, m->origin_id) + ")"
                                 : std::string());
    }
  }
  if (c.takeovers_won != takeovers_won) {
    // One line per takeover, naming the dead peer; those that left the bounded record unread
    // are summed up by the counters.
    std::uint64_t named = 0;
    for (const auto& w : enrp->recent_takeover_wins()) {
      if (w.number <= takeovers_won) continue;
      ++named;
      log.info("ENRP takeover of dead peer {} won: {} PEs now ours ({} takeovers won, {} PEs taken over so far)",
               format_registrar_id(ctx.config.registrar.mode, w.target), w.pes, w.number, c.takeover_pes_taken);
    }
    if (named != c.takeovers_won - takeovers_won)
      log.info("ENRP takeover finished: {} takeovers won, {} PEs taken over so far", c.takeovers_won,
               c.takeover_pes_taken);
    takeovers_won = c.takeovers_won;
  }
}

void Application::Runtime::watch_accept_pauses() {
  std::uint64_t pauses = transport->counters().accept_pauses;
  if (control) pauses += control->counters().accept_pauses;
  if (metrics) pauses += metrics->counters().accept_pauses;
  if (pauses == accept_pauses_logged) return;
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  log.warn("out of file descriptors: accept() failed (EMFILE/ENFILE), listeners paused {} time(s) for {} ms since "
           "the last report; {} TCP connections open, open-file limit {}; new clients wait in the backlog",
           pauses - accept_pauses_logged, runtime::ListenerPause::kDefaultBackoff / kNsPerMs,
           transport->connection_count(), lim.rlim_cur);
  accept_pauses_logged = pauses;
  next_accept_pause_log = loop.now() + kAcceptPauseLogPeriod;
}

void Application::Runtime::watch_tls_refusals() {
  const runtime::TransportCounters t = transport->counters();
  const std::uint64_t now_counts[3] = {t.tls_handshake_failures, t.tls_identity_refused, t.tls_handshake_timeouts};
  if (std::equal(std::begin(now_counts), std::end(now_counts), std::begin(tls_refusals_logged))) return;
  log.warn("TLS: since the last report {} handshake(s) failed, {} peer(s) refused by tls.*_allowed_identities, {} "
           "handshake(s) timed out (tls.handshake_timeout_ms {}); latest: {}",
           now_counts[0] - tls_refusals_logged[0], now_counts[1] - tls_refusals_logged[1],
           now_counts[2] - tls_refusals_logged[2], running.tls.handshake_timeout_ms,
           transport->last_tls_failure().empty() ? std::string("timeout") : transport->last_tls_failure());
  std::copy(std::begin(now_counts), std::end(now_counts), std::begin(tls_refusals_logged));
  next_tls_log = loop.now() + kQuotaLogPeriod;
}

void Application::Runtime::watch_client_quotas() {
  const runtime::TransportCounters t = transport->counters();
  const std::uint64_t now_counts[3] = {asap->counters().associations_refused_per_address,
                                       t.partial_frame_budget_resets, t.first_message_timeouts};
  if (std::equal(std::begin(now_counts), std::end(now_counts), std::begin(quota_closes_logged))) return;
  log.warn("client quotas: since the last report {} association(s) aborted over limits.max_associations_per_address "
           "({}), {} TCP connection(s) reset over limits.partial_frame_budget_bytes ({}), {} reset for completing no "
           "message within limits.first_message_timeout_ms ({})",
           now_counts[0] - quota_closes_logged[0], running.limits.max_associations_per_address,
           now_counts[1] - quota_closes_logged[1], running.limits.partial_frame_budget_bytes,
           now_counts[2] - quota_closes_logged[2], running.limits.first_message_timeout_ms);
  std::copy(std::begin(now_counts), std::end(now_counts), std::begin(quota_closes_logged));
  next_quota_log = loop.now() + kQuotaLogPeriod;
}

std::string Application::Runtime::config_source() const {
  return ctx.config_path.empty() ? std::string(config::kEmbeddedConfigSourceName) : ctx.config_path;
}

control::ReloadReport Application::Runtime::reload(std::string_view trigger) {
  notifier.reloading();
  control::ReloadReport r = reload_configuration(trigger);
  notifier.ready("listening: " + bound_summary());
  return r;
}

control::ReloadReport Application::Runtime::reload_configuration(std::string_view trigger) {
  control::ReloadReport r;
  r.source = config_source();
  // The log first: after a rotation the lines below belong in the new file.
  const LogReopen reopened = reopen_log_file(log);
  r.log_to_file = reopened.to_file;
  r.log_reopened = reopened.to_file && reopened.ok;
  r.log_error = reopened.error;
  if (!reopened.ok) log.error("{}: log file {} not reopened, still writing to the old one: {}", trigger,
                              running.registrar.log_file, reopened.error);

  config::LoadResult loaded = ctx.config_path.empty() ? config::load_embedded_default_config(ctx.overrides)
                                                      : config::load_config_file(ctx.config_path, ctx.overrides);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) r.errors.push_back(e.to_string());
    std::string all;
    for (const auto& e : r.errors) all += (all.empty() ? "" : "; ") + e;
    log.error("{}: configuration {} not reloaded ({} error{}), the running configuration stays: {}", trigger, r.source,
              r.errors.size(), r.errors.size() == 1 ? "" : "s", all);
    return r;
  }
  ReloadPlan plan = plan_reload(running, loaded.config, resolutions_on_lanes);
  apply_live_config(plan.config);
  running = std::move(plan.config);
  r.reloaded = true;
  r.applied = std::move(plan.applied);
  r.refused = std::move(plan.refused);

  auto list = [](const std::vector<config::ConfigChange>& changes) {
    std::string out;
    for (const auto& c : changes) out += (out.empty() ? "" : ", ") + c.key + " " + c.before + " -> " + c.after;
    return out;
  };
  if (r.applied.empty() && r.refused.empty())
    log.info("{}: configuration {} reloaded: no changes{}", trigger, r.source, r.log_reopened ? ", log file reopened" : "");
  else if (!r.applied.empty())
    log.info("{}: configuration {} reloaded: applied {}{}", trigger, r.source, list(r.applied),
             r.log_reopened ? "; log file reopened" : "");
  if (!r.refused.empty())
    log.warn("{}: configuration {}: not applied, restart poolregd to change: {}", trigger, r.source, list(r.refused));
  if (tls.asap_server || tls.enrp_server) reload_tls(trigger, r);
  return r;
}

void Application::Runtime::reload_tls(std::string_view trigger, control::ReloadReport& r) {
  r.tls_on = true;
  auto next = make_tls_contexts(running.tls);
  if (!next || !next.value().asap_server) {
    r.tls_error = next ? std::string("no TLS configured") : next.error();
    log.error("{}: TLS files not reloaded, the running certificate, key and CA stay: {}", trigger, r.tls_error);
    return;
  }
  TlsContexts fresh = std::move(next).value();
  const std::size_t listeners = transport->replace_tls(tls.asap_server.get(), fresh.asap_server) +
                                transport->replace_tls(tls.enrp_server.get(), fresh.enrp_server);
  tls = std::move(fresh);  // the ENRP connect callback reads tls.enrp_client at each connect
  r.tls_reloaded = true;
  log.info("{}: TLS certificate {}, key and CA {} read again: {} listener(s) use them for new connections", trigger,
           running.tls.certificate, running.tls.ca_file, listeners);
}

// Hands the live keys (config_reload.cpp) to whoever reads them; all on this thread.
void Application::Runtime::apply_live_config(const config::RegistrarConfig& c) {
  log.set_level(to_spdlog_level(c.registrar.log_level));
  handlespace::HandlespaceLimits limits = to_handlespace_config(c, 1).limits;
  hs->set_limits(limits);
  asap->apply_live_settings(to_asap_config(c, ctx.registrar_id));
  transport->set_tcp_quotas(c.limits.partial_frame_budget_bytes,
                            static_cast<TimeNs>(c.limits.first_message_timeout_ms) * kNsPerMs);
  if (enrp) {
    // A new peer's UDP encapsulation port (or native SCTP) first, so the Presence below reaches it.
    for (const auto& p : c.enrp.peers) {
      if (p.sctp_native) output->set_endpoint_native(p.address.address, p.address.port);
      if (p.udp_port != 0) output->set_endpoint_udp_port(p.address.address, p.address.port, p.udp_port);
    }
    const enrp::EnrpConfig next = to_enrp_config(c, ctx.registrar_id, enrp_sctp, enrp_stream_port());
    enrp->apply_live_timers(next);
    const auto [added, removed] = enrp->set_static_peers(next.static_peers);
    if (added + removed > 0) log.info("ENRP static peers: {} added, {} removed", added, removed);
  }
}

void Application::Runtime::shutdown() {
  control.reset();  // removes the socket file; closes the event streams
  event_hub.reset();
  metrics.reset();
  router.set_resolution_latency(nullptr);
  announcer.reset();
  // The registrar is going away: no ENRP deletes or reconnects for the associations we close now.
  router.attach(*wire, *output, *asap, nullptr);
  forwarder.set(nullptr);
  transport->close_all();
  if (lanes != nullptr) lanes->close_all();
  const TimeNs deadline = loop.now() + kShutdownFlush;
  while (wire->connection_count() > 0 && loop.now() < deadline) {
    loop.run_once(10);
    reader->quiescent();
  }
  loop.run_once(0);  // deliver the deferred on_closed callbacks
  if (wire->connection_count() > 0)
    log.warn("{} associations still closing at exit", wire->connection_count());
  if (kernel_lanes) kernel_lanes->stop();  // the lanes finish the SHUTDOWNs (bounded)
#if POOLREG_HAVE_DPDK
  if (dpdk_backend) dpdk_backend->stop();  // the poll lcores finish the SHUTDOWNs (bounded)
#endif
}

Application::Application(const DaemonContext& context) : context_(context) {}
Application::~Application() = default;

int Application::run(ShutdownSignals& signals) {
  auto& log = context_.logger;
  const std::string id = format_registrar_id(context_.config.registrar.mode, context_.registrar_id);
  runtime_ = std::make_unique<Runtime>(context_);
  Runtime& rt = *runtime_;

  bool ok = false;
  try {
    ok = rt.build();
  } catch (const std::exception& e) {
    log.error("start-up failed: {}", e.what());
  }
  if (!ok) {
    log.error("poolregd {} not started", id);
    runtime_.reset();
    return 1;
  }
  rt.loop.add_fd(signals.fd(), EPOLLIN, [&rt, &signals](std::uint32_t) {
    while (auto sig = signals.poll()) {
      if (is_reload_signal(*sig)) {
        rt.reload(signal_name(*sig));
        continue;
      }
      rt.stop_signal = *sig;
      rt.loop.stop();
      return;
    }
  });

  log.info("poolregd {} listening: {}", id, rt.bound_summary());
  if (rt.enrp) {
    log.info("ENRP: {} static peer(s), heartbeat {} ms, mentor discovery {} ms", context_.config.enrp.peers.size(),
             context_.config.enrp.heartbeat_interval_ms, context_.config.enrp.mentor_discovery_ms);
  } else if (context_.config.enrp.enabled) {
    log.warn("ENRP is configured but not running: ASAP only");
  }

  rt.reader->online();
  if (rt.enrp) rt.enrp->start();
  rt.notifier.ready("listening: " + rt.bound_summary());
  while (!rt.loop.stopped()) {
    rt.loop.run_once(rt.loop_timeout_ms());
    rt.service_timers();
    rt.reader->quiescent();
  }
  const std::string stop_cause = rt.stop_signal ? signal_name(*rt.stop_signal) : std::string("request");
  log.info("poolregd {} stopping on {}", id, stop_cause);
  rt.notifier.stopping("stopping on " + stop_cause);
  rt.shutdown();
  rt.reader->offline();
  rt.loop.remove_fd(signals.fd());
  runtime_.reset();
  log.info("poolregd {} stopped", id);
  return 0;
}

}  // namespace poolreg::daemon
