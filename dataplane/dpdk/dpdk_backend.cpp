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

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

#include "dataplane/dpdk/steering.hpp"
#include "dataplane/runtime/combined_transport.hpp"

namespace poolreg::dpdk {
namespace {

constexpr unsigned kRingSize = 65536;
constexpr unsigned kInboxSize = 8192;  // mbufs other lanes steer to one lane

std::string mac_text(const MacAddress& m) {
  char b[18];
  std::snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return b;
}

// The NUMA socket of an lcore as an index of per-socket arrays (0 when EAL does not know).
unsigned socket_of(unsigned lcore) {
  const unsigned s = rte_lcore_to_socket_id(lcore);
  return s < RTE_MAX_NUMA_NODES ? s : 0;
}

}  // namespace

Expected<std::unique_ptr<DpdkBackend>, std::string> DpdkBackend::create(const DpdkBackendConfig& config,
                                                                        runtime::EventLoop& loop,
                                                                        runtime::MessageHandler& handler) {
  std::unique_ptr<DpdkBackend> b(new DpdkBackend());
  b->config_ = config;
  b->ids_.store(runtime::kLaneConnectionIdBase);
  auto eal = EalRuntime::init(config.eal_argv);
  if (!eal) return unexpected(eal.error());
  b->eal_ = std::move(*eal);
  std::vector<unsigned> lcores;
  for (unsigned l = rte_get_next_lcore(-1, /*skip_main=*/1, /*wrap=*/0); l < RTE_MAX_LCORE;
       l = rte_get_next_lcore(l, 1, 0))
    lcores.push_back(l);
  if (lcores.empty()) {
    return unexpected(std::string("the DPDK backend needs two lcores: the main (control) lcore and a poll lcore (e.g. -l 0-1)"));
  }
  std::vector<std::uint16_t> port_ids = config.port_ids;
  if (port_ids.empty()) {
    std::uint16_t p;
    RTE_ETH_FOREACH_DEV(p) { port_ids.push_back(p); }
    if (port_ids.empty()) {
      return unexpected(std::string("no DPDK port probed (give a device or a --vdev in the EAL arguments)"));
    }
  }
  if (port_ids.size() > kMaxPorts) {
    return unexpected(std::to_string(port_ids.size()) + " DPDK ports; at most " + std::to_string(kMaxPorts));
  }
  // One mbuf pool per NUMA socket that has poll lcores: a lane receives into and builds frames
  // from memory of its own socket.
  std::vector<rte_mempool*> lane_pools;
  for (unsigned lcore : lcores) {
    const unsigned socket = socket_of(lcore);
    rte_mempool*& pool = b->pools_[socket];
    if (pool == nullptr) {
      const std::string name = "poolreg_mbufs_" + std::to_string(socket);
      // At least enough for every RX and TX ring of every port and lane to be full at once.
      const unsigned needed = static_cast<unsigned>(port_ids.size() * lcores.size() * 2048 + 2047);
      pool = rte_pktmbuf_pool_create(name.c_str(), std::max(config.mempool_size, needed), 256, 0,
                                     RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(socket));
      if (pool == nullptr) {
        return unexpected("mbuf pool on socket " + std::to_string(socket) + ": " + rte_strerror(rte_errno));
      }
    }
    lane_pools.push_back(pool);
  }
  // Each port answers for its own addresses (every address of the registrar without
  // dpdk.addresses) and routes by its own table, with its own MAC and MTU; the SCTP path MTU is
  // the smallest port's.
  std::vector<IpAddress> listen;
  for (std::uint32_t a : config.interface.ipv4) {
    std::array<std::uint8_t, 4> octets;
    std::memcpy(octets.data(), &a, 4);
    listen.push_back(IpAddress::v4(octets));
  }
  for (const Ipv6Bytes& a : config.interface.ipv6) listen.push_back(IpAddress::v6(a));
  auto routing = plan_port_routing(config.routing, port_ids, listen);
  if (!routing) return unexpected(routing.error());
  std::uint16_t smallest_mtu = 65535;
  for (std::size_t index = 0; index < port_ids.size(); ++index) {
    const std::uint16_t id = port_ids[index];
    auto opened = DpdkPort::open({.port_id = id,
                                  .queues = static_cast<std::uint16_t>(lcores.size()),
                                  .rss_steering = config.rss_steering,
                                  .sctp_native = config.interface.sctp_native},
                                 lane_pools);
    if (!opened) return unexpected(opened.error());
    std::unique_ptr<DpdkPort> port = std::move(*opened);
    auto interface = std::make_unique<InterfaceConfig>(config.interface);
    interface->ipv4 = (*routing)[index].ipv4;
    interface->ipv6 = (*routing)[index].ipv6;
    interface->routes = (*routing)[index].routes;
    interface->mac = port->mac();
    interface->mtu = port->mtu();
    smallest_mtu = std::min(smallest_mtu, port->mtu());
    // A port that writes native SCTP's CRC32c needs usrsctp to leave it to the engine and the
    // ports (the engine's default: it computes and checks the CRC32c itself, sctp_engine.hpp).
    if (port->sctp_checksum_offload().tx) b->config_.engine.crc32c_offload = true;
    b->ports_.push_back(std::move(port));
    b->interfaces_.push_back(std::move(interface));
  }
  b->config_.interface = *b->interfaces_.front();
  b->config_.engine.path_mtu = smallest_mtu - 48u;  // IPv6 (40) + UDP (8) headers

  b->counters_ = std::make_unique<LcoreCounters[]>(RTE_MAX_LCORE);
  b->wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (b->wake_fd_ < 0) {
    return unexpected(std::string("eventfd: ") + std::strerror(errno));
  }
  for (unsigned lcore : lcores)
    if (auto added = b->add_lane(lcore); !added) return unexpected(added.error());
  b->inboxes_.clear();
  for (auto& lane : b->lanes_) b->inboxes_.push_back(lane->inbox);
  b->plan_rss_steering();
  std::vector<runtime::LaneTransport::Lane> transport_lanes;
  if (b->lanes_.size() > 1) b->aliases_ = std::make_unique<runtime::AliasOwnerTable>();
  for (std::size_t i = 0; i < b->lanes_.size(); ++i) {
    Lane& lane = *b->lanes_[i];
    if (b->lanes_.size() > 1) {
      for (auto& processor : lane.processors)
        processor->set_steering(Steering{static_cast<unsigned>(i), static_cast<unsigned>(b->lanes_.size()),
                                         b->inboxes_.data(), b->rss_.get(), b->aliases_.get()});
      // Multi-homed / ADD-IP peers: the lane's aliases are published for the lane their frames
      // are steered to (owner_lane, RSS-predicted where RSS steers).
      const RssSteering* rss = b->rss_.get();
      const auto lanes = static_cast<unsigned>(b->lanes_.size());
      lane.engine->set_alias_publishing(
          sctp::AliasPublishing{b->aliases_.get(), static_cast<unsigned>(i),
                                [rss, lanes](const IpAddress& ip, std::uint16_t port, bool native) {
                                  return owner_lane(rss, lanes, ip.data(), !ip.is_v4(), port, native);
                                }});
    }
    transport_lanes.push_back(runtime::LaneTransport::Lane{lane.rings, lane.engine.get()});
  }
  b->transport_ = std::make_unique<runtime::LaneTransport>(loop, handler, std::move(transport_lanes), b->ids_,
                                                           config.engine.max_message_size);
  if (b->rss_ != nullptr) {
    // Connects go to the lane the port's RSS will deliver the answers to.
    const RssSteering* rss = b->rss_.get();
    const auto lanes = static_cast<unsigned>(b->lanes_.size());
    b->transport_->set_owner_function([rss, lanes](const IpAddress& peer, std::uint16_t udp, std::uint16_t sctp) {
      return owner_lane(rss, lanes, peer.data(), !peer.is_v4(), udp != 0 ? udp : sctp, udp == 0);
    });
  }
  std::vector<LaneCaptureTap*> taps;
  for (auto& lane : b->lanes_) taps.push_back(lane->capture.get());
  std::vector<std::uint16_t> captured_ports;
  for (auto& port : b->ports_) captured_ports.push_back(port->id());
  b->capture_ = std::make_unique<CaptureSession>(loop, std::move(taps), std::move(captured_ports));
  b->telemetry_.counters = b->counters_.get();
  b->telemetry_.poll_lcores = lcores;
  set_telemetry_source(&b->telemetry_);
  return b;
}

Expected<void, std::string> DpdkBackend::add_lane(unsigned lcore) {
  auto lane = std::make_unique<Lane>();
  const std::size_t index = lanes_.size();
  lane->lcore = lcore;
  const int socket = static_cast<int>(socket_of(lcore));
  const std::string suffix = "_" + std::to_string(index);
  lane->commands = std::make_unique<runtime::LaneRing>(kRingSize);
  lane->events = std::make_unique<runtime::LaneRing>(kRingSize);
  lane->order = std::make_unique<runtime::LaneOrder>();
  lane->rings =
      runtime::LaneRings{lane->commands.get(), lane->events.get(), wake_fd_, -1,  // poll lcores poll
                         lane->order.get()};
  // The inbox has many producers (every other lane) and one consumer.
  lane->inbox = rte_ring_create(("poolreg_steer" + suffix).c_str(), kInboxSize, socket, RING_F_SC_DEQ);
  Lane& l = *lane;
  lanes_.push_back(std::move(lane));  // from here on the destructor frees what was made
  if (l.inbox == nullptr) return unexpected("cannot create the steering inbox of poll lcore " + std::to_string(lcore));
  sctp::UsrsctpStack* stack = &sctp::UsrsctpStack::linked();
  if (index > 0) {
    auto loaded = sctp::UsrsctpStack::load_private();
    if (!loaded)
      return unexpected("poll lcore " + std::to_string(lcore) + " (lane " + std::to_string(index) +
                        ") needs its own usrsctp copy: " + loaded.error() + "; " + sctp::kLaneCeilingHint +
                        " (fewer worker lcores in the EAL core list)");
    l.private_stack = std::move(*loaded);
    stack = l.private_stack.get();
  }
  auto engine = sctp::SctpEngine::create(config_.engine, ids_, stack);
  if (!engine) return unexpected(engine.error());
  l.engine = std::move(*engine);
  for (std::uint16_t port : config_.native_ports) l.engine->accept_native(port);
  // One processor per port (its MAC, its TX batch, its neighbours), all on this lane's counters
  // and engine.
  std::vector<PacketProcessor*> processors;
  std::vector<LanePort> lane_ports;
  for (std::size_t p = 0; p < ports_.size(); ++p) {
    l.processors.push_back(std::make_unique<PacketProcessor>(*interfaces_[p], counters_[lcore], pools_[socket],
                                                             l.engine.get(), 1024, static_cast<std::uint8_t>(p)));
    l.processors.back()->set_sctp_checksum_offload(ports_[p]->sctp_checksum_offload(),
                                                   config_.engine.crc32c_offload);
    processors.push_back(l.processors.back().get());
    lane_ports.push_back(LanePort{ports_[p]->id(), index < ports_[p]->rx_queues(), l.processors.back().get()});
  }
  l.event_sink = std::make_unique<runtime::LaneEventSink>(l.rings);
  std::vector<sctp::SctpPacketPath*> paths(processors.begin(), processors.end());
  l.engine->attach(std::move(paths), l.event_sink.get(), &counters_[lcore]);
  PollLoopConfig pc;
  pc.queue_id = static_cast<std::uint16_t>(index);
  pc.inbox = l.inbox;
  pc.burst = config_.burst;
  pc.idle_sleep_us = config_.idle_sleep_us;
  l.poll = std::make_unique<PollLoop>(pc, std::move(lane_ports), *l.engine, *l.event_sink, l.rings.commands);
  l.capture = std::make_unique<LaneCaptureTap>(static_cast<unsigned>(index), socket);
  l.poll->set_capture(l.capture.get());
  return {};
}

Expected<void, std::string> DpdkBackend::enable_poll_resolution(const handlespace::Handlespace& hs,
                                                                 handlespace::QsbrDomain& domain,
                                                                 const asap::AsapConfig& asap) {
  if (launched_ || (!lanes_.empty() && lanes_.front()->resolver))
    return unexpected(std::string("poll-lcore resolution must be enabled once, before start()"));
  for (std::size_t i = 0; i < lanes_.size(); ++i) {
    Lane& lane = *lanes_[i];
    try {
      lane.resolver = std::make_unique<runtime::LaneResolver>(hs, domain, asap, counters_[lane.lcore], clock_,
                                                     (asap.registrar_id ^ 0x2545f4914f6cdd1dull) + i);
    } catch (const std::exception& e) {
      return unexpected("poll-lcore resolution on lcore " + std::to_string(lane.lcore) + ": " + e.what());
    }
    lane.engine->set_local_answerer(lane.resolver.get());
    lane.engine->set_lane_order(lane.order.get());  // a resolution waits for its association's writes
    lane.poll->set_resolver(lane.resolver.get());
  }
  return {};
}

Expected<void, std::string> DpdkBackend::enable_lane_keepalives(const handlespace::Handlespace& hs,
                                                                handlespace::QsbrDomain& domain,
                                                                const asap::AsapConfig& asap) {
  if (launched_ || (!lanes_.empty() && lanes_.front()->keepalives))
    return unexpected(std::string("lane keep-alives must be enabled once, before start()"));
  for (std::size_t i = 0; i < lanes_.size(); ++i) {
    Lane& lane = *lanes_[i];
    try {
      lane.keepalives = runtime::LaneKeepAlives::for_engine(hs, domain, asap, counters_[lane.lcore],
                                                            *lane.event_sink, clock_, *lane.engine);
    } catch (const std::exception& e) {
      return unexpected("keep-alives on lcore " + std::to_string(lane.lcore) + ": " + e.what());
    }
    lane.poll->set_keepalives(lane.keepalives.get());
  }
  transport_->set_keepalives_on_lanes(true);
  return {};
}

Expected<void, std::string> DpdkBackend::start() {
  for (auto& port : ports_) port->wait_link_up(1000);  // virtual devices are up at once; a NIC may take a moment
  transport_->mark_started();
  for (auto& lane : lanes_) {
    const int rc = rte_eal_remote_launch(&PollLoop::lcore_main, lane->poll.get(), lane->lcore);
    if (rc != 0) {
      stop();
      return unexpected("cannot launch the poll lcore " + std::to_string(lane->lcore) + ": " + rte_strerror(-rc));
    }
    launched_ = true;
  }
  return {};
}

void DpdkBackend::stop() {
  if (!launched_) return;
  for (auto& lane : lanes_) lane->poll->request_stop();
  rte_eal_mp_wait_lcore();
  launched_ = false;
  if (transport_) transport_->drain_events();  // last closes (on_closed(kShutdown)) reach the handler
}

void DpdkBackend::free_rings(Lane& lane) {
  // Events/commands still in the rings own heap objects; the inbox holds mbufs.
  runtime::drain_and_free(lane.rings);
  lane.commands.reset();
  lane.events.reset();
  void* obj;
  if (lane.inbox != nullptr) {
    while (rte_ring_dequeue(lane.inbox, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
    rte_ring_free(lane.inbox);
  }
  lane.rings = {};
  lane.inbox = nullptr;
}

DpdkBackend::~DpdkBackend() {
  stop();
  capture_.reset();  // ends a running capture (its file is complete) while the taps still exist
  set_telemetry_source(nullptr);
  transport_.reset();
  // Per lane: loop, engine (usrsctp_finish on this thread: the poll lcores have stopped), then
  // the resolver (the engine forgets associations into it; reader offline), sink, processor.
  for (auto& lane : lanes_) {
    lane->poll.reset();
    lane->capture.reset();
    lane->engine.reset();
    lane->resolver.reset();
    lane->keepalives.reset();
    lane->event_sink.reset();
    lane->processors.clear();
  }
  for (auto& lane : lanes_) free_rings(*lane);
  lanes_.clear();  // private usrsctp copies are closed last
  ports_.clear();
  if (wake_fd_ >= 0) ::close(wake_fd_);
  for (rte_mempool* pool : pools_)
    if (pool != nullptr) rte_mempool_free(pool);
  eal_.reset();
}

void DpdkBackend::plan_rss_steering() {
  if (lanes_.size() <= 1) return;  // one lane owns everything
  bool v4 = true, v6 = true;
  std::string why;
  for (const auto& port : ports_) {
    const PortRssPrediction& p = port->rss_prediction();
    v4 = v4 && p.v4;
    v6 = v6 && p.v6;
    if (why.empty() && !p.why_not.empty()) why = "port " + std::to_string(port->id()) + ": " + p.why_not;
  }
  rss_note_ = why;
  // Every port was given the same key (rss_steering.hpp: its first 40 bytes decide), so one
  // RssSteering predicts them all.
  if (v4 || v6)
    rss_ = std::make_unique<RssSteering>(ports_.front()->rss_prediction().key, static_cast<unsigned>(lanes_.size()),
                                         v4, v6);
}

std::string DpdkBackend::describe() const {
  std::string lcores;
  for (const auto& lane : lanes_) lcores += (lcores.empty() ? "" : ",") + std::to_string(lane->lcore);
  std::string ports;
  for (std::size_t i = 0; i < ports_.size(); ++i) {
    const DpdkPort& p = *ports_[i];
    const InterfaceConfig& interface = *interfaces_[i];
    std::string addresses;
    for (const IpPrefix& a : interface.routes.addresses())
      addresses += ", " + (a.explicit_length ? a.to_string() : a.address.to_string());
    for (const std::string& r : interface.routes.describe_routes()) addresses += ", " + r;
    ports += std::string(i == 0 ? "port " : "; port ") + std::to_string(p.id()) + " " + p.name() + " " +
             mac_text(interface.mac) + " (" + p.link_text() + ", " + std::to_string(p.rx_queues()) +
             " RX queue" + (p.rx_queues() > 1 ? "s" : "") + (p.rss() ? ", RSS" : "") +
             (config_.interface.sctp_native ? ", " + dpdk::describe(p.sctp_checksum_offload()) : "") +
             addresses + ")";
  }
  std::string steering;
  if (lanes_.size() > 1) {
    steering = rss_ == nullptr ? ", software steering"
               : std::string(", RSS steering for ") +
                     (rss_->predicts(false) && rss_->predicts(true) ? "IPv4 and IPv6"
                      : rss_->predicts(false)                       ? "IPv4"
                                                                    : "IPv6");
    if (!rss_note_.empty()) steering += " (" + rss_note_ + ")";
  }
  return ports + ", poll lcore" + (lanes_.size() > 1 ? "s " : " ") + lcores + steering + ", SCTP over UDP " +
         std::to_string(config_.interface.sctp_udp_port) + (config_.interface.sctp_native ? ", native SCTP" : "") +
         (config_.interface.vlan_id != 0 ? ", VLAN " + std::to_string(config_.interface.vlan_id) : "");
}

}  // namespace poolreg::dpdk
