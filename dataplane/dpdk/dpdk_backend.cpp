#include "dataplane/dpdk/dpdk_backend.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <exception>

#include "dataplane/dpdk/combined_transport.hpp"

namespace poolreg::dpdk {
namespace {

constexpr unsigned kRingSize = 65536;

std::string mac_text(const MacAddress& m) {
  char b[18];
  std::snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return b;
}

bool unspecified(const IpAddress& a) {
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a.data()[i] != 0) return false;
  return true;
}

void add_address(InterfaceConfig& i, const IpAddress& a) {
  if (unspecified(a) || a.is_multicast() || a.is_loopback()) return;  // not addresses of a port
  if (a.is_v4()) {
    std::uint32_t be;
    std::memcpy(&be, a.data(), 4);
    if (!i.owns_ipv4(be)) i.ipv4.push_back(be);
  } else if (!i.owns_ipv6(a.data())) {
    Ipv6Bytes b;
    std::memcpy(b.data(), a.data(), 16);
    i.ipv6.push_back(b);
  }
}

}  // namespace

bool to_backend_config(const config::RegistrarConfig& c, DpdkBackendConfig* out, std::string* error) {
  DpdkBackendConfig b;
  b.eal_argv = {"poolregd"};
  if (!c.dpdk.lcores.empty()) {
    b.eal_argv.push_back("-l");
    b.eal_argv.push_back(c.dpdk.lcores);
  }
  b.eal_argv.insert(b.eal_argv.end(), c.dpdk.eal_args.begin(), c.dpdk.eal_args.end());
  if (!c.dpdk.ports.empty()) {
    b.port_id = c.dpdk.ports.front();
    b.port_given = true;
  }
  b.mempool_size = c.dpdk.mempool_size;
  b.burst = static_cast<std::uint16_t>(c.dpdk.burst_size);
  b.idle_sleep_us = c.dpdk.idle_sleep_us;
  b.resolve_on_poll_lcore = c.dpdk.resolve_on_poll_lcore;
  b.interface.vlan_id = c.dpdk.vlan_id;
  for (const auto& a : c.asap.listen) add_address(b.interface, a);
  for (const auto& a : c.enrp.listen) add_address(b.interface, a);
  if (b.interface.ipv4.empty() && b.interface.ipv6.empty()) {
    if (error)
      *error =
          "DPDK mode needs the registrar's own unicast address(es) in asap.listen (e.g. --listen 10.0.0.1); "
          "wildcard and loopback addresses cannot be answered for on a DPDK port";
    return false;
  }
  if (c.asap.udp_encapsulation_port == 0) {
    if (error) *error = "DPDK mode carries SCTP over UDP: asap.udp_encapsulation_port must not be 0";
    return false;
  }
  b.interface.sctp_udp_port = c.asap.udp_encapsulation_port;
  b.engine.max_message_size = c.asap.max_message_bytes;
  if (c.asap.sctp_heartbeat_interval_ms != 0)
    b.engine.heartbeat_interval_ms = c.asap.sctp_heartbeat_interval_ms;
  *out = std::move(b);
  return true;
}

