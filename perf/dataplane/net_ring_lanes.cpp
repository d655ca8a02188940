#include "perf/dataplane/net_ring_lanes.hpp"

#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>

#include <cstring>
#include <utility>

#include "dataplane/sctp/native_sctp_packet.hpp"

namespace poolreg::perf {
namespace {

constexpr std::uint8_t kIpProtocolUdp = 17;

bool open_port(NetRingWorld& w, NetRingLane& lane, const std::string& name) {
  lane.rx = rte_ring_create((name + "rx").c_str(), 32768, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
  lane.tx = rte_ring_create((name + "tx").c_str(), 32768, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
  lane.inbox = rte_ring_create((name + "in").c_str(), 32768, 0, RING_F_SC_DEQ);
  const int port = rte_eth_from_rings(name.c_str(), &lane.rx, 1, &lane.tx, 1, 0);
  if (lane.rx == nullptr || lane.tx == nullptr || lane.inbox == nullptr || port < 0) return false;
  lane.port = static_cast<std::uint16_t>(port);
  rte_eth_conf conf{};
  return rte_eth_dev_configure(lane.port, 1, 1, &conf) == 0 &&
         rte_eth_rx_queue_setup(lane.port, 0, 1024, 0, nullptr, w.pool) == 0 &&
         rte_eth_tx_queue_setup(lane.port, 0, 1024, 0, nullptr) == 0 && rte_eth_dev_start(lane.port) == 0;
}

}  // namespace

void NetRingLane::drain() {
  if (resolver) resolver->online();
  if (keepalives) keepalives->online();
  unsigned idle = 0;
  // Whether another thread may still hand work over is read BEFORE each iteration: reading it
  // after an idle one could miss work handed over in between (seen under load).
  for (;;) {
    const bool more = keep_polling.load(std::memory_order_acquire) || (pending && pending());
    idle = poll->iterate() == 0 ? idle + 1 : 0;
    if (!more && idle >= 2) break;
    if (idle >= dpdk::PollLoop::kIdleSpins && idle_sleep_us != 0) {
      if (resolver) resolver->offline();
      if (keepalives) keepalives->offline();
      rte_delay_us_sleep(idle_sleep_us);
      if (resolver) resolver->online();
      if (keepalives) keepalives->online();
    }
  }
  if (resolver) resolver->offline();
  if (keepalives) keepalives->offline();
}

void NetRingLane::count_control_events() {
  while (void* e = rings.events->pop()) {
    std::unique_ptr<runtime::LaneEvent> event(static_cast<runtime::LaneEvent*>(e));
    if (event->kind == runtime::LaneEvent::Kind::kMessage) ++forwarded;
    if (event->kind == runtime::LaneEvent::Kind::kClosed) ++closed;
  }
}

void NetRingLane::teardown() {
  poll.reset();
  engine.reset();
  keepalives.reset();
  resolver.reset();
  events.reset();
  processor.reset();
  count_control_events();
}

std::unique_ptr<NetRingLane> make_net_ring_lane(NetRingWorld& w, unsigned index,
                                                const NetRingLaneOptions& options) {
  auto lane = std::make_unique<NetRingLane>();
  lane->index = index;
  if (index >= kNetRingMaxLanes || !open_port(w, *lane, options.name + std::to_string(index))) {
    w.error = "ring port";
    return nullptr;
  }
  w.inboxes[index] = lane->inbox;
  lane->config.mac = kNetRingRegistrarMac;
  std::uint32_t ip;
  std::memcpy(&ip, kNetRingRegistrarIp, 4);
  lane->config.ipv4 = {ip};
  lane->config.sctp_native = true;
  sctp::UsrsctpStack* stack = nullptr;
  if (index > 0) {
    auto loaded = sctp::UsrsctpStack::load_private();
    if (!loaded) {
      w.error = loaded.error();
      return nullptr;
    }
    lane->private_stack = std::move(*loaded);
    stack = lane->private_stack.get();
  }
  sctp::SctpEngineConfig ec;
  ec.path_mtu = 1500 - 48;
  if (options.usrsctp_crc32c) ec.crc32c_offload = false;
  auto engine = sctp::SctpEngine::create(ec, w.ids, stack);
  if (!engine) {
    w.error = engine.error();
    return nullptr;
  }
  lane->engine = std::move(*engine);
  if (!lane->engine->listen(WireProtocol::kAsap, kNetRingAsapPort).has_value()) {
    w.error = "listen";
    return nullptr;
  }
  lane->engine->accept_native(kNetRingAsapPort);
  lane->processor =
      std::make_unique<dpdk::PacketProcessor>(lane->config, lane->counters, w.pool, lane->engine.get());
  lane->resolver =
      std::make_unique<runtime::LaneResolver>(*w.hs, *w.domain, *w.asap, lane->counters, w.clock, 11 + index);
  lane->engine->set_local_answerer(lane->resolver.get());
  // Order per association as poolregd keeps it (DpdkBackend::enable_poll_resolution): a resolution
  // waits for its association's writes; the control thread's LaneTransport finishes the stamps.
  lane->engine->set_lane_order(&lane->order);
  lane->rings.commands = &lane->commands;
  lane->rings.events = &lane->event_ring;
  lane->rings.wake_fd = w.wake_fd;
  lane->rings.order = &lane->order;
  lane->events = std::make_unique<runtime::LaneEventSink>(lane->rings);
  lane->engine->attach({lane->processor.get()}, lane->events.get(), &lane->counters);
  dpdk::PollLoopConfig pc;
  pc.inbox = lane->inbox;
  pc.idle_sleep_us = 0;
  lane->poll = std::make_unique<dpdk::PollLoop>(
      pc, std::vector<dpdk::LanePort>{dpdk::LanePort{lane->port, true, lane->processor.get()}}, *lane->engine,
      *lane->events, lane->rings.commands);
  if (options.loop_readers) lane->poll->set_resolver(lane->resolver.get());
  return lane;
}

bool enable_keepalives(NetRingWorld& w, NetRingLane& lane, const NetRingLaneOptions& options) {
  try {  // as DpdkBackend::enable_lane_keepalives: the engine's batched send and LocalConsumer
    lane.keepalives = runtime::LaneKeepAlives::for_engine(*w.hs, *w.domain, *w.asap, lane.counters, *lane.events,
                                                          w.clock, *lane.engine);
  } catch (const std::exception& e) {
    w.error = std::string("keep-alives: ") + e.what();
    return false;
  }
  if (options.loop_readers) lane.poll->set_keepalives(lane.keepalives.get());
  return true;
}

bool enqueue_frame(rte_mempool* pool, rte_ring* ring, const NetRingClient& client,
                   const std::vector<std::uint8_t>& sctp, bool native) {
  dpdk::UdpRoute r;
  r.src_mac = kNetRingClientMac;
  r.dst_mac = kNetRingRegistrarMac;
  std::memcpy(r.src_ip, kNetRingClientIp, 4);
  std::memcpy(r.dst_ip, kNetRingRegistrarIp, 4);
  r.src_port = client.udp_port;
  r.dst_port = kNetRingUdpPort;
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return false;
  const auto length = static_cast<std::uint16_t>(sctp.size());
  if (!(native ? dpdk::write_sctp_frame(m, r, sctp.data(), length)
               : dpdk::write_udp_frame(m, r, sctp.data(), length)) ||
      rte_ring_sp_enqueue(ring, m) != 0) {
    rte_pktmbuf_free(m);
    return false;
  }
  return true;
}

std::uint64_t collect(NetRingLane& lane, std::uint8_t count_type,
                      const std::function<void(NetRingClient&, PeerInput&)>& seen) {
  std::uint64_t counted = 0;
  void* objs[64];
  for (;;) {
    const unsigned n = rte_ring_sc_dequeue_burst(lane.tx, objs, 64, nullptr);
    if (n == 0) return counted;
    for (unsigned i = 0; i < n; ++i) {
      auto* m = static_cast<rte_mbuf*>(objs[i]);
      const auto* f = rte_pktmbuf_mtod(m, const std::uint8_t*);
      const std::size_t len = m->data_len;
      // Ethernet (14) + IPv4 (IHL) + UDP (8), built by write_udp_frame without VLAN; native:
      // Ethernet + IPv4 + SCTP (write_sctp_frame), the client found by its SCTP port.
      if (len > 14 + 20 + 12 && f[12] == 0x08 && f[13] == 0x00) {
        const std::size_t ip = 14, l4 = ip + std::size_t{f[ip] & 0x0fu} * 4;
        const bool native = f[ip + 9] == sctp::kIpProtocolSctp;
        if (!native && f[ip + 9] != kIpProtocolUdp) {
          rte_pktmbuf_free(m);
          continue;
        }
        const std::size_t at = native ? l4 : l4 + 8;
        const auto dst_port = static_cast<std::uint16_t>((f[l4 + 2] << 8) | f[l4 + 3]);
        for (NetRingClient& c : lane.of(native)) {
          if (c.udp_port != dst_port) continue;
          PeerInput in = consume(c.sctp, f + at, len - at, count_type);
          counted += in.counted;
          if (seen) seen(c, in);
          break;
        }
      }
      rte_pktmbuf_free(m);
    }
  }
}

std::string handshake(rte_mempool* pool, NetRingLane& lane, bool native) {
  const std::string which = "lane " + std::to_string(lane.index) + (native ? " (native)" : "");
  for (NetRingClient& c : lane.of(native))
    if (!enqueue_frame(pool, lane.rx, c, build_init(c.sctp), native)) return which + ": INIT not queued";
  lane.drain();
  // INIT ACKs: echo each client's cookie.
  std::vector<std::pair<NetRingClient*, std::vector<std::uint8_t>>> cookies;
  collect(lane, 0xff, [&](NetRingClient& c, PeerInput& in) {
    if (in.init_ack) cookies.emplace_back(&c, std::move(in.cookie));
  });
  if (cookies.size() != lane.of(native).size())
    return which + ": " + std::to_string(cookies.size()) + " INIT ACKs for " +
           std::to_string(lane.of(native).size()) + " INITs";
  for (auto& [c, cookie] : cookies)
    if (!enqueue_frame(pool, lane.rx, *c, build_cookie_echo(c->sctp, cookie), native))
      return which + ": COOKIE ECHO not queued";
  lane.drain();
  collect(lane, 0xff);
  for (NetRingClient& c : lane.of(native))
    if (!c.sctp.established) return which + ": no COOKIE ACK for port " + std::to_string(c.udp_port);
  return {};
}

}  // namespace poolreg::perf