std::unique_ptr<DpdkBackend> DpdkBackend::create(const DpdkBackendConfig& config, kernel::EventLoop& loop,
                                                 kernel::MessageHandler& handler, std::string* error) {
  std::unique_ptr<DpdkBackend> b(new DpdkBackend());
  b->config_ = config;
  b->ids_.store(kDpdkConnectionIdBase);
  b->eal_ = EalRuntime::init(config.eal_argv, error);
  if (!b->eal_) return nullptr;
  b->poll_lcore_ = rte_get_next_lcore(-1, /*skip_main=*/1, /*wrap=*/0);
  if (b->poll_lcore_ >= RTE_MAX_LCORE) {
    if (error)
      *error = "the DPDK backend needs two lcores: the main (control) lcore and a poll lcore (e.g. -l 0-1)";
    return nullptr;
  }
  const int socket = static_cast<int>(rte_lcore_to_socket_id(b->poll_lcore_));
  b->pool_ = rte_pktmbuf_pool_create("poolreg_mbufs", config.mempool_size, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                     socket);
  if (b->pool_ == nullptr) {
    if (error) *error = std::string("mbuf pool: ") + rte_strerror(rte_errno);
    return nullptr;
  }
  std::uint16_t port_id = config.port_id;
  if (!config.port_given) {
    port_id = RTE_MAX_ETHPORTS;
    std::uint16_t p;
    RTE_ETH_FOREACH_DEV(p) {
      port_id = p;
      break;
    }
    if (port_id == RTE_MAX_ETHPORTS) {
      if (error) *error = "no DPDK port probed (give a device or a --vdev in the EAL arguments)";
      return nullptr;
    }
  }
  b->port_ = DpdkPort::open({.port_id = port_id}, b->pool_, error);
  if (!b->port_) return nullptr;
  b->config_.interface.mac = b->port_->mac();
  b->config_.interface.mtu = b->port_->mtu();
  b->config_.engine.path_mtu = b->port_->mtu() - 48u;  // IPv6 (40) + UDP (8) headers

  b->counters_ = std::make_unique<LcoreCounters[]>(RTE_MAX_LCORE);
  b->rings_.commands = rte_ring_create("poolreg_cmd", kRingSize, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
  b->rings_.events = rte_ring_create("poolreg_evt", kRingSize, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
  b->rings_.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (b->rings_.commands == nullptr || b->rings_.events == nullptr || b->rings_.wake_fd < 0) {
    if (error) *error = "cannot create the control/poll rings";
    return nullptr;
  }
  b->engine_ = SctpConnEngine::create(b->config_.engine, b->ids_, error);
  if (!b->engine_) return nullptr;
  b->processor_ = std::make_unique<PacketProcessor>(b->config_.interface, b->counters_[b->poll_lcore_],
                                                    b->pool_, b->engine_.get());
  b->event_sink_ = std::make_unique<RingEventSink>(b->rings_);
  b->engine_->attach(b->processor_.get(), b->event_sink_.get());
  b->transport_ = std::make_unique<DpdkSctpTransport>(loop, handler, b->rings_, *b->engine_, b->ids_,
                                                      config.engine.max_message_size);
  PollLoopConfig pc;
  pc.port_id = port_id;
  pc.burst = config.burst;
  pc.idle_sleep_us = config.idle_sleep_us;
  b->poll_ = std::make_unique<PollLoop>(pc, *b->processor_, *b->engine_, *b->event_sink_, b->rings_.commands);
  b->telemetry_.counters = b->counters_.get();
  b->telemetry_.poll_lcores = {b->poll_lcore_};
  set_telemetry_source(&b->telemetry_);
  return b;
}

bool DpdkBackend::enable_poll_resolution(const handlespace::Handlespace& hs, handlespace::QsbrDomain& domain,
                                         const asap::AsapConfig& asap, std::string* error) {
  if (launched_ || resolver_) {
    if (error) *error = "poll-lcore resolution must be enabled once, before start()";
    return false;
  }
  try {
    resolver_ = std::make_unique<PollResolver>(hs, domain, asap, counters_[poll_lcore_], clock_,
                                               asap.registrar_id ^ 0x2545f4914f6cdd1dull);
  } catch (const std::exception& e) {
    if (error) *error = std::string("poll-lcore resolution: ") + e.what();
    return false;
  }
  engine_->set_local_answerer(resolver_.get());
  poll_->set_resolver(resolver_.get());
  return true;
}

bool DpdkBackend::start(std::string* error) {
  port_->wait_link_up(1000);  // virtual devices are up at once; a NIC may take a moment
  transport_->mark_started();
  const int rc = rte_eal_remote_launch(&PollLoop::lcore_main, poll_.get(), poll_lcore_);
  if (rc != 0) {
    if (error)
      *error = "cannot launch the poll lcore " + std::to_string(poll_lcore_) + ": " + rte_strerror(-rc);
    return false;
  }
  launched_ = true;
  return true;
}

void DpdkBackend::stop() {
  if (!launched_) return;
  poll_->request_stop();
  rte_eal_wait_lcore(poll_lcore_);
  launched_ = false;
  if (transport_) transport_->drain_events();  // last closes (on_closed(kShutdown)) reach the handler
}

DpdkBackend::~DpdkBackend() {
  stop();
  set_telemetry_source(nullptr);
  transport_.reset();
  poll_.reset();
  engine_.reset();  // usrsctp_finish on this thread: the poll lcore has stopped
  resolver_.reset();  // after the engine (it forgets associations into the resolver); reader offline
  event_sink_.reset();
  processor_.reset();
  port_.reset();
  // Events/commands still in the rings own heap objects.
  for (rte_ring* r : {rings_.events, rings_.commands}) {
    if (r == nullptr) continue;
    void* obj;
    while (rte_ring_dequeue(r, &obj) == 0) {
      if (r == rings_.events)
        delete static_cast<TransportEvent*>(obj);
      else
        delete static_cast<TransportCommand*>(obj);
    }
    rte_ring_free(r);
  }
  if (rings_.wake_fd >= 0) ::close(rings_.wake_fd);
  if (pool_ != nullptr) rte_mempool_free(pool_);
  eal_.reset();
}

std::string DpdkBackend::describe() const {
  std::string addresses;
  for (std::uint32_t a : config_.interface.ipv4) {
    const auto* b = reinterpret_cast<const std::uint8_t*>(&a);
    addresses += (addresses.empty() ? "" : ",") + std::to_string(b[0]) + "." + std::to_string(b[1]) + "." +
                 std::to_string(b[2]) + "." + std::to_string(b[3]);
  }
  for (const Ipv6Bytes& a : config_.interface.ipv6) {
    std::array<std::uint8_t, 16> copy = a;
    addresses += (addresses.empty() ? "" : ",") + IpAddress::v6(copy).to_string();
  }
  return "port " + std::to_string(port_->id()) + " " + port_->name() + " " + mac_text(config_.interface.mac) +
         " (" + port_->link_text() + "), poll lcore " + std::to_string(poll_lcore_) + ", addresses " +
         addresses + ", SCTP over UDP " + std::to_string(config_.interface.sctp_udp_port) +
         (config_.interface.vlan_id != 0 ? ", VLAN " + std::to_string(config_.interface.vlan_id) : "");
}

}  // namespace poolreg::dpdk
